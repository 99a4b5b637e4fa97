/**
 * An outside audit of the dashboard (s26-rt2): every figure recomputed from the raw QuickBooks entities the sandbox
 * serves (its query API, not Duely's tables or code) and compared to the cent — open AR per customer and in total,
 * aging, DSO, countback DSO, CEI, ADD, weighted days overdue, collected within 30/60 days, the due-date forecast
 * weeks, the predicted forecast covering the open balance, revenue at risk against the invoice list, and open AR
 * less unapplied credit = QuickBooks' customer balances. After the first sync, after scoring and ten days of
 * incremental syncs, and after a void, a delete, partial payments on one invoice before one sync, 429s and 503s.
 */
import { expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { runSync } from '../../src/sync/run-sync';
import { suiteTestApp } from '../helpers/app';
import { QB_ENV, sandboxTokens, seedConnection } from '../sync/helpers';

let sandbox: Sandbox;
const t = suiteTestApp(async () => {
  sandbox = await startSandbox({
    seed: 777,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 60,
    invoices: 1500,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
  return { clock: { now: () => sandbox.now() }, env: { ...QB_ENV, ...sandbox.config }, sandbox };
});

// biome-ignore lint/suspicious/noExplicitAny: raw QuickBooks JSON, read field by field
type J = Record<string, any>;
async function raw(entity: string): Promise<J[]> {
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const out: J[] = [];
  for (let start = 1; ; start += 1000) {
    const q = `select * from ${entity} STARTPOSITION ${start} MAXRESULTS 1000`;
    const r = await fetch(
      `${sandbox.url}/v3/company/${realmId}/query?query=${encodeURIComponent(q)}&minorversion=75`,
      {
        headers: { authorization: `Bearer ${tokens.accessToken}`, accept: 'application/json' },
      },
    );
    if (r.status !== 200) {
      await new Promise((res) => setTimeout(res, 200));
      start -= 1000;
      continue;
    }
    const rows = ((await r.json()) as J).QueryResponse?.[entity] ?? [];
    out.push(...rows);
    if (rows.length < 1000) return out;
  }
}
const c = (x: number) => Math.round(x * 100);
const dnum = (d: string) => Date.parse(`${d}T00:00:00Z`) / 86_400_000;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function audit(label: string, tenantId: string) {
  const today = sandbox.now().toISOString().slice(0, 10);
  const T = dnum(today);
  const P = 90;
  const [inv, pay] = [await raw('Invoice'), await raw('Payment')];
  const cust = await raw('Customer');
  const applied = new Map<string, { day: number; minor: number }[]>();
  for (const p of pay)
    for (const l of p.Line ?? [])
      for (const lt of l.LinkedTxn ?? [])
        if (lt.TxnType === 'Invoice') {
          const a = applied.get(lt.TxnId) ?? [];
          a.push({ day: dnum(p.TxnDate), minor: c(l.Amount) });
          applied.set(lt.TxnId, a);
        }
  const live = inv.filter((i) => i.PrivateNote !== 'Voided' && dnum(i.TxnDate) <= T);
  const open = live.filter((i) => c(i.Balance) > 0);
  const ar = open.reduce((a, i) => a + c(i.Balance), 0);
  const byCust = new Map<string, number>();
  for (const i of open)
    byCust.set(i.CustomerRef.value, (byCust.get(i.CustomerRef.value) ?? 0) + c(i.Balance));
  const od = (i: J) => T - dnum(i.DueDate);
  const bucket = (f: (d: number) => boolean) => {
    const xs = open.filter((i) => f(od(i)));
    return { n: xs.length, m: xs.reduce((a, i) => a + c(i.Balance), 0) };
  };
  const aging = [
    bucket((d) => d <= 0),
    bucket((d) => d >= 1 && d <= 30),
    bucket((d) => d >= 31 && d <= 60),
    bucket((d) => d >= 61 && d <= 90),
    bucket((d) => d > 90),
  ];
  const current = aging[0]!.m;
  const sales = live.filter((i) => dnum(i.TxnDate) > T - P).reduce((a, i) => a + c(i.TotalAmt), 0);
  const start = T - P;
  const begin = live
    .filter((i) => dnum(i.TxnDate) <= start)
    .reduce((a, i) => {
      const paid = (applied.get(i.Id) ?? []).filter((x) => x.day <= start).reduce((s, x) => s + x.minor, 0);
      return a + Math.max(0, c(i.TotalAmt) - paid);
    }, 0);
  const paidDay = (i: J) => {
    if (c(i.Balance) > 0) return null;
    const a = applied.get(i.Id) ?? [];
    return a.length ? Math.max(...a.map((x) => x.day)) : null;
  };
  // countback
  const daily = new Map<number, number>();
  for (const i of live) daily.set(dnum(i.TxnDate), (daily.get(dnum(i.TxnDate)) ?? 0) + c(i.TotalAmt));
  let rem = ar,
    cb: number | null = null;
  for (let k = 0; k < 365; k++) {
    const s = daily.get(T - k) ?? 0;
    if (s > 0 && rem <= s) {
      cb = r1(k + rem / s);
      break;
    }
    rem -= s;
  }
  const coll = (n: number) => {
    const coh = live.filter((i) => dnum(i.TxnDate) > T - n - P && dnum(i.TxnDate) <= T - n);
    const ok = coh.filter((i) => {
      const d = paidDay(i);
      return d !== null && d <= T && d - dnum(i.TxnDate) <= n;
    });
    const sm = (xs: J[]) => xs.reduce((a, i) => a + c(i.TotalAmt), 0);
    return {
      amountShare: Math.round((sm(ok) / sm(coh)) * 1e4) / 1e4,
      countShare: Math.round((ok.length / coh.length) * 1e4) / 1e4,
      cohortCount: coh.length,
    };
  };
  const overdue = ar - current;
  const wdo = r1(open.filter((i) => od(i) > 0).reduce((a, i) => a + c(i.Balance) * od(i), 0) / overdue);
  const mine = {
    dso: r1((ar / sales) * P),
    dsoCountback: cb,
    cei: r1(((begin + sales - ar) / (begin + sales - current)) * 100),
    add: r1(((ar - current) / sales) * P),
    wdo,
    ar,
    openCount: open.length,
    current,
    overdue,
    begin,
    sales,
    aging: aging.map((b) => [b.n, b.m]),
    c30: coll(30),
    c60: coll(60),
  };
  const api = async (url: string) => {
    const r = await t.app.inject({ method: 'GET', url, headers: t.auth });
    expect(r.statusCode, r.body).toBe(200);
    return r.json();
  };
  const a = await api(`/api/v1/tenants/${tenantId}/analytics?forecast=due_date`);
  const ap = await api(`/api/v1/tenants/${tenantId}/analytics`);
  const theirs = {
    dso: a.kpis.dso,
    dsoCountback: a.kpis.dsoCountback,
    cei: a.kpis.cei,
    add: a.kpis.averageDaysDelinquent,
    wdo: a.kpis.weightedDaysOverdue,
    ar: a.receivables.openMinor,
    openCount: a.receivables.openCount,
    current: a.receivables.currentMinor,
    overdue: a.receivables.overdueMinor,
    begin: a.receivables.periodStartMinor,
    sales: a.receivables.creditSalesMinor,
    aging: a.aging.map((b: J) => [b.count, b.amountMinor]),
    c30: a.collected.within30,
    c60: a.collected.within60,
  };
  // forecast, due dates
  const weeks = Array(13).fill(0);
  let past = 0,
    later = 0;
  for (const i of open) {
    const w = Math.floor((dnum(i.DueDate) - T) / 7);
    if (w < 0) past += c(i.Balance);
    else if (w >= 13) later += c(i.Balance);
    else weeks[w] += c(i.Balance);
  }
  const f = a.forecast;
  const fp = ap.forecast;
  const fpSum =
    fp.weeks.reduce((s: number, w: J) => s + w.expectedMinor, 0) + fp.pastDueMinor + fp.laterMinor;
  // customers
  const cl = await api(`/api/v1/tenants/${tenantId}/customers?limit=500`);
  const custDiff = (cl.items as J[])
    .filter((x) => (byCust.get(x.externalId) ?? 0) !== x.openBalanceMinor)
    .map((x) => `${x.externalId}:${x.openBalanceMinor}!=${byCust.get(x.externalId) ?? 0}`);
  const il = await api(`/api/v1/tenants/${tenantId}/invoices?status=open&limit=500`);
  const hr = await api(`/api/v1/tenants/${tenantId}/invoices?status=open&risk=high&limit=500`);
  expect.soft(theirs, label).toEqual(mine);
  expect
    .soft({ weeks: f.weeks.map((w: J) => w.expectedMinor), past: f.pastDueMinor, later: f.laterMinor }, label)
    .toEqual({ weeks, past, later });
  expect.soft(fpSum, `${label} predicted forecast covers AR`).toBe(ar);
  expect.soft(custDiff, label).toEqual([]);
  expect.soft(cl.totals.openBalanceMinor, label).toBe(ar);
  const sum = (j: J) => (j.totals as J[]).reduce((x, y) => x + y.balanceMinor, 0);
  expect.soft(sum(il), `${label} invoice list`).toBe(ar);
  expect.soft(ap.revenueAtRisk.overdueMinor, label).toBe(overdue);
  if (ap.revenueAtRisk.highRiskMinor !== null)
    expect.soft(ap.revenueAtRisk.highRiskMinor, label).toBe(sum(hr));
  expect
    .soft(
      a.receivables.openMinor - a.receivables.unappliedCreditMinor,
      `${label} ties to QB customer balances`,
    )
    .toBe(cust.reduce((x, y) => x + c(y.Balance), 0));
}

it("Duely's figures equal an independent computation over the raw QuickBooks entities", {
  timeout: 600_000,
}, async () => {
  const s = t.services;
  const { realmId, tokens } = await sandboxTokens(sandbox, sandbox.now());
  const { tenant, connection } = await seedConnection(s, { realmId, tokens });
  expect((await runSync(s, { connectionId: connection.id, reason: 'test' })).status).toBe('succeeded');
  await audit('initial', tenant.id);
  await s.risk.score(tenant.id, s.clock.now());
  await audit('scored', tenant.id);
  for (let d = 0; d < 10; d++) {
    await sandbox.advance(1);
    expect((await runSync(s, { connectionId: connection.id, reason: 'webhook' })).status).toBe('succeeded');
  }
  await audit('after 10 days', tenant.id);
  const open = [...sandbox.company.invoices.values()].filter(
    (i) => !i.deleted && !i.voided && i.balanceMinor > 5000,
  );
  await sandbox.recordPayment(open[0]!.id, 1234);
  await sandbox.voidInvoice(open[1]!.id);
  await sandbox.deleteInvoice(open[2]!.id);
  await sandbox.recordPayment(open[3]!.id);
  // the same invoice changed twice before one sync: two partial payments, then the rest
  await sandbox.recordPayment(open[4]!.id, 1000);
  await sandbox.recordPayment(open[4]!.id, 999);
  await sandbox.advance(1);
  await sandbox.recordPayment(open[5]!.id, 1);
  sandbox.throttle(3, 0);
  sandbox.failNext(2, 503);
  const r = await runSync(s, { connectionId: connection.id, reason: 'webhook' });
  if (r.status !== 'succeeded')
    expect((await runSync(s, { connectionId: connection.id, reason: 'webhook' })).status).toBe('succeeded');
  await audit('after faults', tenant.id);
});
