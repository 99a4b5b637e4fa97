/**
 * The Customer page's logic, free of React: the shapes of the dunning and risk APIs it reads, the timeline merged
 * from invoices, payments, messages, promises and disputes (newest first), the risk trend's words, and the
 * validation of the override, promise and dispute forms. Tested in tests/web/customer-timeline.test.ts.
 */
import { isIsoDate, addDays as kernelAddDays } from '../../../../connectors/dates';
import { parseAmountMinor } from '../../../../connectors/money';
import type { DunningMessage } from '../../components/dunning';
import { formatDate, formatMoney } from '../../lib/format';
import type { CustomerDetail, InvoiceRow } from '../../lib/types';

// ---- API shapes (src/http/routes/dunning.ts, src/http/routes/risk.ts) -----------------------------------------

export interface OverrideRow {
  id: string;
  customerId: string | null;
  invoiceId: string | null;
  pausedUntil: string | null;
  excluded: boolean;
  sequenceId: string | null;
  contactEmails: string[] | null;
  note: string | null;
  updatedAt: string;
}

export interface PromiseRow {
  id: string;
  customerId: string;
  invoiceIds: string[];
  promisedDate: string;
  amountMinor: number | null;
  graceDays: number;
  note: string | null;
  cancelledAt: string | null;
  createdAt: string;
}

export interface DisputeRow {
  id: string;
  invoiceId: string;
  openedOn: string;
  until: string | null;
  reason: string | null;
  resolvedAt: string | null;
  createdAt: string;
}

/** GET …/customers/:customer/risk: a scored customer, or `scored: false` (fields null) before any scoring. */
export type CustomerRiskAnswer = CustomerRiskView | { scored: false; customerId: string };

export interface CustomerRiskView {
  scored: true;
  customerId: string;
  /** The account's score: the higher of the payment habit and the open debt's collection risk. */
  score: number;
  /**
   * The payment habit (a typical new invoice's expected days late, at most 90, out of 90; the history and the
   * trends are its) and the open debt's collection risk (% of the open balance not expected within 90 days), with
   * the doubtful debt in words. Null or absent: scored before they were stored, or nothing open.
   */
  habitScore?: number | null;
  openDebtScore?: number | null;
  openDebtReason?: string | null;
  /** A typical new invoice's P(late), P(more than 30 days late), days late of its pay date (null: scored before). */
  pLate?: number | null;
  pSevere?: number | null;
  expectedDaysLate?: number | null;
  trend30: number | null;
  trend90: number | null;
  slowingAlert: boolean;
  message: string | null;
  modelVersion: string;
  asOf: string;
  band: 'low' | 'medium' | 'high';
  history: { day: string; score: number }[];
  reasons: string[];
}

type Payment = CustomerDetail['payments'][number];
/** A credit memo as the customer page reads it: its total, what is left of it, and the invoices it was applied to. */
export type CreditMemoRow = Pick<
  CustomerDetail['creditMemos'][number],
  'id' | 'externalId' | 'date' | 'currency' | 'totalMinor' | 'remainingMinor' | 'status'
> &
  Partial<Pick<CustomerDetail['creditMemos'][number], 'journalEntryId' | 'number'>> & {
    applications: Pick<
      CustomerDetail['creditMemos'][number]['applications'][number],
      'invoiceId' | 'amountMinor' | 'date'
    >[];
  };

// ---- timeline -------------------------------------------------------------------------------------------------

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'muted';
export type TimelineKind = 'invoice' | 'payment' | 'credit' | 'message' | 'promise' | 'dispute';

export interface TimelineEntry {
  key: string;
  kind: TimelineKind;
  /** The calendar day it is listed under (YYYY-MM-DD; instants in the viewer's time zone). */
  day: string;
  /** "14:05" for instants; null for events that are a calendar date (issued, paid, opened on). */
  time: string | null;
  title: string;
  amounts: { minor: number; currency: string }[];
  status: { label: string; tone: Tone };
  detail: string | null;
  /** Message entries: the message, for "why this message". */
  message?: DunningMessage;
  /** Not happened yet: a planned or held message, a promise not yet due. */
  upcoming: boolean;
}

export interface TimelineInput {
  customerId: string;
  invoices: InvoiceRow[];
  payments: Payment[];
  /** Credit memos issued to the customer (with the invoices each was applied to); none when absent. */
  creditMemos?: CreditMemoRow[];
  messages: DunningMessage[];
  promises: PromiseRow[];
  disputes: DisputeRow[];
  /** The server's today (see ledgerToday); null when unknown. */
  today: string | null;
  /** IANA zone instants are shown in; the viewer's by default. */
  timeZone?: string;
}

/** Local day and 24-hour time of an instant in `timeZone`. */
export function localDayTime(iso: string, timeZone?: string): { day: string; time: string } {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return { day: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}` };
}

/**
 * The app clock's today, as the ledger route used it: an open invoice's daysOverdue is today − due date. Null when
 * no invoice is overdue (then nothing on the page needs it to be exact). The browser's own clock is not used: a
 * demo or test runs the app at a fixed date.
 */
export function ledgerToday(invoices: readonly InvoiceRow[]): string | null {
  const overdue = invoices.find((i) => i.status === 'open' && i.daysOverdue > 0);
  return overdue ? addDays(overdue.dueDate, overdue.daysOverdue) : null;
}

/** The date kernel's addDays; a full instant counts as its UTC day. */
export function addDays(day: string, n: number): string {
  return kernelAddDays(day.slice(0, 10), n);
}

const deliveryTone: Record<string, Tone> = {
  sent: 'ok',
  delivered: 'ok',
  opened: 'ok',
  clicked: 'ok',
  delayed: 'warn',
  soft_bounced: 'warn',
  bounced: 'bad',
  failed: 'bad',
  complained: 'bad',
  suppressed: 'bad',
};

/** A message's state in words: held for approval, planned, sent → its delivery (delivered, bounced), skipped… */
export function messageState(m: DunningMessage): { label: string; tone: Tone } {
  switch (m.status) {
    case 'awaiting_approval':
      return { label: 'held for approval', tone: 'warn' };
    case 'planned':
      // Only while sending is off or paused (go-live): planned, not queued.
      return { label: 'would send', tone: 'info' };
    case 'queued':
    case 'sending':
      return { label: m.status, tone: 'info' };
    case 'sent': {
      const d = m.deliveryStatus ?? 'sent';
      return { label: d.replace(/_/g, ' '), tone: deliveryTone[d] ?? 'ok' };
    }
    case 'skipped':
      return { label: 'skipped', tone: 'muted' };
    case 'failed':
      return { label: 'failed', tone: 'bad' };
    case 'unconfirmed':
      return { label: 'may have been sent — check', tone: 'warn' };
    default:
      return { label: String(m.status).replace(/_/g, ' '), tone: 'muted' };
  }
}

function messageEntry(m: DunningMessage, timeZone?: string): TimelineEntry {
  const at = localDayTime(m.sentAt ?? m.sendAt, timeZone);
  const what =
    m.kind === 'reminder' ? `${m.tone ? `${capitalize(m.tone)} reminder` : 'Reminder'}` : capitalize(m.kind);
  const verb =
    m.status === 'sent' ? 'sent to' : m.status === 'skipped' || m.status === 'failed' ? 'to' : 'for';
  const note =
    m.status === 'failed'
      ? (m.error ?? m.why.statusReason)
      : m.status === 'awaiting_approval'
        ? (m.why.approvalReason ?? m.why.statusReason)
        : m.status !== 'sent'
          ? m.why.statusReason
          : null;
  return {
    key: `message:${m.id}`,
    kind: 'message',
    ...at,
    title: `${what} ${verb} ${m.to.length ? m.to.join(', ') : 'no address'}`,
    amounts: (m.why.snapshot.totals ?? []).map((t) => ({ minor: t.openMinor, currency: t.currency })),
    status: messageState(m),
    detail: note ? `${m.why.reason} — ${note}` : m.why.reason,
    message: m,
    upcoming: ['planned', 'awaiting_approval', 'queued', 'sending'].includes(m.status),
  };
}

function invoiceEntry(i: InvoiceRow): TimelineEntry {
  const label = i.number ?? i.externalId;
  const status: TimelineEntry['status'] =
    i.status === 'paid'
      ? { label: 'paid', tone: 'ok' }
      : i.status === 'open' && i.daysOverdue > 0
        ? { label: `${i.daysOverdue} ${i.daysOverdue === 1 ? 'day' : 'days'} overdue`, tone: 'bad' }
        : i.status === 'open'
          ? { label: 'open', tone: 'info' }
          : { label: i.status, tone: 'muted' };
  const parts = [`Due ${formatDate(i.dueDate)}`];
  if (i.status === 'open' && i.balanceMinor !== i.totalMinor)
    parts.push(`${formatMoney(i.balanceMinor, i.currency)} still open`);
  if (i.status === 'paid' && i.paidDate) parts.push(`paid ${formatDate(i.paidDate)}`);
  return {
    key: `invoice:${i.id}`,
    kind: 'invoice',
    day: i.issueDate.slice(0, 10),
    time: null,
    title: `Invoice ${label} issued`,
    amounts: [{ minor: i.totalMinor, currency: i.currency }],
    status,
    detail: parts.join(', '),
    upcoming: false,
  };
}

/**
 * How a credit on account is named: a credit memo by its id, a journal entry's credit to the customer's account
 * (a write-off, a contra) as that journal entry, by its number when it has one.
 */
export function creditName(c: Pick<CreditMemoRow, 'externalId' | 'journalEntryId' | 'number'>): string {
  return c.journalEntryId ? `Journal entry ${c.number ?? c.journalEntryId}` : `Credit memo ${c.externalId}`;
}

function paymentEntry(
  p: Payment,
  invoiceLabel: Map<string, string>,
  journalCredits: ReadonlySet<string>,
  journalDebits: ReadonlyMap<string, CreditMemoRow>,
): TimelineEntry {
  const applied = p.allocations
    .filter((a) => a.invoiceId)
    .map((a) => invoiceLabel.get(a.invoiceId) ?? 'an invoice');
  // What it paid of journal entries debiting the account (an opening balance, a charge booked by journal entry).
  const debitsPaid = Object.entries(p.journalApplied ?? {}).flatMap(([id, minor]) => {
    const debit = journalDebits.get(id);
    return debit ? [`${creditName(debit)} ${formatMoney(minor, p.currency)}`] : [];
  });
  const parts: string[] = [];
  if (applied.length || debitsPaid.length)
    parts.push(`Applied to ${[...new Set(applied), ...debitsPaid].join(', ')}`);
  if (p.unappliedMinor > 0) parts.push(`${formatMoney(p.unappliedMinor, p.currency)} unapplied`);
  // What it settled beyond the money received came from credit: a zero-amount payment only applies a credit memo
  // (a host ledger records the application as one), so it is "credit memo applied" for what it settled, not "$0.00".
  const settled = p.allocations.filter((a) => a.invoiceId).reduce((sum, a) => sum + a.amountMinor, 0);
  const credit = settled - (p.amountMinor - p.unappliedMinor);
  // Credit from journal entries only (its lines name journal credits): said so, not "credit memo".
  const fromCredit = p.allocations.filter((a) => a.creditMemoId);
  const journal = fromCredit.length > 0 && fromCredit.every((a) => journalCredits.has(a.creditMemoId ?? ''));
  const source = journal ? 'journal entry credit' : 'credit memo';
  if (p.amountMinor === 0 && credit > 0) {
    return {
      key: `payment:${p.id}`,
      kind: 'payment',
      day: p.date.slice(0, 10),
      time: null,
      title: journal ? 'Journal entry credit applied' : 'Credit memo applied',
      amounts: [{ minor: credit, currency: p.currency }],
      status: { label: `${source} applied`, tone: 'ok' },
      detail: parts.length ? parts.join('; ') : null,
      upcoming: false,
    };
  }
  if (credit > 0) parts.push(`${formatMoney(credit, p.currency)} from a ${source}`);
  return {
    key: `payment:${p.id}`,
    kind: 'payment',
    day: p.date.slice(0, 10),
    time: null,
    title: `Payment ${p.externalId} received`,
    amounts: [{ minor: p.amountMinor, currency: p.currency }],
    status: { label: 'received', tone: 'ok' },
    detail: parts.length ? parts.join('; ') : null,
    upcoming: false,
  };
}

/** "INV-1 $250.00 on Jun 5, 2013": one application of a credit memo (or a payment) to an invoice. */
export function applicationText(
  a: { invoiceId: string; amountMinor: number; date: string },
  currency: string,
  invoiceLabel: Map<string, string>,
): string {
  return `${invoiceLabel.get(a.invoiceId) ?? 'an invoice'} ${formatMoney(a.amountMinor, currency)} on ${formatDate(a.date)}`;
}

/** What is left of a credit memo: fully applied, partly, not yet; void and deleted ones say so. */
export function creditMemoState(
  c: Pick<CreditMemoRow, 'status' | 'totalMinor' | 'remainingMinor' | 'currency'>,
): {
  label: string;
  tone: Tone;
} {
  if (c.status !== 'active') return { label: c.status, tone: 'muted' };
  // A journal entry debiting the account: owed in the ledger, on no invoice, so no reminder asks for it; paid once
  // the payments linking it in the ledger cover it (remaining is what is still owed, negative).
  if (c.totalMinor < 0)
    return c.remainingMinor < 0
      ? { label: 'not chased by Duely', tone: 'warn' }
      : { label: 'paid', tone: 'ok' };
  if (c.remainingMinor <= 0) return { label: 'fully applied', tone: 'ok' };
  return { label: `${formatMoney(c.remainingMinor, c.currency)} remaining`, tone: 'info' };
}

function creditMemoEntry(c: CreditMemoRow, invoiceLabel: Map<string, string>): TimelineEntry {
  const parts: string[] = [];
  if (c.applications.length)
    parts.push(
      `Applied to ${c.applications.map((a) => applicationText(a, c.currency, invoiceLabel)).join(', ')}`,
    );
  if (c.status === 'active' && c.totalMinor < 0) {
    const paid = c.remainingMinor - c.totalMinor;
    if (paid > 0 && c.remainingMinor < 0)
      parts.push(
        `${formatMoney(paid, c.currency)} paid, ${formatMoney(-c.remainingMinor, c.currency)} still owed`,
      );
    else if (paid > 0) parts.push(`Paid by payments applied to it in the ledger`);
    if (c.remainingMinor < 0)
      parts.push(`Owed in the ledger but on no invoice: Duely sends no reminder for it`);
  }
  if (c.status === 'active' && c.remainingMinor > 0 && c.applications.length)
    parts.push(`${formatMoney(c.remainingMinor, c.currency)} remaining`);
  return {
    key: `credit:${c.id}`,
    kind: 'credit',
    day: c.date.slice(0, 10),
    time: null,
    title: c.journalEntryId
      ? `${creditName(c)} ${c.totalMinor < 0 ? 'debited' : 'credited'} the account`
      : `${creditName(c)} issued`,
    amounts: [{ minor: Math.abs(c.totalMinor), currency: c.currency }],
    status: creditMemoState(c),
    detail: parts.length ? parts.join('; ') : null,
    upcoming: false,
  };
}

/** Kept when none of its invoices is open any more; broken once past the date and the grace days. */
export function promiseState(
  p: PromiseRow,
  invoiceById: Map<string, InvoiceRow>,
  today: string | null,
): { label: string; tone: Tone } {
  const invs = p.invoiceIds.map((id) => invoiceById.get(id));
  if (invs.length > 0 && invs.every((i) => i && i.status !== 'open')) return { label: 'kept', tone: 'ok' };
  if (today && today > addDays(p.promisedDate, p.graceDays)) return { label: 'broken', tone: 'bad' };
  return { label: 'promised', tone: 'info' };
}

function promiseEntry(
  p: PromiseRow,
  invoiceById: Map<string, InvoiceRow>,
  today: string | null,
): TimelineEntry {
  const labels = p.invoiceIds.map((id) => {
    const i = invoiceById.get(id);
    return i ? (i.number ?? i.externalId) : 'an invoice';
  });
  const currency = invoiceById.get(p.invoiceIds[0] ?? '')?.currency;
  const parts = [`For ${labels.join(', ')}`];
  if (p.graceDays > 0) parts.push(`${p.graceDays} grace ${p.graceDays === 1 ? 'day' : 'days'}`);
  if (p.note) parts.push(p.note);
  const status = promiseState(p, invoiceById, today);
  return {
    key: `promise:${p.id}`,
    kind: 'promise',
    day: p.promisedDate,
    time: null,
    title: `Promised to pay by ${formatDate(p.promisedDate)}`,
    amounts: p.amountMinor !== null && currency ? [{ minor: p.amountMinor, currency }] : [],
    status,
    detail: parts.join(' · '),
    upcoming: status.label === 'promised' && (today === null || p.promisedDate >= today),
  };
}

function disputeEntries(
  d: DisputeRow,
  invoiceById: Map<string, InvoiceRow>,
  timeZone?: string,
): TimelineEntry[] {
  const inv = invoiceById.get(d.invoiceId);
  const label = inv ? (inv.number ?? inv.externalId) : 'an invoice';
  const parts: string[] = [];
  if (d.reason) parts.push(d.reason);
  if (!d.resolvedAt)
    parts.push(d.until ? `reminders held until ${formatDate(d.until)}` : 'reminders held until resolved');
  const opened: TimelineEntry = {
    key: `dispute:${d.id}`,
    kind: 'dispute',
    day: d.openedOn,
    time: null,
    title: `Dispute opened on invoice ${label}`,
    amounts: inv ? [{ minor: inv.balanceMinor, currency: inv.currency }] : [],
    status: d.resolvedAt ? { label: 'resolved', tone: 'ok' } : { label: 'open dispute', tone: 'warn' },
    detail: parts.length ? parts.join(' · ') : null,
    upcoming: false,
  };
  if (!d.resolvedAt) return [opened];
  return [
    opened,
    {
      key: `dispute-resolved:${d.id}`,
      kind: 'dispute',
      ...localDayTime(d.resolvedAt, timeZone),
      title: `Dispute on invoice ${label} resolved`,
      amounts: [],
      status: { label: 'resolved', tone: 'ok' },
      detail: null,
      upcoming: false,
    },
  ];
}

/** Same day and time: the later step of the story first (a payment above the invoice it pays). */
const kindRank: Record<TimelineKind, number> = {
  payment: 0,
  credit: 1,
  dispute: 2,
  promise: 3,
  message: 4,
  invoice: 5,
};

/** Newest first: by day, then time of day (timed entries above the day's date-only ones), then kind, then key. */
export function compareEntries(a: TimelineEntry, b: TimelineEntry): number {
  if (a.day !== b.day) return a.day < b.day ? 1 : -1;
  const at = a.time ?? '';
  const bt = b.time ?? '';
  if (at !== bt) return at < bt ? 1 : -1;
  if (a.kind !== b.kind) return kindRank[a.kind] - kindRank[b.kind];
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * One list of everything that happened with the customer, newest first. Promises sit on the day they promise
 * (when the money is expected), disputes on the day opened and, once resolved, again on that day. Messages and
 * promises of other customers, disputes of other customers' invoices, and cancelled promises are left out.
 */
export function buildTimeline(input: TimelineInput): TimelineEntry[] {
  const invoiceById = new Map(input.invoices.map((i) => [i.id, i]));
  const invoiceLabel = new Map(input.invoices.map((i) => [i.id, i.number ?? i.externalId]));
  const journalCredits = new Set((input.creditMemos ?? []).filter((c) => c.journalEntryId).map((c) => c.id));
  const journalDebits = new Map(
    (input.creditMemos ?? [])
      .filter((c) => c.journalEntryId && c.totalMinor < 0)
      .map((c) => [c.externalId, c]),
  );
  const entries: TimelineEntry[] = [
    ...input.invoices.map(invoiceEntry),
    ...input.payments.map((p) => paymentEntry(p, invoiceLabel, journalCredits, journalDebits)),
    ...(input.creditMemos ?? []).map((c) => creditMemoEntry(c, invoiceLabel)),
    ...input.messages
      .filter((m) => m.customerId === input.customerId)
      .map((m) => messageEntry(m, input.timeZone)),
    ...input.promises
      .filter((p) => p.cancelledAt === null && p.customerId === input.customerId)
      .map((p) => promiseEntry(p, invoiceById, input.today)),
    ...input.disputes
      .filter((d) => invoiceById.has(d.invoiceId))
      .flatMap((d) => disputeEntries(d, invoiceById, input.timeZone)),
  ];
  return entries.sort(compareEntries);
}

export type TimelineFilter = 'all' | 'money' | 'messages' | 'promises';

export const timelineFilters: { value: TimelineFilter; label: string }[] = [
  { value: 'all', label: 'Everything' },
  { value: 'money', label: 'Invoices, payments and credits' },
  { value: 'messages', label: 'Messages' },
  { value: 'promises', label: 'Promises and disputes' },
];

export function filterTimeline(entries: TimelineEntry[], f: TimelineFilter): TimelineEntry[] {
  if (f === 'all') return entries;
  const kinds: TimelineKind[] =
    f === 'money'
      ? ['invoice', 'payment', 'credit']
      : f === 'messages'
        ? ['message']
        : ['promise', 'dispute'];
  return entries.filter((e) => kinds.includes(e.kind));
}

// ---- risk trend -----------------------------------------------------------------------------------------------

/** "up 8 points in 30 days" with its arrow; a rising score is a worsening customer. */
export function trendWords(
  change: number | null,
  days: number,
): { arrow: '↑' | '↓' | '→'; text: string; tone: Tone } | null {
  if (change === null) return null;
  if (change === 0) return { arrow: '→', text: `unchanged in ${days} days`, tone: 'muted' };
  const n = Math.abs(change);
  const pts = `${n} ${n === 1 ? 'point' : 'points'}`;
  return change > 0
    ? { arrow: '↑', text: `up ${pts} in ${days} days`, tone: 'bad' }
    : { arrow: '↓', text: `down ${pts} in ${days} days`, tone: 'ok' };
}

/** The chart's text alternative: where the score is, and where it came from. */
export function riskSummary(r: CustomerRiskView): string {
  // The history and the trends are the payment habit's; when the open debt sets the score, they are named so.
  const byDebt = r.habitScore != null && r.habitScore !== r.score;
  const lead = byDebt
    ? `Risk score ${r.score} of 100 (${r.band} risk) as of ${formatDate(r.asOf)}, set by the open debt; payment habit ${r.habitScore} of 100`
    : `Risk score ${r.score} of 100 (${r.band} risk) as of ${formatDate(r.asOf)}`;
  // Each change names its own starting point: the score 30 (90) days before the last one in the history.
  const today = r.history.at(-1)?.day;
  const since = (change: number | null, days: number) => {
    const words = trendWords(change, days);
    if (!words || !today) return null;
    const text = byDebt ? `payment habit ${words.text}` : words.text;
    const then = r.history.find((p) => p.day === addDays(today, -days));
    return then ? `${text} (from ${then.score} on ${formatDate(then.day)})` : text;
  };
  const changes = [since(r.trend30, 30), since(r.trend90, 90)].filter((t) => t !== null);
  return changes.length ? `${lead}; ${changes.join('; ')}.` : `${lead} (no earlier score).`;
}

/**
 * What the score is made of, in words: a typical new invoice's chance of being paid late and more than 30 days
 * late, and how late its predicted pay date is, and the share of the open balance not expected within 90 days; null
 * when the stored score predates these figures.
 */
export function riskInputsInWords(r: CustomerRiskView): string | null {
  if (r.pLate == null || r.pSevere == null || r.expectedDaysLate == null) return null;
  const pct = (p: number) => `${Math.round(p * 100)}%`;
  const when =
    r.expectedDaysLate > 0
      ? `expected about ${r.expectedDaysLate} day${r.expectedDaysLate === 1 ? '' : 's'} after the due date`
      : 'expected by the due date';
  const habit =
    `A new invoice to this customer: ${pct(r.pLate)} chance of being paid late, ${pct(r.pSevere)} of more than ` +
    `30 days late; payment ${when}.`;
  if (r.openDebtScore == null)
    return `${habit} The score is the expected days late (counting at most 90) out of 90.`;
  return (
    `${habit} What is open now: ${r.openDebtScore}% of the balance is not expected to be collected within 90 ` +
    `days. The score is the higher of the payment habit (the expected days late, counting at most 90, out of 90: ` +
    `${r.habitScore ?? r.score}) and that share.`
  );
}

// ---- forms ----------------------------------------------------------------------------------------------------

export type FieldErrors = Partial<Record<string, string>>;

const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

/** "a@x.com, b@y.com; c@z.com" → the addresses, blanks dropped. */
export function parseEmails(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((e) => e.trim())
    .filter(Boolean);
}

export const isDay = isIsoDate;

export interface OverrideForm {
  pausedUntil: string;
  excluded: boolean;
  sequenceId: string;
  contactEmails: string;
  note: string;
}

export function overrideFormOf(o: OverrideRow | null): OverrideForm {
  return {
    pausedUntil: o?.pausedUntil ?? '',
    excluded: o?.excluded ?? false,
    sequenceId: o?.sequenceId ?? '',
    contactEmails: (o?.contactEmails ?? []).join(', '),
    note: o?.note ?? '',
  };
}

/** The PUT body (every field: the API replaces the whole override) or the errors by field. */
export function validateOverride(
  customerId: string,
  f: OverrideForm,
  today: string | null,
  sequenceIds: readonly string[],
  /** The stored pause: kept as it is, it is not refused for having passed. */
  storedPause: string | null = null,
): { ok: true; body: Record<string, unknown> } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const paused = f.pausedUntil.trim();
  if (paused && !isDay(paused)) errors.pausedUntil = 'Enter a date as YYYY-MM-DD.';
  else if (paused && today && paused <= today && paused !== storedPause)
    errors.pausedUntil = `Choose a date after ${formatDate(today)}.`;
  if (f.sequenceId && !sequenceIds.includes(f.sequenceId))
    errors.sequenceId = 'This sequence is no longer in the policy.';
  const emails = parseEmails(f.contactEmails);
  const bad = emails.filter((e) => !EMAIL.test(e));
  if (bad.length) errors.contactEmails = `Not an email address: ${bad.join(', ')}.`;
  if (f.note.length > 2000) errors.note = 'At most 2,000 characters.';
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    body: {
      customerId,
      pausedUntil: paused || null,
      excluded: f.excluded,
      sequenceId: f.sequenceId || null,
      contactEmails: emails.length ? emails : null,
      note: f.note.trim() || null,
    },
  };
}

/**
 * "1200.50" → 120050 minor units: the money kernel's rule for typed amounts (connectors/money.ts parseAmount).
 * Null unless a positive amount with at most the currency's decimals.
 */
export const parseAmount = parseAmountMinor;

export interface PromiseForm {
  invoiceIds: string[];
  promisedDate: string;
  amount: string;
  note: string;
}

export function validatePromise(
  customerId: string,
  f: PromiseForm,
  today: string | null,
  currency: string,
): { ok: true; body: Record<string, unknown> } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (f.invoiceIds.length === 0) errors.invoiceIds = 'Choose at least one invoice.';
  const date = f.promisedDate.trim();
  if (!date) errors.promisedDate = 'Enter the date they promised to pay by.';
  else if (!isDay(date)) errors.promisedDate = 'Enter a date as YYYY-MM-DD.';
  else if (today && date < today)
    errors.promisedDate = `A promise is for today or later (${formatDate(today)}).`;
  let amountMinor: number | undefined;
  if (f.amount.trim()) {
    const parsed = parseAmount(f.amount, currency);
    if (parsed === null) errors.amountMinor = 'Enter a positive amount, like 1200.50.';
    else amountMinor = parsed;
  }
  if (f.note.length > 2000) errors.note = 'At most 2,000 characters.';
  if (Object.keys(errors).length) return { ok: false, errors };
  return {
    ok: true,
    body: {
      customerId,
      invoiceIds: f.invoiceIds,
      promisedDate: date,
      ...(amountMinor !== undefined ? { amountMinor } : {}),
      ...(f.note.trim() ? { note: f.note.trim() } : {}),
    },
  };
}

export interface DisputeForm {
  invoiceId: string;
  reason: string;
  until: string;
}

export function validateDispute(
  f: DisputeForm,
  today: string | null,
): { ok: true; body: Record<string, unknown> } | { ok: false; errors: FieldErrors } {
  const errors: FieldErrors = {};
  if (!f.invoiceId) errors.invoiceId = 'Choose the disputed invoice.';
  if (!f.reason.trim()) errors.reason = 'Say what the customer disputes.';
  else if (f.reason.length > 2000) errors.reason = 'At most 2,000 characters.';
  const until = f.until.trim();
  if (until && !isDay(until)) errors.until = 'Enter a date as YYYY-MM-DD.';
  else if (until && today && until <= today) errors.until = `Choose a date after ${formatDate(today)}.`;
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, body: { invoiceId: f.invoiceId, reason: f.reason.trim(), until: until || null } };
}

/** The API's 400 details ({ field: "contactEmails.1", message }) by the form's field names. */
export function apiFieldErrors(details: unknown): FieldErrors {
  const out: FieldErrors = {};
  if (!Array.isArray(details)) return out;
  for (const d of details as { field?: string; message?: string }[]) {
    const field = (d.field ?? '').split('.')[0] ?? '';
    if (field && !out[field]) out[field] = d.message ?? 'Invalid value.';
  }
  return out;
}

/** "Reminders paused until Jul 20, 2013 · Excluded from automation · …"; empty when nothing is overridden. */
export function overrideSummary(o: OverrideRow | null, sequenceName: (id: string) => string): string[] {
  if (!o) return [];
  const out: string[] = [];
  if (o.pausedUntil) out.push(`Reminders paused until ${formatDate(o.pausedUntil)}`);
  if (o.excluded) out.push('Excluded from automation');
  if (o.sequenceId) out.push(`Sequence forced: ${sequenceName(o.sequenceId)}`);
  if (o.contactEmails?.length) out.push(`Reminders go to ${o.contactEmails.join(', ')}`);
  return out;
}

function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}
