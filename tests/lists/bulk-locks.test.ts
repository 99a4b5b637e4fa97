/**
 * The bulk actions and the settings switch lock the rows they decide on, but must not lock out the writers that
 * only reference those rows: a plan writing reminder steps (foreign keys to the invoices, customers and messages),
 * a scoring run writing predictions, a sync writing anything of the tenant (foreign key to the tenant row). Each
 * such insert takes a KEY SHARE lock on the row it references, which FOR UPDATE blocks: a bulk "resolve all
 * matching" over thousands of invoices then deadlocked with the plan the previous click had queued (found on a
 * running server: a 500 "internal error", PostgreSQL's "deadlock detected"). FOR NO KEY UPDATE serialises the
 * deciders the same and lets the references through.
 *
 * Postgres only: PGlite has one connection, so no second transaction can hold a lock meanwhile.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type DbHandle } from '../../src/db/client';
import { customers, invoices } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { messagesOf, suiteSetup } from '../dunning-engine/fixtures';
import { usingPostgres } from '../helpers/db';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantId: string;
let other: DbHandle | undefined;

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, auth, tenantId } = suite);
  if (usingPostgres) {
    await planTenant(s, tenantId);
    other = await createDb({ url: s.dbh.url, max: 1 });
  }
}, 120_000);
afterAll(async () => {
  await other?.close();
});

/**
 * Runs `request` while another connection holds a KEY SHARE lock on `table` row `id` (what inserting a row that
 * references it takes), and answers whether the request finished without waiting for that transaction.
 */
async function finishesWhileReferenced(
  table: 'invoices' | 'customers' | 'dunning_messages' | 'tenants',
  id: string,
  request: () => Promise<{ statusCode: number; body: string }>,
): Promise<{ waited: boolean; statusCode: number; body: string }> {
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => {
    locked = r;
  });
  const holder = other!.db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${sql.raw(table)} where id = ${id} for key share`);
    locked();
    await held;
  });
  await isLocked;
  try {
    const answer = request();
    const waited = await Promise.race([
      answer.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), 3_000)),
    ]);
    release();
    const r = await answer;
    return { waited, statusCode: r.statusCode, body: r.body };
  } finally {
    release();
    await holder;
  }
}

describe.skipIf(!usingPostgres)('bulk actions do not wait for rows being referenced', () => {
  it('invoices/bulk dispute and resolve', async () => {
    const [inv] = await s.db
      .select({ id: invoices.id })
      .from(invoices)
      .where(and(eq(invoices.tenantId, tenantId), eq(invoices.status, 'open')))
      .limit(1);
    for (const action of ['dispute', 'resolve']) {
      const r = await finishesWhileReferenced('invoices', inv!.id, () =>
        app.inject({
          method: 'POST',
          url: `/api/v1/tenants/${tenantId}/invoices/bulk`,
          headers: auth,
          payload: { action, ids: [inv!.id] },
        }),
      );
      expect(r.waited, action).toBe(false);
      expect(r.statusCode, r.body).toBe(200);
      expect(JSON.parse(r.body)).toMatchObject({ applied: 1 });
    }
  });

  it('customers/bulk pause', async () => {
    const [c] = await s.db
      .select({ id: customers.id })
      .from(customers)
      .where(eq(customers.tenantId, tenantId))
      .limit(1);
    const r = await finishesWhileReferenced('customers', c!.id, () =>
      app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${tenantId}/customers/bulk`,
        headers: auth,
        payload: { action: 'pause', ids: [c!.id], until: '2013-08-01' },
      }),
    );
    expect(r.waited).toBe(false);
    expect(r.statusCode, r.body).toBe(200);
  });

  it('dunning/messages/bulk skip', async () => {
    const m = (await messagesOf(s, tenantId)).find((x) =>
      ['planned', 'awaiting_approval', 'queued'].includes(x.status),
    );
    expect(m).toBeDefined();
    const r = await finishesWhileReferenced('dunning_messages', m!.id, () =>
      app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${tenantId}/dunning/messages/bulk`,
        headers: auth,
        payload: { action: 'skip', ids: [m!.id] },
      }),
    );
    expect(r.waited).toBe(false);
    expect(r.statusCode, r.body).toBe(200);
  });

  it('PATCH settings (the tenant row every write of the tenant references)', async () => {
    const r = await finishesWhileReferenced('tenants', tenantId, () =>
      app.inject({
        method: 'PATCH',
        url: `/api/v1/tenants/${tenantId}/settings`,
        headers: auth,
        payload: { sensitivity: 1 },
      }),
    );
    expect(r.waited).toBe(false);
    expect(r.statusCode, r.body).toBe(200);
  });
});
