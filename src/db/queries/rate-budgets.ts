/**
 * The shared request budgets (rate_budgets) behind sync/rate-budget.ts: one row per key, times in the database's clock.
 * A reservation's statements are named (executeNamed: each reads or writes one row by its key), so the ones issued
 * together go out together instead of waiting for a describe each: every provider request takes a reservation.
 */
import { sql } from 'drizzle-orm';
import { type DbOrTx, executeNamed, type Tx } from '../client';

/** Pauses the key's budget for `ms` from now (the later pause wins). */
export async function pauseRateBudget(db: DbOrTx, key: string, ms: number): Promise<void> {
  await db.execute(sql`
      insert into rate_budgets (key, paused_until) values (${key}, clock_timestamp() + ${ms} * interval '1 millisecond')
      on conflict (key) do update set paused_until = greatest(
        coalesce(rate_budgets.paused_until, excluded.paused_until), excluded.paused_until)`);
}

export async function ensureRateBudget(tx: Tx, key: string): Promise<void> {
  await executeNamed(tx, sql`insert into rate_budgets (key) values (${key}) on conflict (key) do nothing`);
}

/**
 * The key's budget row, locked for the transaction: request start times (comma-separated epoch ms), the
 * database's now and the pause end (epoch ms), or undefined when there is no row.
 */
export async function lockRateBudget(
  tx: Tx,
  key: string,
): Promise<{ starts: string; now: number; paused: number | null } | undefined> {
  const [row] = await executeNamed<{ starts: string; now: number; paused: number | null }>(
    tx,
    sql`
          select array_to_string(starts, ',') as starts,
                 (extract(epoch from clock_timestamp()) * 1000)::float8 as now,
                 (extract(epoch from paused_until) * 1000)::float8 as paused
          from rate_budgets where key = ${key} for update`,
  );
  return row;
}

export async function setRateBudgetStarts(tx: Tx, key: string, starts: number[]): Promise<void> {
  await executeNamed(
    tx,
    sql`update rate_budgets set starts = ${`{${starts.join(',')}}`}::float8[] where key = ${key}`,
  );
}
