/**
 * The team's lists (invoices, customers, messages, tasks): one filter, one sort, keyset pages, the count and totals
 * of the filtered set, and every matching row for an export — all from the same WHERE, so an export is exactly what
 * the list shows. Always scoped by tenant.
 *
 * Keyset pages over any sort column: each list selects its sort expression as `_k` (nulls replaced by a sentinel,
 * so the row comparison `(_k, id) > (…)` is total) and the cursor carries `_k` as text and the row id.
 */
import { and, eq, inArray, type SQL, sql } from 'drizzle-orm';
import { isIsoDate } from '../../../connectors/dates';
import { AppError } from '../../errors';
import { type DbOrTx, rowsOf } from '../client';
import { customers, dunningMessageEvents, dunningMessages, dunningTasks } from '../schema';

export type SortDir = 'asc' | 'desc';

export interface SortDef {
  /** SQL over the list's aliases; never null (coalesce to a sentinel). */
  expr: SQL;
  /** The SQL type the cursor's text value is cast back to. */
  type: 'text' | 'date' | 'bigint' | 'float8' | 'int' | 'timestamptz';
}

export interface Sort {
  key: string;
  dir: SortDir;
}

/** "-balance" → { key: 'balance', dir: 'desc' }; unknown keys are a 400 naming the allowed ones. */
export function parseSort(raw: string | undefined, allowed: readonly string[], fallback: Sort): Sort {
  if (!raw) return fallback;
  const dir: SortDir = raw.startsWith('-') ? 'desc' : 'asc';
  const key = raw.replace(/^[-+]/, '');
  if (!allowed.includes(key)) {
    throw new AppError(
      'invalid_request',
      `Invalid querystring: sort: one of ${allowed.join(', ')} (prefix - for descending)`,
      400,
      {
        details: [{ field: 'sort', message: `one of ${allowed.join(', ')}` }],
      },
    );
  }
  return { key, dir };
}

export interface Cursor {
  k: string;
  id: string;
}
export const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.k, c.id])).toString('base64url');
export function decodeCursor(raw: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string' && v[1].length <= 64) {
      return { k: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw badCursor();
}

const INFINITE = /^-?infinity$/i;
/**
 * Whether a cursor value can be cast to the list's SQL type: a crafted cursor ("2013-99-99", "not-a-uuid") is a
 * 400 here, never a cast error (500) in the database.
 */
function cursorFits(type: SortDef['type'] | 'uuid', v: string): boolean {
  switch (type) {
    case 'text':
      return v.length <= 500;
    case 'uuid':
      return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v);
    case 'int':
    case 'bigint':
      return /^-?\d{1,18}$/.test(v);
    case 'float8':
      return (
        /^-?(\d{1,30}(\.\d{0,30})?|\.\d{1,30})(e[-+]?\d{1,3})?$/i.test(v) || /^-?infinity$|^nan$/i.test(v)
      );
    case 'date':
      return INFINITE.test(v) || isCalendarDay(v);
    case 'timestamptz':
      return (
        INFINITE.test(v) ||
        (/^\d{4}-\d{2}-\d{2}[ T]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]\d{2}(:?\d{2})?)?$/.test(
          v,
        ) &&
          isCalendarDay(v.slice(0, 10)))
      );
  }
}

const isCalendarDay = isIsoDate;

function badCursor(): AppError {
  return new AppError(
    'invalid_request',
    'Invalid querystring: cursor: not a cursor from a previous page',
    400,
    {
      details: [{ field: 'cursor', message: 'not a cursor from a previous page' }],
    },
  );
}

/**
 * Customer names in the order a person reads them: the ICU root collation (Unicode's default order, what a browser's
 * Intl.Collator gives), so accents and case do not send "Émile" or "zoë" after "Zulu" as byte order did; case only
 * breaks ties. Every list sorted by customer uses it, and its keyset comparison inherits the collation.
 * PGlite and PostgreSQL built with ICU (the default since PostgreSQL 16, and every major distribution) have it.
 */
const NAME_ORDER = sql`c.name collate "und-x-icu"`;

/** `%q%` for ILIKE with the user's own % and _ taken literally. */
export const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const joinAnd = (parts: SQL[]) => sql.join(parts, sql` and `);

interface ListQuery {
  /** Column list (must include `id`). */
  columns: SQL;
  /** FROM … JOIN …. */
  from: SQL;
  where: SQL[];
  sort: SortDef;
  dir: SortDir;
  idType: 'uuid' | 'text';
}

/** One page (limit + 1 rows, to know whether there is a next one) after the cursor, in sort order. */
async function pageRows<T>(db: DbOrTx, q: ListQuery, limit: number, after?: Cursor) {
  const op = q.dir === 'asc' ? sql`>` : sql`<`;
  const dir = q.dir === 'asc' ? sql`asc` : sql`desc`;
  if (
    after &&
    (!cursorFits(q.sort.type, after.k) || !cursorFits(q.idType === 'uuid' ? 'uuid' : 'text', after.id))
  )
    throw badCursor();
  const keyset = after
    ? sql`where (t._k, t.id) ${op} (cast(${after.k} as ${sql.raw(q.sort.type)}), cast(${after.id} as ${sql.raw(q.idType)}))`
    : sql``;
  return rowsOf<T & { _kt: string; id: string }>(
    await db.execute(sql`
      select * from (
        select ${q.columns}, ${q.sort.expr} as _k, (${q.sort.expr})::text as _kt
        from ${q.from} where ${joinAnd(q.where)}
      ) t ${keyset}
      order by t._k ${dir}, t.id ${dir}
      limit ${limit}`),
  );
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A page of `limit` rows and the cursor of the next one. */
export async function listPage<T>(db: DbOrTx, q: ListQuery, limit: number, after?: Cursor): Promise<Page<T>> {
  const rows = await pageRows<T>(db, q, limit + 1, after);
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return {
    items: page,
    nextCursor: rows.length > limit && last ? encodeCursor({ k: last._kt, id: String(last.id) }) : null,
  };
}

/** Every matching row, in sort order, read in keyset chunks (an export of the filtered set). */
export async function listAll<T>(db: DbOrTx, q: ListQuery, chunk = 5_000): Promise<T[]> {
  const out: T[] = [];
  let after: Cursor | undefined;
  for (;;) {
    const rows = await pageRows<T>(db, q, chunk, after);
    out.push(...rows);
    const last = rows.at(-1);
    if (rows.length < chunk || !last) return out;
    after = { k: last._kt, id: String(last.id) };
  }
}

const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const numOrNull = (v: unknown) => (v === null || v === undefined ? null : Number(v));
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
export type NextWaits = 'approval' | 'upload' | null;
const waits = (v: unknown): NextWaits => (v === 'approval' || v === 'upload' ? v : null);
const day = (v: unknown) => (v === null || v === undefined ? null : String(v).slice(0, 10));

// ---- invoices --------------------------------------------------------------------------------------------------

export const AGING_BUCKETS = ['current', '1-30', '31-60', '61-90', '90+'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

export interface InvoiceListFilter {
  today: string;
  status?: 'open' | 'paid' | 'void' | 'deleted';
  overdue?: boolean;
  customerId?: string;
  q?: string;
  currency?: string;
  /** Open invoices in one aging bucket of the dashboard (days past due as of today). */
  aging?: AgingBucket;
  dueFrom?: string;
  dueTo?: string;
  issuedFrom?: string;
  issuedTo?: string;
  paidFrom?: string;
  paidTo?: string;
  /** Open invoices expected to be paid in a window: the predicted date, else the due date (today when past due). */
  expectedFrom?: string;
  expectedTo?: string;
  risk?: 'low' | 'medium' | 'high';
  minBalanceMinor?: number;
  maxBalanceMinor?: number;
  disputed?: boolean;
  /** Only these invoices (a bulk action on a selection). */
  ids?: string[];
}

const DAYS_OVERDUE = (today: string) =>
  sql`case when i.status = 'open' and i.due_date < ${today}::date then ${today}::date - i.due_date else 0 end`;

const OPEN_DISPUTE = (today: string) => sql`exists (select 1 from disputes d where d.tenant_id = i.tenant_id
  and d.invoice_id = i.id and d.resolved_at is null and (d.until is null or d.until >= ${today}::date))`;

// Reminders only: a payment receipt (kind 'receipt') thanks a debtor who paid; counted, a customer who had paid
// everything showed a next reminder on the receipt's day (tests/lists/next-reminder-receipts.test.ts).
const LAST_REMINDER = sql`(select max(m.sent_at) from dunning_message_steps s join dunning_messages m on m.id = s.message_id
  where s.tenant_id = i.tenant_id and s.invoice_id = i.id and m.status = 'sent' and m.kind = 'reminder')`;
/** A reminder still to go (planned, awaiting approval, queued) — receipts excluded, as above. */
const PENDING_REMINDER = sql`m.status in ('planned','awaiting_approval','queued') and m.kind = 'reminder'`;
const NEXT_REMINDER = sql`(select min(m.send_at) from dunning_message_steps s join dunning_messages m on m.id = s.message_id
  where s.tenant_id = i.tenant_id and s.invoice_id = i.id and ${PENDING_REMINDER})`;
/**
 * What the next reminder waits for, when it waits for a person: a reviewer's approval, or a newer upload of a CSV
 * company's ledger (ledger_stale). Its send time may then be past, and the list says why it has not gone.
 */
const WAITS = sql`case when m.status = 'awaiting_approval' then 'approval'
  when m.status_code = 'ledger_stale' then 'upload' end`;
const NEXT_REMINDER_WAITS = sql`(select ${WAITS} from dunning_message_steps s join dunning_messages m on m.id = s.message_id
  where s.tenant_id = i.tenant_id and s.invoice_id = i.id and ${PENDING_REMINDER} order by m.send_at, m.id limit 1)`;

export const INVOICE_SORTS = [
  'number',
  'customer',
  'issueDate',
  'dueDate',
  'total',
  'balance',
  'paidDate',
  'status',
  'daysOverdue',
  'risk',
  'predictedPayDate',
  'lastReminder',
  'nextReminder',
] as const;

function invoiceSort(key: string, today: string): SortDef {
  switch (key) {
    case 'number':
      return { expr: sql`lower(coalesce(i.number, i.external_id))`, type: 'text' };
    case 'customer':
      return { expr: NAME_ORDER, type: 'text' };
    case 'issueDate':
      return { expr: sql`i.issue_date`, type: 'date' };
    case 'total':
      return { expr: sql`i.total_minor`, type: 'bigint' };
    case 'balance':
      return { expr: sql`i.balance_minor`, type: 'bigint' };
    case 'paidDate':
      return { expr: sql`coalesce(i.paid_date, '-infinity'::date)`, type: 'date' };
    case 'status':
      return { expr: sql`i.status`, type: 'text' };
    case 'daysOverdue':
      return { expr: sql`(${DAYS_OVERDUE(today)})::int`, type: 'int' };
    case 'risk':
      return { expr: sql`coalesce(p.p_late, -1)::float8`, type: 'float8' };
    case 'predictedPayDate':
      return { expr: sql`coalesce(p.predicted_pay_date, 'infinity'::date)`, type: 'date' };
    case 'lastReminder':
      return { expr: sql`coalesce(${LAST_REMINDER}, '-infinity'::timestamptz)`, type: 'timestamptz' };
    case 'nextReminder':
      return { expr: sql`coalesce(${NEXT_REMINDER}, 'infinity'::timestamptz)`, type: 'timestamptz' };
    default:
      return { expr: sql`i.due_date`, type: 'date' };
  }
}

function invoiceWhere(tenantId: string, f: InvoiceListFilter): SQL[] {
  const w: SQL[] = [sql`i.tenant_id = ${tenantId}::uuid`];
  const t = f.today;
  if (f.status) w.push(sql`i.status = ${f.status}`);
  if (f.overdue === true) w.push(sql`i.status = 'open' and i.due_date < ${t}::date`);
  if (f.overdue === false) w.push(sql`(i.status <> 'open' or i.due_date >= ${t}::date)`);
  if (f.customerId) w.push(sql`i.customer_id = ${f.customerId}::uuid`);
  if (f.currency) w.push(sql`i.currency = ${f.currency}`);
  if (f.q) {
    const p = likePattern(f.q);
    // The customers that match are found once (a hashed subplan), not per invoice row.
    w.push(sql`(i.number ilike ${p} or i.external_id ilike ${p} or i.bill_email ilike ${p}
      or i.customer_id in (select c2.id from customers c2 where c2.tenant_id = ${tenantId}::uuid
        and (c2.name ilike ${p} or c2.external_id ilike ${p} or array_to_string(c2.emails, ' ') ilike ${p})))`);
  }
  if (f.aging) {
    w.push(sql`i.status = 'open'`);
    const d = sql`(${t}::date - i.due_date)`;
    const range: Record<AgingBucket, SQL> = {
      current: sql`${d} <= 0`,
      '1-30': sql`${d} between 1 and 30`,
      '31-60': sql`${d} between 31 and 60`,
      '61-90': sql`${d} between 61 and 90`,
      '90+': sql`${d} > 90`,
    };
    w.push(range[f.aging]);
  }
  if (f.dueFrom) w.push(sql`i.due_date >= ${f.dueFrom}::date`);
  if (f.dueTo) w.push(sql`i.due_date <= ${f.dueTo}::date`);
  if (f.issuedFrom) w.push(sql`i.issue_date >= ${f.issuedFrom}::date`);
  if (f.issuedTo) w.push(sql`i.issue_date <= ${f.issuedTo}::date`);
  if (f.paidFrom) w.push(sql`i.paid_date >= ${f.paidFrom}::date`);
  if (f.paidTo) w.push(sql`i.paid_date <= ${f.paidTo}::date`);
  if (f.expectedFrom || f.expectedTo) {
    const expected = sql`coalesce(p.predicted_pay_date, greatest(i.due_date, ${t}::date))`;
    w.push(sql`i.status = 'open'`);
    if (f.expectedFrom) w.push(sql`${expected} >= ${f.expectedFrom}::date`);
    if (f.expectedTo) w.push(sql`${expected} <= ${f.expectedTo}::date`);
  }
  if (f.risk) w.push(sql`p.risk_band = ${f.risk}`);
  if (f.minBalanceMinor !== undefined) w.push(sql`i.balance_minor >= ${f.minBalanceMinor}`);
  if (f.maxBalanceMinor !== undefined) w.push(sql`i.balance_minor <= ${f.maxBalanceMinor}`);
  if (f.disputed === true) w.push(OPEN_DISPUTE(t));
  if (f.disputed === false) w.push(sql`not ${OPEN_DISPUTE(t)}`);
  if (f.ids) w.push(sql`i.id = any(${`{${f.ids.join(',')}}`}::uuid[])`);
  return w;
}

const INVOICE_FROM = sql`invoices i join customers c on c.id = i.customer_id
  left join invoice_predictions p on p.invoice_id = i.id`;

export interface InvoiceListRow {
  id: string;
  externalId: string;
  number: string | null;
  customerId: string;
  customerExternalId: string;
  customerName: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  totalMinor: number;
  balanceMinor: number;
  status: 'open' | 'paid' | 'void' | 'deleted';
  paidDate: string | null;
  payLink: string | null;
  daysOverdue: number;
  disputed: boolean;
  lastReminderAt: string | null;
  nextReminderAt: string | null;
  /** The next reminder waits for a reviewer's approval or a newer upload (its send time may be past). */
  nextReminderWaits: NextWaits;
  prediction: {
    pLate: number;
    riskBand: 'low' | 'medium' | 'high';
    predictedPayDate: string;
    /** P(paid within 30 / 90 days of the scoring day), given unpaid then (null: no such estimate). */
    pCollect30: number | null;
    pCollect90: number | null;
  } | null;
}

function invoiceQuery(tenantId: string, f: InvoiceListFilter, sort: Sort): ListQuery {
  return {
    columns: sql`i.id, i.external_id, i.number, i.customer_id, c.external_id as customer_external_id,
      c.name as customer_name, i.issue_date::text as issue_date, i.due_date::text as due_date, i.currency,
      i.total_minor::float8 as total_minor, i.balance_minor::float8 as balance_minor, i.status,
      i.paid_date::text as paid_date, i.pay_link, (${DAYS_OVERDUE(f.today)})::int as days_overdue,
      ${OPEN_DISPUTE(f.today)} as disputed, ${LAST_REMINDER} as last_reminder_at, ${NEXT_REMINDER} as next_reminder_at,
      ${NEXT_REMINDER_WAITS} as next_reminder_waits,
      p.p_late, p.risk_band, p.predicted_pay_date::text as predicted_pay_date, p.p_collect30, p.p_collect90`,
    from: INVOICE_FROM,
    where: invoiceWhere(tenantId, f),
    sort: invoiceSort(sort.key, f.today),
    dir: sort.dir,
    idType: 'uuid',
  };
}

function invoiceRow(r: Record<string, unknown>): InvoiceListRow {
  return {
    id: String(r.id),
    externalId: String(r.external_id),
    number: (r.number as string | null) ?? null,
    customerId: String(r.customer_id),
    customerExternalId: String(r.customer_external_id),
    customerName: String(r.customer_name),
    issueDate: day(r.issue_date)!,
    dueDate: day(r.due_date)!,
    currency: String(r.currency),
    totalMinor: num(r.total_minor),
    balanceMinor: num(r.balance_minor),
    status: r.status as InvoiceListRow['status'],
    paidDate: day(r.paid_date),
    payLink: (r.pay_link as string | null) ?? null,
    daysOverdue: num(r.days_overdue),
    disputed: r.disputed === true || r.disputed === 't',
    lastReminderAt: iso(r.last_reminder_at),
    nextReminderAt: iso(r.next_reminder_at),
    nextReminderWaits: waits(r.next_reminder_waits),
    prediction:
      r.risk_band === null || r.risk_band === undefined
        ? null
        : {
            pLate: Number(r.p_late),
            riskBand: String(r.risk_band) as 'low' | 'medium' | 'high',
            predictedPayDate: day(r.predicted_pay_date)!,
            pCollect30: r.p_collect30 == null ? null : Number(r.p_collect30),
            pCollect90: r.p_collect90 == null ? null : Number(r.p_collect90),
          },
  };
}

export async function invoicePage(
  db: DbOrTx,
  tenantId: string,
  f: InvoiceListFilter,
  sort: Sort,
  limit: number,
  after?: Cursor,
): Promise<Page<InvoiceListRow>> {
  const p = await listPage<Record<string, unknown>>(db, invoiceQuery(tenantId, f, sort), limit, after);
  return { items: p.items.map(invoiceRow), nextCursor: p.nextCursor };
}

export async function allInvoices(db: DbOrTx, tenantId: string, f: InvoiceListFilter, sort: Sort) {
  return (await listAll<Record<string, unknown>>(db, invoiceQuery(tenantId, f, sort))).map(invoiceRow);
}

export interface CurrencyTotals {
  currency: string;
  count: number;
  totalMinor: number;
  balanceMinor: number;
  overdueMinor: number;
}

/** The count and per-currency sums of the filtered set (what a controller checks an export against). */
export async function invoiceTotals(db: DbOrTx, tenantId: string, f: InvoiceListFilter) {
  const rows = rowsOf<Record<string, unknown>>(
    await db.execute(sql`
      select i.currency, count(*)::int as n, coalesce(sum(i.total_minor), 0)::float8 as total,
        coalesce(sum(i.balance_minor) filter (where i.status = 'open'), 0)::float8 as balance,
        coalesce(sum(i.balance_minor) filter (where i.status = 'open' and i.due_date < ${f.today}::date), 0)::float8 as overdue
      from ${INVOICE_FROM} where ${joinAnd(invoiceWhere(tenantId, f))}
      group by i.currency order by count(*) desc, i.currency`),
  );
  const totals: CurrencyTotals[] = rows.map((r) => ({
    currency: String(r.currency),
    count: num(r.n),
    totalMinor: num(r.total),
    balanceMinor: num(r.balance),
    overdueMinor: num(r.overdue),
  }));
  return { total: totals.reduce((s, t) => s + t.count, 0), totals };
}

// ---- customers -------------------------------------------------------------------------------------------------

export interface CustomerListFilter {
  today: string;
  /** The currency of the open and overdue amounts (the tenant's unless asked otherwise). */
  currency: string;
  q?: string;
  /** Only customers with an overdue balance. */
  overdue?: boolean;
  /** Only customers with an open balance. */
  open?: boolean;
  minRisk?: number;
  /** Dunning state: paused (a pause date today or later), excluded, or active (neither). */
  dunning?: 'paused' | 'excluded' | 'active';
  ids?: string[];
}

export const CUSTOMER_SORTS = [
  'name',
  'externalId',
  'openInvoices',
  'balance',
  'overdue',
  'daysOverdue',
  'risk',
  'atRisk',
  'lastContact',
  'nextAction',
] as const;

const LAST_CONTACT = sql`(select max(m.sent_at) from dunning_messages m where m.customer_id = c.id and m.status = 'sent')`;
const NEXT_ACTION = sql`(select min(m.send_at) from dunning_messages m where m.customer_id = c.id and ${PENDING_REMINDER})`;
const NEXT_ACTION_WAITS = sql`(select ${WAITS} from dunning_messages m where m.customer_id = c.id and ${PENDING_REMINDER}
  order by m.send_at, m.id limit 1)`;

function customerSort(key: string): SortDef {
  switch (key) {
    case 'externalId':
      return { expr: sql`c.external_id`, type: 'text' };
    case 'openInvoices':
      return { expr: sql`coalesce(a.open_count, 0)::int`, type: 'int' };
    case 'balance':
      return { expr: sql`coalesce(a.open_minor, 0)::float8`, type: 'float8' };
    case 'overdue':
      return { expr: sql`coalesce(a.overdue_minor, 0)::float8`, type: 'float8' };
    case 'daysOverdue':
      return { expr: sql`coalesce(a.max_days, 0)::int`, type: 'int' };
    case 'risk':
      return { expr: sql`coalesce(r.score, -1)::int`, type: 'int' };
    case 'atRisk':
      // Risk-weighted exposure: the open balance (in the list's currency) × the risk score, so the riskiest
      // accounts with the most money owed come first, not the smallest write-offs at 100.
      return { expr: sql`(coalesce(r.score, 0) * coalesce(a.open_minor, 0))::float8`, type: 'float8' };
    case 'lastContact':
      return { expr: sql`coalesce(${LAST_CONTACT}, '-infinity'::timestamptz)`, type: 'timestamptz' };
    case 'nextAction':
      return { expr: sql`coalesce(${NEXT_ACTION}, 'infinity'::timestamptz)`, type: 'timestamptz' };
    default:
      return { expr: NAME_ORDER, type: 'text' };
  }
}

/**
 * Per customer, its open invoices' figures: a LATERAL aggregate on invoices_customer_status_idx, so a page sorted by
 * name reads only its own customers' invoices, and the plan does not depend on table statistics (PGlite has no
 * autovacuum to gather them).
 */
/**
 * Per customer: open invoices and the oldest days overdue in any currency; the open and overdue amounts only of
 * invoices in `currency` (minor units of different currencies cannot be added).
 */
function customerFrom(_tenantId: string, today: string, currency: string): SQL {
  const overdue = sql`i.due_date < ${today}::date`;
  const inCurrency = sql`i.currency = ${currency}`;
  return sql`customers c
    left join lateral (
      select count(*) as open_count, count(*) filter (where ${overdue}) as overdue_count,
        sum(i.balance_minor) filter (where ${inCurrency}) as open_minor,
        sum(i.balance_minor) filter (where ${overdue} and ${inCurrency}) as overdue_minor,
        max(greatest(0, ${today}::date - i.due_date)) as max_days,
        array_agg(distinct i.currency order by i.currency) filter (where not ${inCurrency}) as other_currencies
      from invoices i where i.customer_id = c.id and i.status = 'open'
    ) a on true
    left join customer_risk r on r.customer_id = c.id
    left join dunning_overrides o on o.tenant_id = c.tenant_id and o.customer_id = c.id`;
}

/**
 * The Customers list's rows, and so its count and totals, its export and a bulk action's "all matching": a customer
 * deleted in the ledger (deleted_at: deleted or made inactive there, a CSV company's file debtor released when it
 * connected its ledger) is not one of the company's customers any more, unless invoices of its are still open (they
 * count on the Dashboard and in the Invoices list: the list shows who owes them). Its page stays reachable by its link.
 */
function customerWhere(tenantId: string, f: CustomerListFilter): SQL[] {
  const w: SQL[] = [
    sql`c.tenant_id = ${tenantId}::uuid`,
    sql`(c.deleted_at is null or coalesce(a.open_count, 0) > 0)`,
  ];
  if (f.q) {
    const p = likePattern(f.q);
    w.push(sql`(c.name ilike ${p} or c.external_id ilike ${p} or array_to_string(c.emails, ' ') ilike ${p})`);
  }
  // Open / overdue in any currency, so a customer who owes only in another currency is still found.
  if (f.overdue === true) w.push(sql`coalesce(a.overdue_count, 0) > 0`);
  if (f.overdue === false) w.push(sql`coalesce(a.overdue_count, 0) = 0`);
  if (f.open === true) w.push(sql`coalesce(a.open_count, 0) > 0`);
  if (f.open === false) w.push(sql`coalesce(a.open_count, 0) = 0`);
  if (f.minRisk !== undefined) w.push(sql`r.score >= ${f.minRisk}`);
  const paused = sql`(o.paused_until is not null and o.paused_until >= ${f.today}::date)`;
  if (f.dunning === 'paused') w.push(paused);
  if (f.dunning === 'excluded') w.push(sql`o.excluded is true`);
  if (f.dunning === 'active') w.push(sql`not coalesce(o.excluded, false) and not coalesce(${paused}, false)`);
  if (f.ids) w.push(sql`c.id = any(${`{${f.ids.join(',')}}`}::uuid[])`);
  return w;
}

export interface CustomerListRow {
  id: string;
  externalId: string;
  name: string;
  emails: string[];
  /** The dunning contact set in Duely (Call list, customer page) in place of `emails`; empty when none. */
  contactEmails: string[];
  firstSeen: string | null;
  openInvoices: number;
  openBalanceMinor: number;
  overdueMinor: number;
  /** Currencies other than the list's `currency` that the customer has open invoices in (their amounts are not in
   * openBalanceMinor: minor units of different currencies cannot be added). */
  otherCurrencies: string[];
  maxDaysOverdue: number;
  riskScore: number | null;
  slowingAlert: boolean;
  pausedUntil: string | null;
  excluded: boolean;
  lastContactAt: string | null;
  nextActionAt: string | null;
  /** The next reminder waits for a reviewer's approval or a newer upload (its send time may be past). */
  nextActionWaits: NextWaits;
}

function customerQuery(tenantId: string, f: CustomerListFilter, sort: Sort): ListQuery {
  return {
    columns: sql`c.id, c.external_id, c.name, c.emails, o.contact_emails, c.first_seen::text as first_seen,
      coalesce(a.open_count, 0)::int as open_invoices, coalesce(a.open_minor, 0)::float8 as open_minor,
      coalesce(a.overdue_minor, 0)::float8 as overdue_minor, coalesce(a.max_days, 0)::int as max_days,
      a.other_currencies, r.score as risk_score, coalesce(r.slowing_alert, false) as slowing_alert,
      o.paused_until::text as paused_until, coalesce(o.excluded, false) as excluded,
      ${LAST_CONTACT} as last_contact_at, ${NEXT_ACTION} as next_action_at,
      ${NEXT_ACTION_WAITS} as next_action_waits`,
    from: customerFrom(tenantId, f.today, f.currency),
    where: customerWhere(tenantId, f),
    sort: customerSort(sort.key),
    dir: sort.dir,
    idType: 'uuid',
  };
}

const bool = (v: unknown) => v === true || v === 't';

function customerRow(r: Record<string, unknown>): CustomerListRow {
  return {
    id: String(r.id),
    externalId: String(r.external_id),
    name: String(r.name),
    emails: (r.emails as string[] | null) ?? [],
    contactEmails: (r.contact_emails as string[] | null) ?? [],
    firstSeen: day(r.first_seen),
    openInvoices: num(r.open_invoices),
    openBalanceMinor: num(r.open_minor),
    overdueMinor: num(r.overdue_minor),
    otherCurrencies: (r.other_currencies as string[] | null) ?? [],
    maxDaysOverdue: num(r.max_days),
    riskScore: numOrNull(r.risk_score),
    slowingAlert: bool(r.slowing_alert),
    pausedUntil: day(r.paused_until),
    excluded: bool(r.excluded),
    lastContactAt: iso(r.last_contact_at),
    nextActionAt: iso(r.next_action_at),
    nextActionWaits: waits(r.next_action_waits),
  };
}

export async function customerPage(
  db: DbOrTx,
  tenantId: string,
  f: CustomerListFilter,
  sort: Sort,
  limit: number,
  after?: Cursor,
): Promise<Page<CustomerListRow>> {
  const p = await listPage<Record<string, unknown>>(db, customerQuery(tenantId, f, sort), limit, after);
  return { items: p.items.map(customerRow), nextCursor: p.nextCursor };
}

export async function allCustomers(db: DbOrTx, tenantId: string, f: CustomerListFilter, sort: Sort) {
  return (await listAll<Record<string, unknown>>(db, customerQuery(tenantId, f, sort))).map(customerRow);
}

export async function customerTotals(db: DbOrTx, tenantId: string, f: CustomerListFilter) {
  const [r] = rowsOf<Record<string, unknown>>(
    await db.execute(sql`
      select count(*)::int as n, coalesce(sum(a.open_minor), 0)::float8 as open_minor,
        coalesce(sum(a.overdue_minor), 0)::float8 as overdue_minor
      from ${customerFrom(tenantId, f.today, f.currency)} where ${joinAnd(customerWhere(tenantId, f))}`),
  );
  return {
    total: num(r?.n),
    totals: { openBalanceMinor: num(r?.open_minor), overdueMinor: num(r?.overdue_minor) },
  };
}

export interface AtRiskCustomer {
  id: string;
  externalId: string;
  name: string;
  riskScore: number;
  /** Open and overdue balances in the group's currency only (minor units). */
  openBalanceMinor: number;
  overdueMinor: number;
}

export interface AtRiskGroup {
  currency: string;
  /** Customers scoring at least 1 with an open balance in this currency (the group shows the first `limit`). */
  total: number;
  items: AtRiskCustomer[];
}

/**
 * "Customers at risk" per currency: in each currency the customers with an open balance in it and a risk score of at
 * least 1, by risk score × that balance (the riskiest accounts with the most owed first), the first `limit` of each.
 * Minor units of different currencies are neither compared nor added (no exchange rates): a CAD debtor is ranked
 * among the CAD balances, not at 0 among the USD ones. The tenant's currency comes first, then the others by how
 * many customers are at risk in them.
 */
export async function customersAtRisk(
  db: DbOrTx,
  tenantId: string,
  f: { today: string; currency: string; limit: number },
): Promise<AtRiskGroup[]> {
  const rows = rowsOf<Record<string, unknown>>(
    await db.execute(sql`
      with owed as (
        select i.customer_id, i.currency, sum(i.balance_minor)::float8 as open_minor,
          coalesce(sum(i.balance_minor) filter (where i.due_date < ${f.today}::date), 0)::float8 as overdue_minor
        from invoices i where i.tenant_id = ${tenantId}::uuid and i.status = 'open'
        group by i.customer_id, i.currency
        having sum(i.balance_minor) > 0
      ), ranked as (
        select o.currency, o.open_minor, o.overdue_minor, c.id, c.external_id, c.name, r.score,
          row_number() over (partition by o.currency
            order by r.score * o.open_minor desc, ${NAME_ORDER}, c.id) as rn,
          count(*) over (partition by o.currency) as n
        from owed o
        join customers c on c.id = o.customer_id
        join customer_risk r on r.customer_id = o.customer_id
        where r.score >= 1
      )
      select * from ranked where rn <= ${f.limit}
      order by (currency = ${f.currency}) desc, n desc, currency, rn`),
  );
  const groups: AtRiskGroup[] = [];
  for (const r of rows) {
    const currency = String(r.currency);
    let g = groups.at(-1);
    if (g?.currency !== currency) {
      g = { currency, total: num(r.n), items: [] };
      groups.push(g);
    }
    g.items.push({
      id: String(r.id),
      externalId: String(r.external_id),
      name: String(r.name),
      riskScore: num(r.score),
      openBalanceMinor: num(r.open_minor),
      overdueMinor: num(r.overdue_minor),
    });
  }
  return groups;
}

/** Customer ids of the filtered set (a bulk action on "all N matching"). */
export async function customerIds(db: DbOrTx, tenantId: string, f: CustomerListFilter): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(
      sql`select c.id from ${customerFrom(tenantId, f.today, f.currency)} where ${joinAnd(customerWhere(tenantId, f))}`,
    ),
  );
  return rows.map((r) => String(r.id));
}

// ---- messages --------------------------------------------------------------------------------------------------

export interface MessageListFilter {
  status?: string;
  customerId?: string;
  q?: string;
  tone?: string;
  /** Send (or sent) time from/to, as instants. */
  from?: Date;
  to?: Date;
  /** Created before (the older API's cursor). */
  before?: Date;
  minAmountMinor?: number;
  maxAmountMinor?: number;
  ids?: string[];
}

export const MESSAGE_SORTS = ['createdAt', 'sendAt', 'customer', 'amount', 'status', 'tone'] as const;

const MESSAGE_AMOUNT = sql`(select coalesce(sum((x->>'openMinor')::bigint), 0) from
  jsonb_array_elements(case when jsonb_typeof(m.snapshot->'totals') = 'array' then m.snapshot->'totals' else '[]'::jsonb end) x)`;

function messageSort(key: string): SortDef {
  switch (key) {
    case 'sendAt':
      return { expr: sql`coalesce(m.sent_at, m.send_at)`, type: 'timestamptz' };
    case 'customer':
      return { expr: NAME_ORDER, type: 'text' };
    case 'amount':
      return { expr: sql`${MESSAGE_AMOUNT}::float8`, type: 'float8' };
    case 'status':
      return { expr: sql`m.status`, type: 'text' };
    case 'tone':
      return { expr: sql`coalesce(m.tone, '')`, type: 'text' };
    default:
      return { expr: sql`m.created_at`, type: 'timestamptz' };
  }
}

function messageWhere(tenantId: string, f: MessageListFilter): SQL[] {
  const w: SQL[] = [sql`m.tenant_id = ${tenantId}::uuid`];
  if (f.status) w.push(sql`m.status = ${f.status}`);
  if (f.customerId) w.push(sql`m.customer_id = ${f.customerId}::uuid`);
  if (f.tone) w.push(sql`m.tone = ${f.tone}`);
  if (f.q) {
    const p = likePattern(f.q);
    w.push(sql`(c.name ilike ${p} or c.external_id ilike ${p} or array_to_string(m.to, ' ') ilike ${p}
      or coalesce(m.subject, '') ilike ${p}
      or exists (select 1 from invoices i where i.id = any(m.invoice_ids) and coalesce(i.number, i.external_id) ilike ${p}))`);
  }
  if (f.from) w.push(sql`coalesce(m.sent_at, m.send_at) >= ${f.from.toISOString()}::timestamptz`);
  if (f.to) w.push(sql`coalesce(m.sent_at, m.send_at) < ${f.to.toISOString()}::timestamptz`);
  if (f.before) w.push(sql`m.created_at < ${f.before.toISOString()}::timestamptz`);
  if (f.minAmountMinor !== undefined) w.push(sql`${MESSAGE_AMOUNT} >= ${f.minAmountMinor}`);
  if (f.maxAmountMinor !== undefined) w.push(sql`${MESSAGE_AMOUNT} <= ${f.maxAmountMinor}`);
  if (f.ids)
    w.push(sql`m.id = any(${`{${f.ids.map((i) => `"${i.replace(/["\\]/g, '')}"`).join(',')}}`}::text[])`);
  return w;
}

const MESSAGE_FROM = sql`dunning_messages m join customers c on c.id = m.customer_id`;

function messageQuery(tenantId: string, f: MessageListFilter, sort: Sort): ListQuery {
  return {
    columns: sql`m.id, c.name as customer_name, c.external_id as customer_external_id, ${MESSAGE_AMOUNT}::float8 as amount_minor`,
    from: MESSAGE_FROM,
    where: messageWhere(tenantId, f),
    sort: messageSort(sort.key),
    dir: sort.dir,
    idType: 'text',
  };
}

export interface MessageListKey {
  id: string;
  customerName: string;
  customerExternalId: string;
  amountMinor: number;
}
const messageKey = (r: Record<string, unknown>): MessageListKey => ({
  id: String(r.id),
  customerName: String(r.customer_name),
  customerExternalId: String(r.customer_external_id),
  amountMinor: num(r.amount_minor),
});

/** A page of message ids in order (the caller reads the full rows), with the customer's name and the amount. */
export async function messagePage(
  db: DbOrTx,
  tenantId: string,
  f: MessageListFilter,
  sort: Sort,
  limit: number,
  after?: Cursor,
): Promise<Page<MessageListKey>> {
  const p = await listPage<Record<string, unknown>>(db, messageQuery(tenantId, f, sort), limit, after);
  return { items: p.items.map(messageKey), nextCursor: p.nextCursor };
}

export async function allMessages(db: DbOrTx, tenantId: string, f: MessageListFilter, sort: Sort) {
  return (await listAll<Record<string, unknown>>(db, messageQuery(tenantId, f, sort))).map(messageKey);
}

export async function messageTotals(db: DbOrTx, tenantId: string, f: MessageListFilter) {
  const rows = rowsOf<Record<string, unknown>>(
    await db.execute(sql`select m.status, count(*)::int as n from ${MESSAGE_FROM}
      where ${joinAnd(messageWhere(tenantId, f))} group by m.status order by m.status`),
  );
  const byStatus = Object.fromEntries(rows.map((r) => [String(r.status), num(r.n)]));
  return { total: rows.reduce((s, r) => s + num(r.n), 0), byStatus };
}

// ---- tasks -----------------------------------------------------------------------------------------------------

export interface TaskListFilter {
  status: 'open' | 'done';
  kind?: 'call' | 'find_contact' | 'review';
  customerId?: string;
  q?: string;
  minAmountMinor?: number;
}

export const TASK_SORTS = ['dueOn', 'createdAt', 'customer', 'amount', 'kind'] as const;

const TASK_AMOUNT = sql`(select coalesce(sum(i.balance_minor), 0) from invoices i
  where i.customer_id = t0.customer_id and i.status = 'open')`;

function taskSort(key: string): SortDef {
  switch (key) {
    case 'createdAt':
      return { expr: sql`t0.created_at`, type: 'timestamptz' };
    case 'customer':
      return { expr: NAME_ORDER, type: 'text' };
    case 'amount':
      return { expr: sql`${TASK_AMOUNT}::float8`, type: 'float8' };
    case 'kind':
      return { expr: sql`t0.kind`, type: 'text' };
    default:
      return { expr: sql`coalesce(t0.due_on, 'infinity'::date)`, type: 'date' };
  }
}

function taskWhere(tenantId: string, f: TaskListFilter): SQL[] {
  const w: SQL[] = [sql`t0.tenant_id = ${tenantId}::uuid`, sql`t0.status = ${f.status}`];
  if (f.kind) w.push(sql`t0.kind = ${f.kind}`);
  if (f.customerId) w.push(sql`t0.customer_id = ${f.customerId}::uuid`);
  if (f.q) {
    const p = likePattern(f.q);
    w.push(
      sql`(c.name ilike ${p} or c.external_id ilike ${p} or t0.title ilike ${p} or array_to_string(c.emails, ' ') ilike ${p})`,
    );
  }
  if (f.minAmountMinor !== undefined) w.push(sql`${TASK_AMOUNT} >= ${f.minAmountMinor}`);
  return w;
}

const TASK_FROM = sql`dunning_tasks t0 join customers c on c.id = t0.customer_id`;

function taskQuery(tenantId: string, f: TaskListFilter, sort: Sort): ListQuery {
  return {
    columns: sql`t0.id, ${TASK_AMOUNT}::float8 as open_minor`,
    from: TASK_FROM,
    where: taskWhere(tenantId, f),
    sort: taskSort(sort.key),
    dir: sort.dir,
    idType: 'uuid',
  };
}

const taskKey = (r: Record<string, unknown>) => ({ id: String(r.id), openMinor: num(r.open_minor) });

export async function taskPage(
  db: DbOrTx,
  tenantId: string,
  f: TaskListFilter,
  sort: Sort,
  limit: number,
  after?: Cursor,
) {
  const p = await listPage<Record<string, unknown>>(db, taskQuery(tenantId, f, sort), limit, after);
  return { items: p.items.map(taskKey), nextCursor: p.nextCursor };
}

export async function allTasks(db: DbOrTx, tenantId: string, f: TaskListFilter, sort: Sort) {
  return (await listAll<Record<string, unknown>>(db, taskQuery(tenantId, f, sort))).map(taskKey);
}

export async function taskTotals(db: DbOrTx, tenantId: string, f: TaskListFilter) {
  const [r] = rowsOf<Record<string, unknown>>(
    await db.execute(
      sql`select count(*)::int as n from ${TASK_FROM} where ${joinAnd(taskWhere(tenantId, f))}`,
    ),
  );
  return { total: num(r?.n) };
}

// ---- "all N matching": the ids of a filtered set, for a bulk action -------------------------------------------

export async function invoiceIdsMatching(
  db: DbOrTx,
  tenantId: string,
  f: InvoiceListFilter,
): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`select i.id from ${INVOICE_FROM} where ${joinAnd(invoiceWhere(tenantId, f))}`),
  );
  return rows.map((r) => String(r.id));
}

export async function messageIdsMatching(
  db: DbOrTx,
  tenantId: string,
  f: MessageListFilter,
): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await db.execute(sql`select m.id from ${MESSAGE_FROM} where ${joinAnd(messageWhere(tenantId, f))}`),
  );
  return rows.map((r) => String(r.id));
}

// ---- the rows behind a page of keys -----------------------------------------------------------------------------

/** Dunning messages by id (any order), read in chunks. */
export async function messagesByIds(db: DbOrTx, ids: string[]) {
  const out: (typeof dunningMessages.$inferSelect)[] = [];
  for (let i = 0; i < ids.length; i += 1000) {
    out.push(
      ...(await db
        .select()
        .from(dunningMessages)
        .where(inArray(dunningMessages.id, ids.slice(i, i + 1000)))),
    );
  }
  return out;
}

/** The delivery events of these messages, oldest first. */
export async function messageEvents(db: DbOrTx, messageIds: string[]) {
  if (messageIds.length === 0) return [];
  return db
    .select()
    .from(dunningMessageEvents)
    .where(inArray(dunningMessageEvents.messageId, messageIds))
    .orderBy(dunningMessageEvents.at);
}

/** Tasks by id with their customer's name, ledger id and emails. */
export async function tasksWithCustomers(db: DbOrTx, tenantId: string, ids: string[]) {
  if (ids.length === 0) return [];
  return db
    .select({
      task: dunningTasks,
      customerName: customers.name,
      customerExternalId: customers.externalId,
      customerEmails: customers.emails,
    })
    .from(dunningTasks)
    .innerJoin(customers, eq(customers.id, dunningTasks.customerId))
    .where(and(eq(dunningTasks.tenantId, tenantId), inArray(dunningTasks.id, ids)));
}

/** An open task of the tenant, locked for the caller's transaction; null when there is none. */
export async function lockOpenTask(tx: DbOrTx, tenantId: string, id: string) {
  const [task] = await tx
    .select()
    .from(dunningTasks)
    .where(and(eq(dunningTasks.id, id), eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.status, 'open')))
    .for('update');
  return task ?? null;
}

/** Makes `email` the customer's dunning contact (an override; any pause or exclusion stays). */
export async function setCustomerContact(
  tx: DbOrTx,
  tenantId: string,
  customerId: string,
  email: string,
  note: string,
  now: Date,
) {
  await tx.execute(sql`insert into dunning_overrides (tenant_id, customer_id, contact_emails, note, updated_at)
    values (${tenantId}::uuid, ${customerId}::uuid, ${`{"${email}"}`}::text[], ${note},
      ${now.toISOString()}::timestamptz)
    on conflict (tenant_id, customer_id) where customer_id is not null
    do update set contact_emails = excluded.contact_emails, updated_at = excluded.updated_at`);
}
