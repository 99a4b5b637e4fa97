/**
 * The credit-review task ("Apply <customer>'s credit on account in the ledger: …") once the ledger no longer shows
 * the credit covering the debtor, from outside: a NetSuite company (the stand-in) is synced, planned, changed the
 * way the finance team changes it (the unapplied payment applied to the invoice, the invoice paid by another
 * payment, a new invoice the credit no longer covers, the application taken back), polled and planned again, and the
 * open call list (GET …/dunning/tasks) is read after each step. Before, the task stayed open until someone marked it
 * done. Runs on PGlite and Postgres.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type Customer, NetsuiteCompany, NetsuiteSandbox, type Txn } from '../../sandboxes/netsuite';
import { ManualClock } from '../../src/clock';
import { planTenant } from '../../src/dunning/engine';
import { scoreAfterSync } from '../../src/jobs/sync-jobs';
import { planTenantJob } from '../../src/jobs/workflow';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { connectSandboxTenant } from '../netsuite/fixtures';
import { goLive, messagesOf } from './fixtures';

let sandbox: NetsuiteSandbox;
let clock: ManualClock;
let s: Services;
let tenantId = '';
let connectionId = '';

/** Owes 600.00 (three weeks overdue) and holds a 600.00 payment not applied to anything. */
let applies: { debtor: Customer; invoice: Txn; payment: Txn };
/** Owes 300.00, holds 300.00 unapplied; then pays the invoice with another payment (the credit stays). */
let pays: { debtor: Customer; invoice: Txn };
/** Owes 600.00 and holds 800.00 unapplied. */
let grows: { debtor: Customer };
/** Owes 400.00, holds 400.00 unapplied; its reminders get paused. */
let paused: { debtor: Customer; invoice: Txn; payment: Txn };

const t = suiteTestApp(async () => {
  const co = NetsuiteCompany.generate({ seed: 5, customers: 2 });
  const debtor = () => co.addCustomer(1);
  const a = debtor();
  applies = {
    debtor: a,
    invoice: co.addInvoice(a, 60_000, -21),
    payment: co.addPayment(a, 60_000, []),
  };
  const p = debtor();
  pays = { debtor: p, invoice: co.addInvoice(p, 30_000, -21) };
  co.addPayment(p, 30_000, []);
  const g = debtor();
  grows = { debtor: g };
  co.addInvoice(g, 60_000, -21);
  co.addPayment(g, 80_000, []);
  const z = debtor();
  paused = { debtor: z, invoice: co.addInvoice(z, 40_000, -21), payment: co.addPayment(z, 40_000, []) };
  sandbox = new NetsuiteSandbox({ company: co });
  await sandbox.start();
  clock = new ManualClock(`${co.clock.replace(' ', 'T')}Z`);
  return { clock, env: { ...sandbox.env() }, token: 'test admin', sandbox };
}, 120_000);
beforeAll(async () => {
  s = t.services;
  ({ tenantId, connectionId } = await connectSandboxTenant(
    t.app,
    s.db,
    t.token,
    'Credit Task Co',
    'credit-task-applied',
  ));
  const r = await runSync(s, { connectionId, reason: 'connect', pageSize: 50 });
  expect(r.status).toBe('succeeded');
  await goLive(s, tenantId);
});

const co = () => sandbox.company;

interface TaskRow {
  id: string;
  customerId: string;
  kind: string;
  title: string;
  status: string;
  doneBy: string | null;
  note: string | null;
}

/** Our customer id of a NetSuite customer. */
async function ours(c: Customer): Promise<string> {
  const res = await t.app.inject({
    method: 'GET',
    url: `/api/v1/tenants/${tenantId}/customers?q=${encodeURIComponent(c.companyname)}`,
    headers: { authorization: `Bearer ${t.token}` },
  });
  expect(res.statusCode).toBe(200);
  const hit = (res.json().items as { id: string; externalId: string }[]).find(
    (x) => x.externalId === String(c.id),
  );
  expect(hit).toBeDefined();
  return hit!.id;
}

/** The call list's review tasks of a debtor: open, or done. */
async function creditTasks(c: Customer, status: 'open' | 'done'): Promise<TaskRow[]> {
  const res = await t.app.inject({
    method: 'GET',
    url: `/api/v1/tenants/${tenantId}/dunning/tasks?status=${status}&kind=review&customer=${await ours(c)}`,
    headers: { authorization: `Bearer ${t.token}` },
  });
  expect(res.statusCode).toBe(200);
  return (res.json().items as TaskRow[]).filter((x) => x.title.startsWith('Apply '));
}

async function pollAndPlan() {
  co().advance(5);
  clock.advance(5 * 60_000);
  const r = await runSync(s, { connectionId, reason: 'schedule', pageSize: 50 });
  expect(r.status).toBe('succeeded');
  return planTenant(s, tenantId);
}

describe('the credit task closes when the ledger no longer shows the credit covering the debtor', () => {
  it('planned with credit on account covering: one open credit task per debtor', async () => {
    const r = await planTenant(s, tenantId);
    for (const { debtor } of [applies, pays, grows, paused]) {
      const id = await ours(debtor);
      expect(r.decisions.find((d) => d.customerId === id)?.code).toBe('credit_on_account');
      expect(await creditTasks(debtor, 'open')).toHaveLength(1);
    }
    expect((await creditTasks(applies.debtor, 'open'))[0]!.title).toContain('$600.00');
  });

  it('the credit applied in NetSuite: the next plan after the poll closes the task, done by Duely with the reason', async () => {
    co().apply(applies.payment.id, applies.invoice.id, 60_000);
    await pollAndPlan();
    expect(await creditTasks(applies.debtor, 'open')).toEqual([]);
    expect(await creditTasks(applies.debtor, 'done')).toMatchObject([
      { doneBy: 'duely', note: expect.stringMatching(/no longer covers/) },
    ]);
    // Nothing is owed: no reminder either.
    const id = await ours(applies.debtor);
    expect((await messagesOf(s, tenantId)).filter((m) => m.customerId === id)).toEqual([]);
  });

  it('the invoice paid by another payment (the credit stays, nothing open): the task closes', async () => {
    co().addPayment(pays.debtor, 30_000, [{ invoice: pays.invoice.id, amountMinor: 30_000 }]);
    await pollAndPlan();
    expect(await creditTasks(pays.debtor, 'open')).toEqual([]);
    expect(await creditTasks(pays.debtor, 'done')).toMatchObject([{ doneBy: 'duely' }]);
  });

  it('the credit changes but still covers: the task is replaced, never two open, none opened by a re-plan', async () => {
    co().addPayment(grows.debtor, 5_000, []);
    await pollAndPlan();
    const open = await creditTasks(grows.debtor, 'open');
    expect(open).toHaveLength(1);
    expect(open[0]!.title).toContain('$850.00');
    expect(await creditTasks(grows.debtor, 'done')).toMatchObject([
      { doneBy: 'duely', note: expect.stringMatching(/^Replaced/) },
    ]);
    await pollAndPlan();
    expect((await creditTasks(grows.debtor, 'open')).map((x) => x.id)).toEqual([open[0]!.id]);
    expect(await creditTasks(grows.debtor, 'done')).toHaveLength(1);
  });

  it('a new invoice the credit no longer covers: the task closes and the debtor is written to instead', async () => {
    co().addInvoice(grows.debtor, 90_000, -21);
    await pollAndPlan();
    expect(await creditTasks(grows.debtor, 'open')).toEqual([]);
    expect(await creditTasks(grows.debtor, 'done')).toHaveLength(2);
    const id = await ours(grows.debtor);
    expect((await messagesOf(s, tenantId)).filter((m) => m.customerId === id)).toHaveLength(1);
  });

  it('a paused debtor keeps its task while the credit covers; the credit applied, it closes all the same', async () => {
    const put = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/overrides`,
      headers: { authorization: `Bearer ${t.token}` },
      payload: { customerId: await ours(paused.debtor), pausedUntil: '2099-01-01' },
    });
    expect(put.statusCode, put.body).toBe(200);
    const r = await pollAndPlan();
    const id = await ours(paused.debtor);
    expect(r.decisions.find((d) => d.customerId === id)?.code).toBe('customer_paused');
    expect(await creditTasks(paused.debtor, 'open')).toHaveLength(1);
    co().apply(paused.payment.id, paused.invoice.id, 40_000);
    await pollAndPlan();
    expect(await creditTasks(paused.debtor, 'open')).toEqual([]);
    expect(await creditTasks(paused.debtor, 'done')).toMatchObject([{ doneBy: 'duely' }]);
  });

  it('a poll that only brings credit (a payment applied to nothing, no invoice changed) re-plans: the reminder is withdrawn, the task opens', async () => {
    const debtor = co().addCustomer(1);
    co().addInvoice(debtor, 45_000, -21);
    await pollAndPlan();
    const id = await ours(debtor);
    const pending = () =>
      messagesOf(s, tenantId).then((all) =>
        all.filter(
          (m) => m.customerId === id && ['planned', 'queued', 'awaiting_approval'].includes(m.status),
        ),
      );
    expect(await pending()).toHaveLength(1);
    const plansBefore = (await s.queue.findJobs('dunning-plan')).length;

    co().addPayment(debtor, 45_000, []);
    co().advance(5);
    clock.advance(5 * 60_000);
    // As the sync job runs it: with the workflow's follow-up inside each page's transaction.
    const r = await runSync(s, {
      connectionId,
      reason: 'schedule',
      pageSize: 50,
      onSynced: scoreAfterSync(s),
    });
    expect(r.status).toBe('succeeded');
    expect(r.changedInvoices).toBe(0);
    const plans = (await s.queue.findJobs('dunning-plan')).slice(plansBefore);
    expect(plans.map((j) => j.data)).toContainEqual({ tenantId, reason: 'credit' });
    // The plan it queued (run here as its handler): nothing left to send to the debtor, the credit task open.
    await planTenantJob.handler(planTenantJob.schema.parse({ tenantId, reason: 'credit' }), s, {
      id: 'test',
      retryCount: 0,
    });
    expect(await pending()).toEqual([]);
    expect(await creditTasks(debtor, 'open')).toHaveLength(1);
  });

  it('the application taken back (the same credit state as before): the task opens again, once', async () => {
    co().unapply(applies.payment.id, applies.invoice.id);
    await pollAndPlan();
    const open = await creditTasks(applies.debtor, 'open');
    expect(open).toHaveLength(1);
    expect(open[0]!.title).toContain('$600.00');
    await pollAndPlan();
    expect((await creditTasks(applies.debtor, 'open')).map((x) => x.id)).toEqual([open[0]!.id]);
  });
});
