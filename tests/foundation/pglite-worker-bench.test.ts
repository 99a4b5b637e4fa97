/**
 * The PGlite-on-a-worker-thread experiment (bench/pglite-worker.ts, `BENCH_PGLITE_WORKER=1`; README "PGlite on a
 * worker thread"): not the app's driver, but its figures are only worth something if it behaves like PGlite, so the
 * same statements through drizzle must give the same rows and types as an in-thread PGlite, errors keep their
 * fields, transactions roll back and are serialised, and a dead worker is an error rather than a hang.
 */
import { PGlite, types } from '@electric-sql/pglite';
import { eq, sql } from 'drizzle-orm';
import {
  bigint,
  customType,
  date,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import { drizzle } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteProxy } from '../../bench/pglite-worker';
import { copyFrom } from '../../src/db/copy';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

const things = pgTable('things', {
  id: integer('id').primaryKey(),
  name: text('name').notNull().unique('things_name_key'),
  at: timestamp('at', { withTimezone: true, mode: 'date' }),
  day: date('day'),
  amount: numeric('amount', { precision: 14, scale: 2 }),
  doc: jsonb('doc').$type<Record<string, unknown>>(),
  big: bigint('big', { mode: 'bigint' }),
  tags: text('tags').array(),
  blob: bytea('blob'),
});

const DDL = `create table things (
  id integer primary key, name text not null constraint things_name_key unique, at timestamptz, day date,
  amount numeric(14,2), doc jsonb, big bigint, tags text[], blob bytea);
  create table counter (n integer not null); insert into counter values (0);`;

const ROWS = [
  {
    id: 1,
    name: 'full',
    at: new Date('2026-12-06T03:04:05.678Z'),
    day: '2026-02-28',
    amount: '1234.50',
    doc: { a: [1, 'two', null], nested: { ok: true } },
    big: 9_007_199_254_740_993n,
    tags: ['x', 'y,z', 'quote"d', ''],
    blob: Buffer.from([0, 1, 2, 255]),
  },
  { id: 2, name: 'nulls', at: null, day: null, amount: null, doc: null, big: null, tags: null, blob: null },
];

let direct: PGlite;
let proxy: PgliteProxy;

beforeAll(async () => {
  direct = await PGlite.create('memory://');
  proxy = await PgliteProxy.create('memory://', []);
  await direct.exec(DDL);
  await proxy.exec(DDL);
}, 60_000);

afterAll(async () => {
  await direct.close();
  await proxy.close();
});

const viaDrizzle = (client: PGlite | PgliteProxy) => drizzle(client as PGlite);

describe('PGlite on a worker thread (bench experiment)', () => {
  it('gives the same rows and types as an in-thread PGlite, through drizzle and raw queries', async () => {
    for (const client of [direct, proxy]) await viaDrizzle(client).insert(things).values(ROWS);
    const read = async (client: PGlite | PgliteProxy) => ({
      drizzle: await viaDrizzle(client).select().from(things).orderBy(things.id),
      raw: (await client.query('select * from things order by id')).rows,
      execute: await viaDrizzle(client).execute(sql`select id, amount, at, big from things order by id`),
      arrayMode: (await client.query('select id, doc from things order by id', [], { rowMode: 'array' }))
        .rows,
    });
    const a = await read(direct);
    const b = await read(proxy);
    expect(b).toEqual(a);
    expect(b.drizzle[0]).toEqual(ROWS[0]);
    expect(b.drizzle[0]!.at).toBeInstanceOf(Date);
    expect(Buffer.isBuffer(b.drizzle[0]!.blob)).toBe(true);
    expect(typeof b.drizzle[0]!.big).toBe('bigint');
    // A caller's own parser functions cannot cross to the worker: applied on this side, to the same effect.
    const parsers = {
      [types.INT4]: (v: string) => Number(v) * 10,
      [types.TIMESTAMPTZ]: (v: string) => `at ${v}`,
    };
    const custom = async (client: PGlite | PgliteProxy) =>
      (await client.query('select id, at from things order by id', [], { parsers })).rows;
    expect(await custom(proxy)).toEqual(await custom(direct));
    expect((await custom(proxy))[0]).toEqual({ id: 10, at: 'at 2026-12-06 03:04:05.678+00' });
    // Without drizzle's parsers PGlite's own apply (in the worker): a Date, a parsed json, a bigint.
    expect((b.raw[0] as { at: unknown }).at).toBeInstanceOf(Date);
  });

  it('keeps a database error’s code, constraint and detail', async () => {
    const errOf = async (client: PGlite | PgliteProxy) =>
      viaDrizzle(client)
        .insert(things)
        .values({ id: 99, name: 'full' })
        .then(
          () => null,
          (e: Error & { cause?: Record<string, unknown> }) => e.cause,
        );
    const [a, b] = [await errOf(direct), await errOf(proxy)];
    expect(b).toBeInstanceOf(Error);
    expect(b).toMatchObject({ code: '23505', constraint: 'things_name_key', table: 'things' });
    for (const k of ['message', 'code', 'constraint', 'detail', 'severity', 'schema', 'table'])
      expect([k, b?.[k]]).toEqual([k, a?.[k]]);
    expect(b?.constructor?.name).toBe(a?.constructor?.name);
  });

  it('rolls back a failing transaction and a failing savepoint only', async () => {
    const db = viaDrizzle(proxy);
    await expect(
      db.transaction(async (tx) => {
        await tx.update(things).set({ name: 'renamed' }).where(eq(things.id, 2));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await db.transaction(async (tx) => {
      await tx.update(things).set({ amount: '1.00' }).where(eq(things.id, 2));
      await tx
        .transaction(async (inner) => {
          await inner.update(things).set({ amount: '2.00' }).where(eq(things.id, 2));
          await inner.insert(things).values({ id: 98, name: 'full' }); // unique violation
        })
        .catch(() => {});
    });
    const [row] = await db.select().from(things).where(eq(things.id, 2));
    expect(row).toMatchObject({ name: 'nulls', amount: '1.00' });
    // Also a commit that fails (the transaction was aborted by an error that was caught) is reported.
    await expect(
      proxy.transaction(async (tx) => {
        await tx.query('select 1/0').catch(() => {});
      }),
    ).rejects.toThrow();
    expect((await proxy.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('serialises transactions, and makes statements outside one wait for it', async () => {
    const db = viaDrizzle(proxy);
    const bump = () =>
      db.transaction(async (tx) => {
        const [{ n }] = (await tx.execute(sql`select n from counter`)).rows as [{ n: number }];
        await new Promise((r) => setTimeout(r, 20));
        await tx.execute(sql`update counter set n = ${n + 1}`);
      });
    const outside = (async () => {
      await new Promise((r) => setTimeout(r, 5));
      return (await proxy.query<{ n: number }>('select n from counter')).rows[0]!.n;
    })();
    await Promise.all([bump(), bump(), bump()]);
    expect((await proxy.query<{ n: number }>('select n from counter')).rows[0]!.n).toBe(3);
    // The outside read, issued while the first transaction was open, saw it committed, not half done.
    expect(await outside).toBeGreaterThanOrEqual(1);
  });

  it('carries a COPY … FROM blob inside a drizzle transaction (the CSV import’s staging, src/db/copy.ts)', async () => {
    const db = viaDrizzle(proxy);
    await proxy.exec('create table staged (a integer, b text)');
    await db.transaction(async (tx) => {
      await copyFrom(tx as never, 'staged (a, b)', 'format csv', ['1,one\n', Buffer.from('2,"two, too"\n')]);
    });
    expect((await proxy.query('select * from staged order by a')).rows).toEqual([
      { a: 1, b: 'one' },
      { a: 2, b: 'two, too' },
    ]);
    // An option the proxy does not carry is refused, not silently dropped.
    await expect(proxy.query('select 1', [], { serializers: {} } as never)).rejects.toThrow(/not supported/);
  }, 20_000);

  it('delivers notifications to listeners', async () => {
    const got: string[] = [];
    const unlisten = await proxy.listen('chan', (p) => got.push(p));
    await proxy.query(`select pg_notify('chan', 'hello')`);
    await new Promise((r) => setTimeout(r, 50));
    await unlisten();
    expect(got).toEqual(['hello']);
  });

  it('reports a dead worker as an error, for the call in flight and every later one', async () => {
    const victim = await PgliteProxy.create('memory://', []);
    const inFlight = victim.query('select pg_sleep(2)');
    await new Promise((r) => setTimeout(r, 100));
    await victim.thread.terminate();
    await expect(inFlight).rejects.toThrow(/PGlite worker exited/);
    await expect(victim.query('select 1')).rejects.toThrow(/PGlite worker exited/);
  }, 60_000);
});
