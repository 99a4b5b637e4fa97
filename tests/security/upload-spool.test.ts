/**
 * CSV uploads are spooled to a temporary file with a byte count and imported from it as a stream: nothing of the
 * file is held in memory, a slow client holds no database transaction, and a file over IMPORT_MAX_MB (raw or
 * multipart, with or without a Content-Length) is refused with the limit and what to do, leaving no tenant and no
 * temporary file behind.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findTenant } from '../../src/db/queries/tenants';
import { spoolUpload, UploadTooLarge } from '../../src/http/upload-spool';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
const t = suiteTestApp({ token: 'operator', env: { IMPORT_MAX_MB: '1' } });
beforeAll(() => {
  ({ services: s, app } = t);
});

const row = (i: number) => [
  'ACME',
  `INV-${String(i).padStart(6, '0')}`,
  '2013-05-02',
  '2013-06-01',
  '100.00',
  'USD',
  i % 2 ? '2013-05-30' : '',
  'email',
  'US',
];
/** A valid canonical CSV of about `bytes` bytes. */
const csvOf = (bytes: number) => {
  const rows = [];
  for (let i = 0; rows.length * 60 < bytes; i++) rows.push(row(i));
  return csv(rows);
};
const TOO_LARGE = {
  code: 'file_too_large',
  message:
    'The file was not imported: it is larger than 1 MB. Split it by invoice date (one file per year, say) and import the parts one after the other, or use `duely import` on the server.',
};
const form = (body: string, boundary = '----duely') =>
  `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ledger.csv"\r\nContent-Type: text/csv\r\n\r\n${body}\r\n--${boundary}--\r\n`;

describe('CSV upload through a temporary file', () => {
  it('imports a raw upload just under the limit, streamed without a Content-Length', async () => {
    const body = csvOf(900_000);
    expect(Buffer.byteLength(body)).toBeLessThan(1_000_000);
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/chunked/imports',
      headers: { ...t.auth, 'content-type': 'text/csv' },
      // A stream payload goes out chunked: the server cannot know the size before reading.
      payload: Readable.from([body.slice(0, 1000), body.slice(1000)]),
    });
    expect(r.statusCode).toBe(201);
    const rows = body.trim().split('\n').length - 1;
    expect(r.json()).toMatchObject({ rows, invoices: { inserted: rows, open: Math.ceil(rows / 2) } });
  });

  it('imports a multipart upload and keeps its file name', async () => {
    const body = csvOf(5_000);
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/formco/imports',
      headers: { ...t.auth, 'content-type': 'multipart/form-data; boundary=----duely' },
      payload: form(body),
    });
    expect(r.statusCode).toBe(201);
    const runs = (await app.inject({ url: '/api/v1/tenants/formco/sync-runs', headers: t.auth })).json();
    expect(runs.items[0].source.fileName).toBe('ledger.csv');
  });

  it('a file name with a NUL or another control character, or absurdly long, is kept cleaned and bounded: the file imports (not a 500)', async () => {
    // The multipart file name is display data from the client; PostgreSQL cannot store U+0000 (the request-wide
    // NUL guard never sees inside a multipart body), and nothing bounded its length.
    const named = (filename: string) =>
      `--x\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n${csvOf(2_000)}\r\n--x--\r\n`;
    for (const [tenant, filename, kept] of [
      ['nulname', 'led\u0000ger\u001b.csv', 'ledger.csv'],
      ['longname', `${'a'.repeat(5_000)}.csv`, 'a'.repeat(255)],
    ] as const) {
      const r = await app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${tenant}/imports`,
        headers: { ...t.auth, 'content-type': 'multipart/form-data; boundary=x' },
        payload: named(filename),
      });
      expect(r.statusCode, r.body).toBe(201);
      const runs = (await app.inject({ url: `/api/v1/tenants/${tenant}/sync-runs`, headers: t.auth })).json();
      expect(runs.items[0].source.fileName).toBe(kept);
    }
  });

  it('a value the database cannot store is a 422 refusing the file, never a 500 (the import’s last safety net)', async () => {
    // Reached past the route (which cleans the file name): the net must recognise the database's refusal, which
    // arrives wrapped by the query builder.
    const err = await s.sync
      .importCsv(csvOf(2_000), { tenantName: 'netco', fileName: 'a\u0000b.csv', now: s.clock.now() })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_csv', status: 422 });
    expect(await findTenant(s.db, 'netco')).toBeNull();
  });

  it('refuses a file over IMPORT_MAX_MB with the limit and what to do: raw with a length, raw chunked, multipart', async () => {
    const big = csvOf(1_100_000);
    expect(Buffer.byteLength(big)).toBeGreaterThan(1_000_000);
    const answers = [
      await app.inject({
        method: 'POST',
        url: '/api/v1/tenants/toobig/imports',
        headers: { ...t.auth, 'content-type': 'text/csv' },
        payload: big,
      }),
      await app.inject({
        method: 'POST',
        url: '/api/v1/tenants/toobig/imports',
        headers: { ...t.auth, 'content-type': 'text/csv' },
        payload: Readable.from([big.slice(0, 500_000), big.slice(500_000)]),
      }),
      await app.inject({
        method: 'POST',
        url: '/api/v1/tenants/toobig/imports',
        headers: { ...t.auth, 'content-type': 'multipart/form-data; boundary=----duely' },
        payload: form(big),
      }),
    ];
    for (const r of answers) {
      expect(r.statusCode).toBe(413);
      expect(r.json().error).toEqual(TOO_LARGE);
    }
    expect(await findTenant(s.db, 'toobig')).toBeNull();
  });

  it('reads nothing of an unauthenticated upload', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/anon/imports',
      headers: { 'content-type': 'text/csv' },
      payload: csvOf(2_000),
    });
    expect(r.statusCode).toBe(401);
    expect(await findTenant(s.db, 'anon')).toBeNull();
  });
});

describe('spoolUpload', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'spool-test-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('copies the bytes exactly; taking the file unlinks it at once', async () => {
    const bytes = Buffer.from('a,b\n1,ü\n'.repeat(10_000));
    const up = await spoolUpload(Readable.from([bytes.subarray(0, 7), bytes.subarray(7)]), bytes.length, dir);
    expect(up.bytes).toBe(bytes.length);
    expect(await readdir(dir)).toHaveLength(1);
    // Taking the file removes its name before a byte is read: a process killed mid-import leaves nothing.
    const stream = await up.take();
    expect(await readdir(dir)).toEqual([]);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
    await up.remove();
  });

  it('stops past the limit, leaves no file, and pauses the source instead of destroying it', async () => {
    const source = new PassThrough();
    const spooling = spoolUpload(source, 10, dir);
    source.write('12345');
    source.write('678901');
    await expect(spooling).rejects.toBeInstanceOf(UploadTooLarge);
    expect(source.destroyed).toBe(false);
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves no file when the client goes away mid-upload', async () => {
    const source = new PassThrough();
    const spooling = spoolUpload(source, 1_000, dir);
    source.write('partial,');
    source.destroy(new Error('aborted'));
    await expect(spooling).rejects.toThrow('aborted');
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes a file only its owner can read', async () => {
    const up = await spoolUpload(Readable.from(['x']), 10, dir);
    const [folder] = await readdir(dir);
    const file = path.join(dir, folder!, 'upload.csv');
    expect(existsSync(file)).toBe(true);
    expect(await readFile(file, 'utf8')).toBe('x');
    const { stat } = await import('node:fs/promises');
    expect((await stat(file)).mode & 0o077).toBe(0);
    await up.remove();
  });
});
