/**
 * Receivables aggregates for the dashboard, tenant-scoped and as of a given day. Each query is one pass over the
 * tenant's invoices (index invoices_tenant_issue_idx / invoices_tenant_status_due_idx); the arithmetic on top of
 * these sums lives in src/analytics.
 *
 * Only invoices in `currency` are counted: minor units of different currencies cannot be added.
 */
import { and, eq, inArray, lte, ne, sql } from 'drizzle-orm';
import { addDays } from '../../../connectors/dates';
import type { DbOrTx } from '../client';
import { creditMemos, invoicePredictions, invoices, paymentAllocations, syncRuns } from '../schema';
import { succeededImportsOf } from './sync-runs';

const num = (expr: ReturnType<typeof sql>) => sql<number>`coalesce(${expr}, 0)`.mapWith(Number);

export interface ArScope {
  tenantId: string;
  currency: string;
  /** The as-of day, YYYY-MM-DD. */
  today: string;
  /** Period length in days for DSO, CEI and the collection cohorts. */
  periodDays: number;
}

/** Live (open or paid) invoices of the scope issued on or before today. */
const live = (s: ArScope) =>
  and(
    eq(invoices.tenantId, s.tenantId),
    eq(invoices.currency, s.currency),
    inArray(invoices.status, ['open', 'paid']),
    lte(invoices.issueDate, s.today),
  );

export async function arTotals(db: DbOrTx, s: ArScope) {
  const t = s.today;
  const overdueDays = sql`(${t}::date - ${invoices.dueDate})`;
  const bucket = (cond: ReturnType<typeof sql>) => ({
    minor: num(sql`sum(${invoices.balanceMinor}) filter (where ${cond})`),
    count: num(sql`count(*) filter (where ${cond})`),
  });
  // Open invoices only (index invoices_tenant_status_due_idx).
  const current = bucket(sql`${overdueDays} <= 0`);
  const d1to30 = bucket(sql`${overdueDays} between 1 and 30`);
  const d31to60 = bucket(sql`${overdueDays} between 31 and 60`);
  const d61to90 = bucket(sql`${overdueDays} between 61 and 90`);
  const d90plus = bucket(sql`${overdueDays} > 90`);
  const [open] = await db
    .select({
      arMinor: num(sql`sum(${invoices.balanceMinor})`),
      openCount: num(sql`count(*)`),
      currentMinor: current.minor,
      currentCount: current.count,
      d1to30Minor: d1to30.minor,
      d1to30Count: d1to30.count,
      d31to60Minor: d31to60.minor,
      d31to60Count: d31to60.count,
      d61to90Minor: d61to90.minor,
      d61to90Count: d61to90.count,
      d90plusMinor: d90plus.minor,
      d90plusCount: d90plus.count,
      overdueDaysWeighted: num(
        sql`sum(${invoices.balanceMinor}::numeric * ${overdueDays}) filter (where ${overdueDays} > 0)`,
      ),
    })
    .from(invoices)
    .where(and(live(s), eq(invoices.status, 'open')));

  // Invoices issued recently enough to count in the period's sales or a collection cohort (index
  // invoices_tenant_issue_idx): the oldest cohort starts periodDays + 60 days ago.
  const cohort = (n: number) =>
    sql`${invoices.issueDate} > (${t}::date - ${n + s.periodDays}::int) and ${invoices.issueDate} <= (${t}::date - ${n}::int)`;
  const paidWithin = (n: number) =>
    sql`${invoices.status} = 'paid' and ${invoices.paidDate} <= ${t}::date and ${invoices.paidDate} - ${invoices.issueDate} <= ${n}::int`;
  const [recent] = await db
    .select({
      salesMinor: num(
        sql`sum(${invoices.totalMinor}) filter (where ${invoices.issueDate} > (${t}::date - ${s.periodDays}::int))`,
      ),
      cohort30Minor: num(sql`sum(${invoices.totalMinor}) filter (where ${cohort(30)})`),
      cohort30Count: num(sql`count(*) filter (where ${cohort(30)})`),
      paid30Minor: num(sql`sum(${invoices.totalMinor}) filter (where ${cohort(30)} and ${paidWithin(30)})`),
      paid30Count: num(sql`count(*) filter (where ${cohort(30)} and ${paidWithin(30)})`),
      cohort60Minor: num(sql`sum(${invoices.totalMinor}) filter (where ${cohort(60)})`),
      cohort60Count: num(sql`count(*) filter (where ${cohort(60)})`),
      paid60Minor: num(sql`sum(${invoices.totalMinor}) filter (where ${cohort(60)} and ${paidWithin(60)})`),
      paid60Count: num(sql`count(*) filter (where ${cohort(60)} and ${paidWithin(60)})`),
    })
    .from(invoices)
    .where(and(live(s), sql`${invoices.issueDate} > (${t}::date - ${s.periodDays + 60}::int)`));
  return { ...open!, ...recent! };
}

/**
 * Receivables open at the start of the period (today − periodDays): invoices issued by then and not paid by then,
 * less what allocations dated up to that day had already paid. One hash join instead of a lookup per invoice.
 */
export async function arAtPeriodStart(db: DbOrTx, s: ArScope): Promise<number> {
  const startDay = addDays(s.today, -s.periodDays);
  const cand = db.$with('cand').as(
    db
      .select({ id: invoices.id, total: sql<number>`${invoices.totalMinor}`.as('total') })
      .from(invoices)
      .where(
        and(
          live(s),
          lte(invoices.issueDate, startDay),
          sql`not (${invoices.status} = 'paid' and ${invoices.paidDate} <= ${startDay}::date)`,
        ),
      ),
  );
  const alloc = db.$with('alloc').as(
    db
      .select({
        invoiceId: paymentAllocations.invoiceId,
        paid: sql<number>`sum(${paymentAllocations.amountMinor})`.as('paid'),
      })
      .from(paymentAllocations)
      .innerJoin(cand, eq(cand.id, paymentAllocations.invoiceId))
      .where(lte(paymentAllocations.date, startDay))
      .groupBy(paymentAllocations.invoiceId),
  );
  const [row] = await db
    .with(cand, alloc)
    .select({ minor: num(sql`sum(greatest(0, ${cand.total} - coalesce(${alloc.paid}, 0)))`) })
    .from(cand)
    .leftJoin(alloc, eq(alloc.invoiceId, cand.id));
  return row!.minor;
}

/** Credit sales per issue day over the `days` days ending today (for countback DSO), newest first. */
export async function dailySales(db: DbOrTx, s: ArScope, days: number) {
  return db
    .select({ day: invoices.issueDate, minor: num(sql`sum(${invoices.totalMinor})`) })
    .from(invoices)
    .where(and(live(s), sql`${invoices.issueDate} > (${s.today}::date - ${days}::int)`))
    .groupBy(invoices.issueDate)
    .orderBy(sql`${invoices.issueDate} desc`);
}

/** Open balances by due date (for the naive forecast): one row per due day. */
export async function openByDueDate(db: DbOrTx, s: ArScope) {
  return db
    .select({ dueDate: invoices.dueDate, minor: num(sql`sum(${invoices.balanceMinor})`) })
    .from(invoices)
    .where(and(live(s), eq(invoices.status, 'open')))
    .groupBy(invoices.dueDate);
}

/** Open invoices with balance and due date (for a forecast from per-invoice predictions). */
export async function openInvoiceBalances(db: DbOrTx, s: ArScope) {
  return db
    .select({ id: invoices.id, dueDate: invoices.dueDate, balanceMinor: invoices.balanceMinor })
    .from(invoices)
    .where(and(live(s), eq(invoices.status, 'open')));
}

/**
 * Open invoices of the tenant in other currencies than the one analysed (reported, not summed), per currency, most
 * invoices first: the Dashboard offers each as a view of its own.
 */
export async function otherCurrencyCounts(
  db: DbOrTx,
  tenantId: string,
  currency: string,
): Promise<{ currency: string; openInvoices: number }[]> {
  return db
    .select({ currency: invoices.currency, openInvoices: num(sql`count(*)`) })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), ne(invoices.currency, currency), eq(invoices.status, 'open')))
    .groupBy(invoices.currency)
    .orderBy(sql`count(*) desc`, invoices.currency);
}

/** The currency most of the tenant's invoices are in (null when it has none). */
export async function mainCurrency(db: DbOrTx, tenantId: string): Promise<string | null> {
  const [row] = await db
    .select({ currency: invoices.currency })
    .from(invoices)
    .where(eq(invoices.tenantId, tenantId))
    .groupBy(invoices.currency)
    .orderBy(sql`count(*) desc`)
    .limit(1);
  return row?.currency ?? null;
}

/** The risk model's latest prediction of each open invoice of the scope (empty until the tenant is scored). */
export async function openInvoicePredictions(db: DbOrTx, s: Pick<ArScope, 'tenantId' | 'currency'>) {
  return db
    .select({
      invoiceId: invoicePredictions.invoiceId,
      predictedDate: invoicePredictions.predictedPayDate,
      p10Date: invoicePredictions.payDateP10,
      p90Date: invoicePredictions.payDateP90,
      pLate: invoicePredictions.pLate,
      pCollect30: invoicePredictions.pCollect30,
      pCollect90: invoicePredictions.pCollect90,
      riskBand: invoicePredictions.riskBand,
    })
    .from(invoicePredictions)
    .innerJoin(invoices, eq(invoices.id, invoicePredictions.invoiceId))
    .where(
      and(
        eq(invoicePredictions.tenantId, s.tenantId),
        eq(invoices.status, 'open'),
        eq(invoices.currency, s.currency),
      ),
    );
}

/** A change marker for the tenant's ledger and predictions: sync runs (imports included) and the latest scoring. */
export async function analyticsVersion(db: DbOrTx, tenantId: string): Promise<string> {
  const [row] = await db
    .select({
      v: sql<string>`count(*)::text || ':' || coalesce(max(${syncRuns.startedAt})::text, '') || ':' ||
        coalesce(max(${syncRuns.finishedAt})::text, '') || ':' ||
        coalesce((select max(${invoicePredictions.scoredAt}) from ${invoicePredictions}
          where ${invoicePredictions.tenantId} = ${tenantId})::text, '')`,
    })
    .from(syncRuns)
    .where(eq(syncRuns.tenantId, tenantId));
  return row?.v ?? '';
}

/**
 * The day a CSV company's ledger is as of: the latest date its imports recorded (each import's file's latest
 * invoice, payment or credit date, `sync_runs.source.asOf`), else — imports made before they recorded it — the
 * latest such date in its ledger. Null for a company with no ledger, and for one whose ledger a connector's sync has
 * brought up to date (a CSV company could connect a ledger before s36: it kept `source = 'csv'`, and its figures
 * stayed at the old export's day).
 */
export async function csvLedgerDay(db: DbOrTx, tenantId: string): Promise<string | null> {
  const [synced] = await db
    .select({ id: syncRuns.id })
    .from(syncRuns)
    .where(
      and(eq(syncRuns.tenantId, tenantId), ne(syncRuns.kind, 'import'), eq(syncRuns.status, 'succeeded')),
    )
    .limit(1);
  if (synced) return null;
  const [recorded] = await db
    .select({ day: sql<string | null>`max(${syncRuns.source}->>'asOf')` })
    .from(syncRuns)
    .where(succeededImportsOf(tenantId));
  if (recorded?.day) return recorded.day;
  const [ledger] = await db
    .select({
      day: sql<string | null>`greatest(max(${invoices.issueDate}), max(${invoices.paidDate}),
        (select max(${creditMemos.date}) from ${creditMemos} where ${creditMemos.tenantId} = ${tenantId}))::text`,
    })
    .from(invoices)
    .where(eq(invoices.tenantId, tenantId));
  return ledger?.day ?? null;
}
