import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb, rowsOf } from '../../src/db/client';

const dir = mkdtempSync(path.join(tmpdir(), 'duely-initdb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a new PGlite data directory (initdb in a child process)', () => {
  it('is created complete and migrated, replacing the leftovers of an interrupted first start, and reopens with its data', async () => {
    // What an initdb killed half-way leaves behind: a staging directory, and the empty target.
    mkdirSync(path.join(dir, 'pglite.initdb'), { recursive: true });
    writeFileSync(path.join(dir, 'pglite.initdb', 'PG_VERSION'), 'half');
    mkdirSync(path.join(dir, 'pglite'), { recursive: true });

    const first = await createDb({ dataDir: dir });
    // The child also ran the migrations: the schema is there before this process migrates anything.
    const [schemaRow] = rowsOf<{ t: string | null }>(
      await first.db.execute(sql`select to_regclass('public.tenants')::text as t`),
    );
    expect(schemaRow!.t).toBe('tenants');
    await first.db.execute(sql`create table kept (v text)`);
    await first.db.execute(sql`insert into kept values ('still here')`);
    await first.close();
    expect(readdirSync(dir).sort()).toEqual(['pglite']);

    const again = await createDb({ dataDir: dir });
    try {
      expect(rowsOf<{ v: string }>(await again.db.execute(sql`select v from kept`))).toEqual([
        { v: 'still here' },
      ]);
      const [settings] = rowsOf<{ sb: string }>(
        await again.db.execute(sql`select current_setting('shared_buffers') as sb`),
      );
      expect(settings!.sb).toBe('32MB');
    } finally {
      await again.close();
    }
  });
});
