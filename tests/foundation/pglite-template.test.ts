import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, rowsOf } from '../../src/db/client';
import { PGLITE_SETTINGS } from '../../src/db/pglite-dir';
import {
  installedPgliteVersion,
  MANIFEST_FILE,
  pgliteTemplate,
  TEMPLATE_FILE,
} from '../../src/db/pglite-template.mjs';

const dir = mkdtempSync(path.join(tmpdir(), 'duely-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS];

function storedBlob(): Blob {
  const t = pgliteTemplate();
  if (!('blob' in t)) throw new Error(t.reason);
  return t.blob;
}

/** What initdb decides about a cluster, read back from a running database. */
async function clusterFacts(pg: PGlite) {
  const q = async (text: string) => (await pg.query<Record<string, unknown>>(text)).rows;
  return {
    databases: await q(
      `select datname, pg_encoding_to_char(encoding) as encoding, datcollate, datctype, datlocprovider,
              datistemplate, datallowconn from pg_database order by datname`,
    ),
    roles: await q(`select rolname, rolsuper from pg_roles order by rolname`),
    settings: await q(
      `select name, setting from pg_settings where source not in ('default', 'override', 'session')
       order by name`,
    ),
    catalog: await q(
      `select (select count(*) from pg_class)::int as classes, (select count(*) from pg_proc)::int as procs,
              (select count(*) from pg_type)::int as types, (select count(*) from pg_collation)::int as collations,
              current_setting('server_version') as version, current_setting('lc_messages') as lc_messages,
              current_setting('TimeZone') as tz, current_setting('DateStyle') as datestyle,
              current_setting('default_text_search_config') as ts`,
    ),
  };
}

const systemId = async (pg: { query: PGlite['query'] }) =>
  String(
    (await pg.query<{ id: string }>('select system_identifier::text as id from pg_control_system()')).rows[0]
      ?.id,
  );

describe('the stored PGlite data directory (src/db/pglite-template.*)', () => {
  it('was made by the installed PGlite and is the bytes its manifest names (else: npm run db:template)', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8'));
    expect(manifest.pglite).toBe(installedPgliteVersion());
    expect(pgliteTemplate()).toHaveProperty('blob');
  });

  it('is refused when made by another PGlite version or not the stored bytes, so initdb runs instead', () => {
    const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8'));
    const otherVersion = path.join(dir, 'other-version.json');
    writeFileSync(otherVersion, JSON.stringify({ ...manifest, pglite: '0.0.1' }));
    expect(pgliteTemplate({ template: TEMPLATE_FILE, manifest: otherVersion })).toEqual({
      reason: expect.stringContaining(`PGlite 0.0.1, ${installedPgliteVersion()} is installed`),
    });
    const damaged = path.join(dir, 'damaged.tar.br');
    const bytes = readFileSync(TEMPLATE_FILE);
    bytes.writeUInt8(bytes.readUInt8(bytes.length >> 1) ^ 0xff, bytes.length >> 1);
    writeFileSync(damaged, bytes);
    expect(pgliteTemplate({ template: damaged, manifest: MANIFEST_FILE })).toEqual({
      reason: expect.stringContaining('sha256'),
    });
    expect(pgliteTemplate({ template: path.join(dir, 'missing'), manifest: MANIFEST_FILE })).toEqual({
      reason: expect.stringContaining('no stored PGlite data directory'),
    });
  });

  it('unpacks into the cluster initdb makes: databases, locale, roles, settings, catalogs', async () => {
    const fromInitdb = await PGlite.create('memory://', { startParams });
    const fromTemplate = await PGlite.create('memory://', { startParams, loadDataDir: storedBlob() });
    try {
      const [a, b] = [await clusterFacts(fromInitdb), await clusterFacts(fromTemplate)];
      expect(b).toEqual(a);
      expect(b.databases.map((d) => d.datname)).toEqual(['postgres', 'template0', 'template1']);
      // initdb stamps a new cluster identifier; the unpacked one keeps the stored one.
      expect(await systemId(fromTemplate)).not.toBe(await systemId(fromInitdb));
    } finally {
      await fromInitdb.close();
      await fromTemplate.close();
    }
  });

  it('is what a first start on disk and an in-memory database are made from (no initdb), and both migrate', async () => {
    const probe = await PGlite.create('memory://', { startParams, loadDataDir: storedBlob() });
    const stored = await systemId(probe);
    await probe.close();

    const onDisk = await createDb({ dataDir: path.join(dir, 'data') });
    const inMemory = await createDb({ dataDir: 'memory://' });
    try {
      await inMemory.migrate();
      for (const h of [onDisk, inMemory]) {
        expect(await systemId(h.pglite!)).toBe(stored);
        const [row] = rowsOf<{ t: string | null }>(
          await h.db.execute(sql`select to_regclass('public.invoices')::text as t`),
        );
        expect(row!.t).toBe('invoices');
      }
    } finally {
      await onDisk.close();
      await inMemory.close();
    }
  });
});
