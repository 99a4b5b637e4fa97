/**
 * A statement someone asked for, held for a newer upload of a CSV company's ledger (ledger_stale), goes back to
 * planned when sending is paused. It is no longer held for anything then: the lists must not say its invoices wait
 * for an upload, nor may the Dashboard leave it out of what is due (before stop 40 it kept ledger_stale until
 * sending resumed). Its approval stands, and is what it says.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { customers, dunningMessages, tenants } from '../../src/db/schema';
import { applySendingSwitches } from '../../src/dunning/go-live';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, suiteSetup, tenantRow } from '../dunning-engine/fixtures';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;
let clock: ManualClock;
const suite = suiteSetup();

beforeAll(async () => {
  ({ s, app, tenantId: tenant, clock, auth } = suite);
}, 120_000);

async function switchPaused(paused: boolean) {
  const before = await tenantRow(s, tenant);
  await s.db.transaction(async (tx) => {
    await tx
      .update(tenants)
      .set({ settings: sql`${tenants.settings} || ${JSON.stringify({ sendingPaused: paused })}::jsonb` })
      .where(eq(tenants.id, tenant));
    const [after] = await tx.select().from(tenants).where(eq(tenants.id, tenant));
    await applySendingSwitches(s, tx, before, after!);
  });
}

describe('a requested statement held for an upload, then sending paused', () => {
  it('is planned with its approval, not held for an upload, in the row and in the lists', async () => {
    const [slow] = await s.db
      .select({ id: customers.id })
      .from(customers)
      .where(and(eq(customers.tenantId, tenant), eq(customers.externalId, 'SLOW')));
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/customers/bulk`,
      headers: auth,
      payload: { action: 'send_statement', ids: [slow!.id] },
    });
    expect(r.statusCode, r.body).toBe(200);
    const [statement] = await s.db
      .select()
      .from(dunningMessages)
      .where(and(eq(dunningMessages.customerId, slow!.id), eq(dunningMessages.template, 'statement')));
    await approveAll(s, tenant);
    // Four days without an upload (reminders wait once the last one is over 3 days old); business hours.
    clock.set(new Date(Date.parse(clock.now().toISOString().slice(0, 10)) + 4 * 86_400_000 + 10 * 3_600_000));
    expect(await sendMessage(s, statement!.id, { transport: null })).toMatchObject({
      outcome: 'held',
      code: 'ledger_stale',
    });

    await switchPaused(true);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, statement!.id));
    expect(row).toMatchObject({
      status: 'planned',
      statusCode: 'approved',
      statusReason: 'Approved by reviewer',
    });
    const invoices = (
      await app.inject({ url: `/api/v1/tenants/${tenant}/invoices?status=open&limit=50`, headers: auth })
    ).json().items as { id: string; nextReminderWaits: string | null }[];
    const listed = invoices.filter((i) => row!.invoiceIds.includes(i.id));
    expect(listed.length).toBeGreaterThan(0);
    for (const i of listed) expect(i.nextReminderWaits, i.id).not.toBe('upload');
  });
});
