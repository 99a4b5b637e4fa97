/**
 * An approval covers the words the reviewer read. A message taken back and planned again under the same key (a
 * pause lifted) keeps its approval only while it would read the same: the reliable-payer thanks ("You have always
 * paid reliably") and "Despite our earlier reminders" come from the plan's snapshot, and a re-plan that changes
 * them changes the email. Before, the carry-over compared invoices, amounts, steps, tone, template, copy and
 * credits only, and the new wording went out on the old approval.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approvalRule, approveAll, messagesOf, suiteSetup, uploadToday } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
  // Every step waits for a reviewer: each reminder below is one a person approved.
  await approvalRule(app, tenantId, auth, { type: 'always' });
}, 120_000);

const api = (method: 'PUT' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });

async function pause(customer: string): Promise<string> {
  const put = await api('PUT', '/overrides', { customerId: customer, pausedUntil: '2099-01-01' });
  expect(put.statusCode, put.body).toBe(200);
  return put.json().id as string;
}
async function lift(overrideId: string) {
  expect((await api('DELETE', `/overrides/${overrideId}`)).statusCode).toBe(204);
}

/** Days pass (what is due sent, every held message approved) until `pick` finds an approved, queued reminder. */
async function approvedReminder(pick: (m: typeof dunningMessages.$inferSelect) => boolean) {
  for (let day = 0; day < 60; day++) {
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    const m = (await messagesOf(s, tenantId)).find(
      (x) =>
        x.kind === 'reminder' &&
        x.template !== 'statement' &&
        x.status === 'queued' &&
        x.decidedAt &&
        pick(x),
    );
    if (m) return m;
    // The next day at noon, in the tenant's business hours (8–18 UTC), when what is due can go.
    clock.set(new Date(Date.parse(clock.now().toISOString().slice(0, 10)) + 86_400_000 + 12 * 3_600_000));
    // The company uploads each day's export: without it, reminders wait once the upload is over 3 days old (held
    // ledger_stale) and the days walked send nothing.
    await uploadToday(s);
    for (const q of await messagesOf(s, tenantId)) {
      if (q.status !== 'queued' || q.sendAt > clock.now()) continue;
      const out = await sendMessage(s, q.id, { transport: null });
      expect(out, JSON.stringify(out)).not.toMatchObject({ code: 'ledger_stale' });
    }
  }
  throw new Error('no approved reminder in 60 days');
}

async function rendered(id: string) {
  const r = await app.inject({
    url: `/api/v1/tenants/${tenantId}/dunning/messages/${id}/rendered`,
    headers: auth,
  });
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { subject: string; text: string };
}

describe('an approved reminder planned again', () => {
  it('no longer thanks the debtor for paying reliably: approved again before it goes', async () => {
    const m = await approvedReminder((x) => x.tone === 'neutral' || x.tone === 'friendly');
    expect((m.snapshot as { reliablePayer?: boolean }).reliablePayer).toBe(false);
    const override = await pause(m.customerId);
    // As when it was planned on a ledger that showed the debtor paying on time, and a reviewer approved the thanks;
    // the ledger no longer says so when it is planned again.
    await s.db
      .update(dunningMessages)
      .set({ snapshot: sql`${dunningMessages.snapshot} || '{"reliablePayer": true}'::jsonb` })
      .where(eq(dunningMessages.id, m.id));
    expect((await rendered(m.id)).text).toMatch(/always paid reliably/);
    await lift(override);
    const [back] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect((await rendered(m.id)).text).not.toMatch(/always paid reliably/);
    expect(back).toMatchObject({ status: 'awaiting_approval', decidedAt: null, decidedBy: null });
  });

  it('now says "Despite our earlier reminders": approved again before it goes', async () => {
    const m = await approvedReminder((x) => x.tone === 'firm');
    expect((m.snapshot as { previousReminders: number }).previousReminders).toBeGreaterThan(0);
    expect((await rendered(m.id)).text).toMatch(/Despite our earlier reminders/);
    const override = await pause(m.customerId);
    // As when it was planned while the earlier reminder was still in doubt: nothing known to have reached the debtor.
    await s.db
      .update(dunningMessages)
      .set({ snapshot: sql`${dunningMessages.snapshot} || '{"previousReminders": 0}'::jsonb` })
      .where(eq(dunningMessages.id, m.id));
    expect((await rendered(m.id)).text).not.toMatch(/Despite our earlier reminders/);
    await lift(override);
    const [back] = (await messagesOf(s, tenantId)).filter((x) => x.id === m.id);
    expect((await rendered(m.id)).text).toMatch(/Despite our earlier reminders/);
    expect(back).toMatchObject({ status: 'awaiting_approval', decidedAt: null, decidedBy: null });
  });
});
