/**
 * executeNamed (src/db/client.ts): on Postgres a named (prepared) statement, described once per connection, so the
 * statements a sync page issues together go out together instead of two round trips each; on PGlite the same as
 * `tx.execute`. Its rows, its place among statements issued with it, and its own error stay those of `tx.execute`.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DbHandle, executeNamed, rowsOf } from '../../src/db/client';
import { createTestDb, usingPostgres } from '../helpers/db';

let h: DbHandle;

beforeAll(async () => {
  h = await createTestDb();
  await h.db.execute(sql`create table named_probe (k text primary key, n int not null check (n >= 0))`);
});
afterAll(async () => {
  await h?.close();
});

const probe = (k: string) => sql`select k, n from named_probe where k = ${k}`;

describe('executeNamed', () => {
  it('answers the rows tx.execute answers, typed alike', async () => {
    await h.db.transaction(async (tx) => {
      await tx.execute(sql`insert into named_probe (k, n) values ('a', 1), ('b', 2)`);
      expect(await executeNamed(tx, probe('a'))).toEqual(rowsOf(await tx.execute(probe('a'))));
      expect(await executeNamed(tx, probe('b'))).toEqual([{ k: 'b', n: 2 }]);
      expect(await executeNamed(tx, probe('none'))).toEqual([]);
    });
  });

  it('runs in issue order with the statements issued beside it, each seeing the writes before it', async () => {
    const seen = await h.db.transaction(async (tx) => {
      const write = async (k: string, n: number) =>
        tx.execute(sql`insert into named_probe (k, n) values (${k}, ${n})`);
      const all = await Promise.all([
        write('c', 3),
        executeNamed<{ n: number }>(tx, sql`update named_probe set n = n + 10 where k = ${'c'} returning n`),
        write('d', 4),
        executeNamed<{ k: string; n: number }>(tx, probe('d')),
      ]);
      return [all[1], all[3]];
    });
    expect(seen).toEqual([[{ n: 13 }], [{ k: 'd', n: 4 }]]);
  });

  it('fails with its own error, and the statements issued behind it with the aborted transaction', async () => {
    const outcome = await h.db
      .transaction(async (tx) => {
        const r = await Promise.allSettled([
          executeNamed(tx, sql`update named_probe set n = ${-1} where k = ${'a'}`),
          executeNamed(tx, probe('a')),
        ]);
        throw r[0]?.status === 'rejected' ? r[0].reason : new Error('the update did not fail');
      })
      .catch((e: unknown) => e as Error & { cause?: Error });
    expect(outcome.message).toMatch(/update named_probe/);
    expect(String(outcome.cause?.message ?? outcome.message)).toMatch(/named_probe_n_check|check constraint/);
    expect(rowsOf(await h.db.execute(probe('a')))).toEqual([{ k: 'a', n: 1 }]);
  });

  it.runIf(usingPostgres)('is a prepared statement of the connection, prepared once and reused', async () => {
    const text = 'select k, n from named_probe where k = $1';
    const prepared = await h.db.transaction(async (tx) => {
      await executeNamed(tx, probe('a'));
      await executeNamed(tx, probe('b'));
      return rowsOf<{ n: number }>(
        await tx.execute(
          sql`select count(*)::int as n from pg_prepared_statements where statement = ${text}`,
        ),
      );
    });
    expect(prepared).toEqual([{ n: 1 }]);
  });
});
