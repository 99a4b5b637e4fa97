/**
 * A next reminder that waits for a person says so in the lists: one awaiting approval keeps its planned send time
 * (past once a day goes by unapproved), and a CSV company's reminder held for a newer upload keeps a send time that
 * has passed. Before, the Invoices and Customers lists showed that past day as the "Next reminder", as if it were
 * still to go out then, with nothing to say it waits for someone.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approvalRule, approveAll, messagesOf, suiteSetup } from '../dunning-engine/fixtures';
import { parseCsv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;
let clock: ManualClock;
const suite = suiteSetup();

const get = (path: string) => app.inject({ url: `/api/v1/tenants/${tenant}/${path}`, headers: auth });
const json = async (path: string) => {
  const r = await get(path);
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

interface InvoiceRow {
  externalId: string;
  nextReminderAt: string | null;
  nextReminderWaits: string | null;
}
interface CustomerRow {
  externalId: string;
  nextActionAt: string | null;
  nextActionWaits: string | null;
}

/** The overdue customers' rows in both lists (SLOW and MID are overdue on the fixture's day). */
async function rows() {
  const invoices = (await json('invoices?status=open&limit=50')).items as InvoiceRow[];
  const customers = (await json('customers?limit=50')).items as CustomerRow[];
  return {
    invoice: (id: string) => invoices.find((i) => i.externalId === id)!,
    customer: (id: string) => customers.find((c) => c.externalId === id)!,
  };
}

beforeAll(async () => {
  ({ s, app, tenantId: tenant, clock, auth } = suite);
}, 120_000);

describe('the next reminder that waits for a person', () => {
  it('awaiting approval, its day past: both lists say it waits for approval; once approved, they do not', async () => {
    await approvalRule(app, tenant, auth, { type: 'always' });
    await planTenant(s, tenant);
    const held = (await messagesOf(s, tenant)).filter((m) => m.status === 'awaiting_approval');
    expect(held.length).toBeGreaterThan(0);
    // Nobody approves it that day.
    const latest = Math.max(...held.map((m) => m.sendAt.getTime()));
    clock.set(new Date(latest + 86_400_000));

    let r = await rows();
    const slow = r.customer('SLOW');
    expect(slow.nextActionWaits).toBe('approval');
    expect(Date.parse(slow.nextActionAt!)).toBeLessThan(clock.now().getTime());
    expect(r.invoice('MID-O')).toMatchObject({ nextReminderWaits: 'approval' });
    // A customer with nothing planned waits for nothing.
    const nothing = (await json('customers?limit=50')).items.filter((c: CustomerRow) => !c.nextActionAt);
    for (const c of nothing) expect(c.nextActionWaits).toBeNull();

    // The export carries it as words.
    const csv = parseCsv((await get('customers?format=csv')).body);
    const col = csv[0]!.indexOf('Next reminder waits for');
    expect(col).toBeGreaterThan(-1);
    expect(csv.find((x) => x[csv[0]!.indexOf('Customer ID')] === 'SLOW')![col]).toBe('approval');

    await approveAll(s, tenant);
    r = await rows();
    expect(r.customer('SLOW').nextActionWaits).toBeNull();
    expect(r.invoice('MID-O').nextReminderWaits).toBeNull();
  });

  it("a CSV company's reminder held for a newer upload: both lists say it waits for one", async () => {
    await approvalRule(app, tenant, auth, { type: 'never' });
    await planTenant(s, tenant);
    // Four days without an upload (reminders wait once the last one is over 3 days old); business hours.
    clock.set(new Date(Date.parse(clock.now().toISOString().slice(0, 10)) + 4 * 86_400_000 + 10 * 3_600_000));
    let sentOrHeld = 0;
    for (const m of await messagesOf(s, tenant)) {
      if (m.status !== 'queued' || m.sendAt > clock.now()) continue;
      const out = await sendMessage(s, m.id, { transport: null });
      expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'held', code: 'ledger_stale' });
      sentOrHeld++;
    }
    expect(sentOrHeld).toBeGreaterThan(0);
    const [stale] = rowsOf<{ customer: string }>(
      await s.db.execute(sql`
        select c.external_id as customer from dunning_messages m join customers c on c.id = m.customer_id
        where m.tenant_id = ${tenant}::uuid and m.status_code = 'ledger_stale' order by c.external_id limit 1`),
    );
    const r = await rows();
    expect(r.customer(stale!.customer)).toMatchObject({ nextActionWaits: 'upload' });
    const invoiceCsv = parseCsv((await get('invoices?status=open&format=csv')).body);
    const col = invoiceCsv[0]!.indexOf('Next reminder waits for');
    expect(invoiceCsv.some((x) => x[col] === 'a newer upload')).toBe(true);
  });
});
