/**
 * A reminder held for days (a revoked API key retried hourly, a used-up quota, 429s) must not go out with the text
 * rendered for its planned day ("due today", "N days overdue", a final notice's respond-by date): past one calendar
 * day after its planned send date (debtor's zone) it is not sent but planned again for today. The re-plan follows the
 * approval rule of any re-plan: an approval carries over only when the message comes back unchanged.
 */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { localParts } from '../../src/dunning/local-time';
import { sendMessage } from '../../src/dunning/send-message';
import { freshPlan, noSleep, rowOf, type SendPathEnv, sendPathEnv } from './helpers';

let env: SendPathEnv;

beforeAll(async () => {
  env = await sendPathEnv();
}, 120_000);
afterAll(async () => {
  await env?.standIn.stop();
  await env?.s.close();
});

/** Holds the message the way a revoked key does: every call refused (403), retried an hour later, for `days`. */
async function heldFor(id: string, days: number) {
  const { s, standIn, transport, clock } = env;
  standIn.faultFor = () => ({ kind: 'refused', status: 403, name: 'invalid_api_key' });
  const until = clock.now().getTime() + days * 86_400_000;
  let last: Awaited<ReturnType<typeof sendMessage>> | undefined;
  for (let i = 0; i < 24 * days + 5; i++) {
    const row = await rowOf(s, id);
    if (row.status !== 'queued') break;
    if (row.sendAt.getTime() > until) break;
    clock.set(new Date(Math.max(clock.now().getTime(), row.sendAt.getTime())));
    last = await sendMessage(s, id, { transport, sleep: noSleep });
  }
  standIn.reset();
  return last;
}

describe('a reminder held past its planned day', () => {
  it('one day late it still goes as rendered', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.invoiceIds.length === 1 && !q.requiresApproval) ?? queued[0]!;
    const { s, standIn, transport, clock } = env;
    clock.set(m.sendAt);
    await heldFor(m.id, 1);
    const row = await rowOf(s, m.id);
    expect(row.status).toBe('queued');
    clock.set(new Date(Math.max(clock.now().getTime(), row.sendAt.getTime())));
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'sent' });
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('days late: not sent with the old text; planned again for today, its approval carried over (unchanged)', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.requiresApproval && q.decidedAt !== null)!;
    expect(m, 'the fixture plans an approved catch-up').toBeDefined();
    const { s, standIn, transport, clock, tenantId } = env;
    const planned = (m.snapshot as { sendDate: string }).sendDate;
    clock.set(m.sendAt);
    const out = await heldFor(m.id, 3);
    expect(out).toMatchObject({ outcome: 'skipped', code: 'stale_plan' });
    const skipped = await rowOf(s, m.id);
    expect(skipped.status).toBe('skipped');
    expect(skipped.statusReason).toMatch(new RegExp(`planned for ${planned}`, 'i'));
    expect(standIn.deliveries).toHaveLength(0);

    // The re-plan the skip asked for (the replan job): the same message, for today, still approved.
    await planTenant(s, tenantId);
    const again = await rowOf(s, m.id);
    const tz = (await s.db.execute(sql`select coalesce(nullif(c.timezone, ''), t.timezone) as tz
      from customers c join tenants t on t.id = c.tenant_id where c.id = ${m.customerId}::uuid`)) as unknown;
    const zone = ((tz as { rows?: { tz: string }[] }).rows ?? (tz as { tz: string }[]))[0]!.tz;
    expect(again.status).toBe('queued');
    expect(again.decidedAt).not.toBeNull();
    expect(again.statusCode).toBe('approved');
    expect(again.html).toBeNull();
    const sendDate = (again.snapshot as { sendDate: string }).sendDate;
    expect(sendDate >= localParts(clock.now(), zone).date).toBe(true);

    clock.set(new Date(Math.max(clock.now().getTime(), again.sendAt.getTime())));
    expect(await sendMessage(s, m.id, { transport, sleep: noSleep })).toMatchObject({ outcome: 'sent' });
    const sent = await rowOf(s, m.id);
    expect(localParts(sent.renderedAsOf!, zone).date).toBe(sendDate);
    expect(standIn.deliveriesOf(m.id)).toHaveLength(1);
  });

  it('days late and changed meanwhile (another amount): the re-planned message waits for a reviewer again', async () => {
    const queued = await freshPlan(env);
    const m = queued.find((q) => q.requiresApproval && q.decidedAt !== null)!;
    const { s, clock, tenantId } = env;
    clock.set(m.sendAt);
    await heldFor(m.id, 3);
    expect((await rowOf(s, m.id)).statusCode).toBe('stale_plan');
    // A partial payment lands before the re-plan: the approval covered other figures.
    const inv = m.invoiceIds[0]!;
    await s.db.execute(
      sql`update invoices set balance_minor = balance_minor - 100, updated_at = now() where id = ${inv}::uuid`,
    );
    await planTenant(s, tenantId);
    const rows = await s.db
      .select()
      .from(dunningMessages)
      .where(eq(dunningMessages.customerId, m.customerId));
    const fresh = rows.filter((r) => r.status !== 'skipped');
    expect(fresh.length).toBeGreaterThan(0);
    for (const r of fresh) {
      if (r.requiresApproval) expect(r.status).toBe('awaiting_approval');
    }
  });
});
