import { formatMoney } from '../../connectors/money';
import { diffDays, type IsoDate, localParts } from './local-time';
import { nextAllowedTime, type SendWindow, windowBlock } from './send-time';

/** An invoice as the ledger and Duely's own records state it right before sending. */
export interface LiveInvoice {
  invoiceId: string;
  number: string;
  status: 'open' | 'paid' | 'void' | 'deleted';
  openBalanceMinor: number;
  currency: string;
  disputed: boolean;
  excluded: boolean;
  pausedUntil: IsoDate | null;
  /** Promised date plus grace: reminders wait until after it. */
  promiseUntil: IsoDate | null;
}

export interface SuppressionInput {
  now: Date;
  /** The debtor's calendar day (planner's `today`), for comparing pause and promise dates. */
  today: IsoDate;
  message: {
    invoiceIds: string[];
    /** Balances at planning time (the planner's snapshot). */
    plannedBalances: { invoiceId: string; openBalanceMinor: number }[];
    requiresApproval: boolean;
    approval: 'pending' | 'approved' | 'rejected' | null;
  };
  /** Live rows for the message's invoices; a missing row means the invoice is gone. */
  invoices: LiveInvoice[];
  customer: { optedOut: boolean; bounced: boolean; excluded: boolean; pausedUntil: IsoDate | null };
  /** The accounting connection: balances from a broken one may be stale. */
  connection: { status: 'active' | 'needs_reconnect' | 'disconnected' };
  /**
   * Set when no connection reads the ledger live (a CSV company): its ledger is its latest successful upload, made
   * `at`; reminders wait while that is more than `maxAgeDays` calendar days old in the company's `timeZone`.
   */
  upload?: LedgerUpload | null;
  window: SendWindow & { timeZone: string };
}

export type SuppressionCode =
  | 'ok'
  | 'sending_off'
  | 'sending_paused'
  | 'opted_out'
  | 'bounced'
  | 'customer_excluded'
  | 'customer_paused'
  | 'connection_needs_reconnect'
  | 'connection_disconnected'
  | 'ledger_stale'
  | 'paid'
  | 'void_or_deleted'
  | 'disputed'
  | 'invoice_paused'
  | 'invoice_excluded'
  | 'promise_to_pay'
  | 'balance_changed'
  | 'hold_changed'
  | 'credit_on_account'
  | 'approval_rejected'
  | 'awaiting_approval'
  | 'holiday'
  | 'non_business_day'
  | 'outside_business_hours'
  | 'quiet_hours'
  | 'daily_cap';

export interface SuppressionDecision {
  /** skip: drop this message; hold: keep it until a person acts; defer: retry at `until`. */
  action: 'send' | 'skip' | 'hold' | 'defer';
  code: SuppressionCode;
  reason: string;
  /** The message no longer matches reality but some invoices are still owed: plan again now. */
  replan: boolean;
  until?: Date;
}

/** Balances moving by more than this share since planning make the message's figures wrong. */
export const MATERIAL_CHANGE = 0.01;

type InvoiceIssue = { code: SuppressionCode; invoice: string; text: string };

/**
 * The last look before a message leaves: checks in order of finality (the debtor's own choices, then whether the
 * data can be trusted, then whether anything is still owed, then holds, then approval, then the clock).
 */
export function checkSuppression(input: SuppressionInput): SuppressionDecision {
  const { customer, today } = input;
  if (customer.optedOut) return skip('opted_out', 'The customer unsubscribed from reminders');
  if (customer.bounced) return skip('bounced', "The customer's address bounced");
  if (customer.excluded) return skip('customer_excluded', 'The customer is excluded from reminders');
  if (customer.pausedUntil && today < customer.pausedUntil) {
    return skip('customer_paused', `Reminders to the customer are paused until ${customer.pausedUntil}`);
  }
  if (input.connection.status === 'disconnected') {
    return skip(
      'connection_disconnected',
      'Duely was disconnected from the accounting system, so balances cannot be verified; reminders stop until it is connected again',
    );
  }
  if (input.connection.status === 'needs_reconnect') {
    return hold(
      'connection_needs_reconnect',
      'The accounting connection needs reconnecting, so balances cannot be verified',
    );
  }
  const live = new Map(input.invoices.map((i) => [i.invoiceId, i]));
  const stale = input.upload
    ? staleUpload(input.upload, input.now, (id) => live.get(id)?.number ?? id)
    : null;
  if (stale) return hold('ledger_stale', stale.reason);

  const planned = new Map(input.message.plannedBalances.map((p) => [p.invoiceId, p.openBalanceMinor]));
  const issues: InvoiceIssue[] = [];
  let stillOwed = 0;
  for (const id of input.message.invoiceIds) {
    const issue = invoiceIssue(id, live.get(id), planned.get(id), today);
    if (issue) issues.push(issue);
    if (!issue || issue.code === 'balance_changed') stillOwed++;
  }

  const [first] = issues;
  if (first) {
    // Nothing left to chase: drop the message. Something left: drop it and plan again with the current figures.
    const sameCause = issues.every((i) => i.code === first.code);
    const text = issues.map((i) => i.text).join('; ');
    if (stillOwed === 0 && first.code !== 'balance_changed')
      return skip(sameCause ? first.code : settledCode(issues), text);
    return { action: 'skip', code: first.code, reason: `${text}; re-plan the rest`, replan: true };
  }

  if (input.message.requiresApproval) {
    if (input.message.approval === 'rejected')
      return skip('approval_rejected', 'A reviewer rejected this message');
    if (input.message.approval !== 'approved')
      return hold('awaiting_approval', 'Waiting for a reviewer to approve this message');
  }

  const block = windowBlock(input.window, input.now, input.window.timeZone);
  if (block) {
    const until = nextAllowedTime({ ...input.window, now: input.now });
    return {
      action: 'defer',
      code: block,
      reason: `${WINDOW_TEXT[block]}; deferred to ${until.toISOString()}`,
      replan: false,
      until,
    };
  }
  return { action: 'send', code: 'ok', reason: 'All checks passed', replan: false };
}

/** A CSV company's ledger: its latest successful upload (sync_runs kind 'import', finishedAt). */
export interface LedgerUpload {
  at: Date;
  /** The dunning setting maxUploadAgeDays. */
  maxAgeDays: number;
  /** The company's time zone: the upload's day and today are its calendar days. */
  timeZone: string;
  /**
   * Invoices of the message the latest upload's file did not list (their rows are an earlier upload's): when the
   * latest upload that listed them all finished (null: none did), which ones, and — when the upload left out more
   * open invoices than its run kept, so these are only possibly left out — how many it left out.
   */
  unlisted?: { invoiceIds: string[]; leftOut: number | null; listedAt: Date | null };
  /** How many open invoices the latest upload's file left out (their figures are an earlier upload's). */
  leftOut?: number;
  /**
   * The latest upload's export day: its newest invoice or payment date up to the day it was uploaded (the import run's
   * `asOf`, as the Dashboard dates a CSV company's figures); null or absent when the run recorded none.
   */
  exportOn?: IsoDate | null;
}

/**
 * An export with no invoice or payment in this many days (or in maxUploadAgeDays, if longer) is an old file, however
 * recently it was uploaded: a quiet month is not, a 2019 export uploaded today is.
 */
export const EXPORT_QUIET_DAYS = 30;

export interface StaleUpload {
  uploadedOn: IsoDate;
  ageDays: number;
  maxAgeDays: number;
  reason: string;
}

/** An upload's calendar day as its reasons word it: "Dec 1", with the year when it is not `today`'s. */
function uploadDayWords(on: IsoDate, today: IsoDate): string {
  return new Intl.DateTimeFormat('en-US', {
    month: 'short',
    day: 'numeric',
    ...(on.slice(0, 4) === today.slice(0, 4) ? {} : { year: 'numeric' }),
    timeZone: 'UTC',
  }).format(new Date(`${on}T12:00:00Z`));
}

/**
 * Whether an upload is too old to chase anyone from (null when it is not): a debtor who paid after the export was
 * made still owes in it. Counted in whole calendar days of the company, so an upload stays good through the
 * `maxAgeDays`-th day after the one it was made on, whatever the hour.
 */
export function staleUpload(
  upload: LedgerUpload,
  now: Date,
  numberOf: (invoiceId: string) => string = (id) => id,
): StaleUpload | null {
  const today = localParts(now, upload.timeZone).date;
  const named = (on: IsoDate) => uploadDayWords(on, today);
  const dayOf = (at: Date) => {
    const on = localParts(at, upload.timeZone).date;
    return { on, day: named(on) };
  };
  const limit = `${upload.maxAgeDays} day${upload.maxAgeDays === 1 ? '' : 's'}`;
  const latest = dayOf(upload.at);
  // The upload is recent, but what it holds may not be: a debtor who paid since the export's newest entry still owes
  // in it ("2690 days overdue" on a statement dated today, from a 2019 file uploaded this morning).
  const quiet = Math.max(EXPORT_QUIET_DAYS, upload.maxAgeDays);
  if (upload.exportOn && diffDays(today, upload.exportOn) > quiet) {
    const exportAge = diffDays(today, upload.exportOn);
    return {
      uploadedOn: upload.exportOn,
      ageDays: exportAge,
      maxAgeDays: quiet,
      reason: `The ledger is the upload of ${latest.day}, an export whose newest invoice or payment is dated ${named(upload.exportOn)}, ${exportAge.toLocaleString('en-US')} days ago (reminders wait while it has nothing in the last ${quiet} days: a debtor may have paid since): upload a current export to send`,
    };
  }
  const un = upload.unlisted;
  if (un) {
    // The message's figures are as of the latest upload that listed its invoices, however recent the latest one.
    const names = un.invoiceIds.map(numberOf).join(', ');
    const invoices = `invoice${un.invoiceIds.length === 1 ? '' : 's'} ${names}`;
    const why =
      un.leftOut === null
        ? `the upload of ${latest.day} did not list ${invoices}`
        : `the upload of ${latest.day} left out ${un.leftOut.toLocaleString('en-US')} open invoices, maybe ${invoices}`;
    if (!un.listedAt) {
      return {
        uploadedOn: latest.on,
        ageDays: diffDays(today, latest.on),
        maxAgeDays: upload.maxAgeDays,
        reason: `No upload lists ${invoices} with its figures (${why}): upload an export that lists ${un.invoiceIds.length === 1 ? 'it' : 'them'} to send`,
      };
    }
    const listed = dayOf(un.listedAt);
    const ageDays = diffDays(today, listed.on);
    if (ageDays <= upload.maxAgeDays) return null;
    return {
      uploadedOn: listed.on,
      ageDays,
      maxAgeDays: upload.maxAgeDays,
      reason: `The figures of ${invoices} are the upload of ${listed.day}, ${ageDays} days old (${why}; reminders wait once they are over ${limit} old): upload an export that lists ${un.invoiceIds.length === 1 ? 'it' : 'them'} to send`,
    };
  }
  const ageDays = diffDays(today, latest.on);
  if (ageDays <= upload.maxAgeDays) return null;
  return {
    uploadedOn: latest.on,
    ageDays,
    maxAgeDays: upload.maxAgeDays,
    reason: `The ledger is the upload of ${latest.day}, ${ageDays} days old (reminders wait once it is over ${limit} old): upload a newer export to send`,
  };
}

/**
 * A recent upload whose file left out open invoices (their reminders wait for one that lists them, staleUpload with
 * `unlisted`): what the Dashboard says about it, or null when it left out none.
 */
export function partialUpload(upload: LedgerUpload, now: Date): StaleUpload | null {
  const n = upload.leftOut ?? 0;
  if (n === 0) return null;
  const uploadedOn = localParts(upload.at, upload.timeZone).date;
  const today = localParts(now, upload.timeZone).date;
  const day = uploadDayWords(uploadedOn, today);
  const one = n === 1;
  return {
    uploadedOn,
    ageDays: diffDays(today, uploadedOn),
    maxAgeDays: upload.maxAgeDays,
    reason: `The upload of ${day} did not list ${n.toLocaleString('en-US')} open invoice${one ? '' : 's'}, whose reminders wait for an export that lists ${one ? 'it' : 'them'} (${one ? 'its' : 'their'} figures are an older upload’s)`,
  };
}

/**
 * An invoice gone from the ledger (voided, deleted, or no row at all): nothing is owed on it and no message about it
 * (a reminder or a payment receipt) is sent. Null when it is still there, open or paid.
 */
export function voidOrDeleted(
  id: string,
  inv: Pick<LiveInvoice, 'number' | 'status'> | undefined,
): { code: 'void_or_deleted'; invoice: string; text: string } | null {
  if (inv && inv.status !== 'void' && inv.status !== 'deleted') return null;
  return {
    code: 'void_or_deleted',
    invoice: id,
    text: `Invoice ${inv?.number ?? id} was ${inv?.status ?? 'deleted'}`,
  };
}

function invoiceIssue(
  id: string,
  inv: LiveInvoice | undefined,
  plannedMinor: number | undefined,
  today: IsoDate,
): InvoiceIssue | null {
  const gone = voidOrDeleted(id, inv);
  if (gone || !inv) return gone;
  const n = inv.number;
  if (inv.status === 'paid' || inv.openBalanceMinor <= 0)
    return { code: 'paid', invoice: id, text: `Invoice ${n} is paid` };
  if (inv.disputed) return { code: 'disputed', invoice: id, text: `Invoice ${n} is disputed` };
  if (inv.excluded)
    return { code: 'invoice_excluded', invoice: id, text: `Invoice ${n} is excluded from reminders` };
  if (inv.pausedUntil && today < inv.pausedUntil) {
    return { code: 'invoice_paused', invoice: id, text: `Invoice ${n} is paused until ${inv.pausedUntil}` };
  }
  if (inv.promiseUntil && today <= inv.promiseUntil) {
    return {
      code: 'promise_to_pay',
      invoice: id,
      text: `Invoice ${n} has a promise to pay until ${inv.promiseUntil}`,
    };
  }
  if (
    plannedMinor !== undefined &&
    Math.abs(inv.openBalanceMinor - plannedMinor) > Math.abs(plannedMinor) * MATERIAL_CHANGE
  ) {
    const from = formatMoney(plannedMinor, inv.currency, 'en-US');
    const to = formatMoney(inv.openBalanceMinor, inv.currency, 'en-US');
    return {
      code: 'balance_changed',
      invoice: id,
      text: `Invoice ${n} balance changed from ${from} to ${to} since planning`,
    };
  }
  return null;
}

/** Mixed reasons for nothing being owed (some paid, some voided): report it as paid unless nothing was paid. */
function settledCode(issues: InvoiceIssue[]): SuppressionCode {
  return issues.some((i) => i.code === 'paid') ? 'paid' : (issues[0]?.code ?? 'paid');
}

const WINDOW_TEXT: Record<NonNullable<ReturnType<typeof windowBlock>>, string> = {
  holiday: 'Today is a holiday for the debtor',
  non_business_day: 'Not a business day for the debtor',
  outside_business_hours: "Outside the debtor's business hours",
  quiet_hours: "Within the debtor's quiet hours",
};

function skip(code: SuppressionCode, reason: string): SuppressionDecision {
  return { action: 'skip', code, reason, replan: false };
}

function hold(code: SuppressionCode, reason: string): SuppressionDecision {
  return { action: 'hold', code, reason, replan: false };
}

/** The tenant's go-live switches (tenants.settings.sendingEnabled / sendingPaused; src/dunning/go-live.ts). */
export interface SendingSwitches {
  /** Off until the team goes live: Duely plans and shows what it would send, and sends nothing. */
  enabled: boolean;
  /** "Pause all sending": everything stops at once, whatever each message's state. */
  paused: boolean;
}

/**
 * The tenant-wide gate, checked before anything else about a message (receipts included). A message that reaches
 * the send job while sending is off or paused never leaves: it is taken back and re-planned (replan), so it shows
 * again as "would send" and gets a fresh send time when sending resumes instead of going out late in a burst.
 */
export function sendingGate(s: SendingSwitches): SuppressionDecision | null {
  if (!s.enabled) {
    return {
      action: 'skip',
      code: 'sending_off',
      reason:
        'Sending is not switched on for this company yet (Settings → Sending); nothing leaves before go-live',
      replan: true,
    };
  }
  if (s.paused) {
    return {
      action: 'skip',
      code: 'sending_paused',
      reason: 'All sending is paused (Settings → Sending)',
      replan: true,
    };
  }
  return null;
}
