import { createHash } from 'node:crypto';
import { roughSpan } from '../../connectors/dates';
import { formatMoney } from '../../connectors/money';
import { approvalReasons } from './approval';
import type { DebtorView } from './debtor-view';
import { addDays, diffDays, type IsoDate, localParts } from './local-time';
import {
  type Channel,
  type Dispute,
  type DunningPolicy,
  type DunningSettings,
  type Override,
  P_LATE_THRESHOLD,
  type PromiseToPay,
  type RiskBand,
  riskBandSchema,
  type Sequence,
  type StepTemplate,
  TONE_RANK,
  type Tone,
} from './policy';
import {
  catchUpApproval,
  describeCatchUpStep,
  describeStep,
  dueText,
  type ReasonParts,
  reasonText,
} from './reason-text';
import { seededRng } from './seeded-rng';
import { selectSequence } from './select-sequence';
import { chooseSendTime, type EngagementRecord } from './send-time';
import { latestDue, nextAfter, type StepOccurrence, stepTimeline } from './step-schedule';

export interface PlannerCustomer {
  id: string;
  name: string;
  emails: string[];
  /** Addresses the ledger gave the customer before and no longer gives it (see recipientsOf). */
  formerEmails?: string[];
  timezone?: string | null;
  tags: string[];
  /** Key accounts: firm and final messages to them wait for a human. */
  strategic: boolean;
  bounced: boolean;
  optedOut: boolean;
  override?: Override;
  /** Unapplied payments and open credit memos, per currency: what they owe is their open invoices less this. */
  credits?: { currency: string; creditMinor: number }[];
  /** Invoices the customer has paid, and how many of them more than RELIABLE_LATE_DAYS after the due date. */
  paidHistory?: { paid: number; late: number };
  /** What the debtor reads of this row in an email (debtor-view.ts): kept in the snapshot, covered by approval. */
  view?: DebtorView;
}

/** A payment this many days after the due date or later is not "paid reliably". */
export const RELIABLE_LATE_DAYS = 7;
/** Paid invoices a debtor needs before an email calls them a reliable payer. */
const RELIABLE_MIN_PAID = 3;

/**
 * Whether an email may thank the debtor for always paying reliably: a low risk score without a slowing trend is a
 * forecast, not a history, so it also takes paid invoices, none of them late (a new customer scored low has paid
 * nothing yet; a low score can sit beside payments weeks late).
 */
function reliablePayer(customer: PlannerCustomer, risk: PlannedMessage['snapshot']['customerRisk']): boolean {
  const h = customer.paidHistory;
  return (
    risk.riskBand === 'low' &&
    !risk.slowingAlert &&
    h !== undefined &&
    h.paid >= RELIABLE_MIN_PAID &&
    h.late === 0
  );
}

/**
 * What a reminder's send-time exploration is seeded from (chooseSendTime's rng): what people see of the message —
 * the customer's name, the invoices' numbers and their steps — not the rows' random ids, so the same ledger plans
 * the same send times on every database, run and machine (with the ids, about one reminder in ten moved to another
 * slot at random from one run to the next, and tests of a send day passed or failed by chance).
 */
function explorationSeed(
  customer: PlannerCustomer,
  steps: readonly { number: string; stepKey: string }[],
): string {
  return `reminder|${customer.name}|${steps
    .map((s) => `${s.number}@${s.stepKey}`)
    .sort()
    .join(',')}`;
}

export interface PlannerInvoice {
  id: string;
  customerId: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  totalMinor: number;
  /** After partial payments and applied credits. */
  openBalanceMinor: number;
  currency: string;
  payLink?: string | null;
  override?: Override;
  /**
   * The addresses the invoice itself was sent to in the ledger (e.g. the debtor's AP mailbox; the ledger's field may
   * name several), those that have not bounced, when any: see recipientsOf for where they stand among the sources.
   */
  billEmails?: string[];
  /**
   * The sub-customer (job) the invoice is for, when the job is billed with its parent: the invoice is then planned
   * with the parent's (customerId is the parent's), and reasons name the job.
   */
  job?: string;
  /** That job's customer id (a statement asked for the job lists these invoices). */
  jobId?: string;
}

export interface InvoicePrediction {
  invoiceId: string;
  pLate: number;
  predictedPayDate: IsoDate | null;
  riskBand: RiskBand;
  /** P(collected within 90 days | unpaid at scoring): set for an invoice overdue when scored, else null. */
  pCollect90: number | null;
  reasons: string[];
}

export interface CustomerPrediction {
  customerId: string;
  /** 0–1, as stored (customer_risk.score / 100); shown in snapshots, never re-cut here. */
  riskScore: number;
  /**
   * The customer's band as the risk module cuts its score (expected days late, tenant sensitivity): the planner
   * has no cut-offs of its own, so a score cannot be banded two ways.
   */
  riskBand: RiskBand;
  slowingAlert: boolean;
}

/** A step already planned or sent for an invoice. Every status blocks the step from being planned again. */
export interface HistoryEntry {
  customerId: string;
  invoiceId: string;
  stepKey: string;
  tone: Tone;
  status: 'planned' | 'sent' | 'skipped' | 'failed';
  /** Send time (planned) or sent time. */
  at: Date;
  /** A planned message that waits for a reviewer's approval. */
  awaitingApproval?: boolean;
}

export interface PlannerInput {
  now: Date;
  settings: DunningSettings;
  policy: DunningPolicy;
  customers: PlannerCustomer[];
  invoices: PlannerInvoice[];
  invoicePredictions: InvoicePrediction[];
  customerPredictions: CustomerPrediction[];
  history: HistoryEntry[];
  promises: PromiseToPay[];
  disputes: Dispute[];
  engagement: (EngagementRecord & { customerId: string })[];
}

export interface InvoiceSnapshot {
  invoiceId: string;
  number: string;
  issueDate: IsoDate;
  dueDate: IsoDate;
  daysOverdue: number;
  totalMinor: number;
  openBalanceMinor: number;
  currency: string;
  payLink: string | null;
  /** The step this message fulfils for the invoice; null when it is listed only for completeness. */
  stepKey: string | null;
  prediction: Omit<InvoicePrediction, 'invoiceId' | 'pCollect90'> | null;
}

export interface PlannedMessage {
  /** Deterministic from customer and steps: the outbox row key and the provider idempotency key. */
  key: string;
  customerId: string;
  to: string[];
  channel: Channel;
  /** Every invoice the message lists (the customer's due and overdue invoices that are not on hold). */
  invoiceIds: string[];
  /** Steps this message fulfils, one per invoice whose step fell due; record them in the history. */
  steps: { invoiceId: string; stepKey: string }[];
  /** The strongest of those steps; it sets the tone and template. */
  stepKey: string;
  sequenceId: string;
  tone: Tone;
  template: StepTemplate;
  sendAt: Date;
  requiresApproval: boolean;
  approvalReason: string | null;
  reason: string;
  snapshot: {
    asOf: IsoDate;
    /** The send date in the debtor's zone: days overdue are counted to it. */
    sendDate?: IsoDate;
    plannedAt: string;
    invoices: InvoiceSnapshot[];
    totals: { currency: string; openMinor: number }[];
    /** Messages already planned or sent about the listed invoices; copy says "despite earlier reminders" only then. */
    previousReminders: number;
    /** First contact with old debt: a statement of account for review instead of the step's reminder. */
    catchUp?: boolean;
    /** The step's own wording (policy step `copy`), when it has one. */
    copy?: { subject?: string; body?: string };
    /** riskScore is null when the model has not scored the customer (the band then comes from its invoices). */
    customerRisk: { riskScore: number | null; riskBand: RiskBand | null; slowingAlert: boolean };
    /** The email may thank the debtor for paying reliably (reliablePayer); absent in messages planned before it. */
    reliablePayer?: boolean;
    /** Which sequence applied to the customer and why: 'override', 'rule 2' or 'default'. */
    sequence: { id: string; name: string; selectedBy: string };
    /** The reason's parts, its day counts left open (reason-text.ts); absent in messages planned before them. */
    reasonParts?: ReasonParts;
    /** Credit the customer holds on account in the listed currencies (unapplied payments, open credit memos). */
    credits?: { currency: string; creditMinor: number }[];
    /**
     * Open invoices for the same recipients that are on hold (disputed, paused, promised) and would otherwise be
     * listed: the email names each in a sentence, outside the table and the totals. Absent when there are none.
     */
    held?: HeldInvoice[];
    /** What the email shows of the customer row, as planned (debtor-view.ts); absent in messages planned before it. */
    debtor?: DebtorView;
  };
}

/** An invoice a message names as on hold instead of asking for it (emails' HeldLine). */
export interface HeldInvoice {
  invoiceId: string;
  number: string;
  currency: string;
  openBalanceMinor: number;
  hold: 'disputed' | 'paused' | 'promised';
  promisedDate?: IsoDate;
}

/** Hold codes a message names (an excluded invoice is the team's own business, a zero balance nothing to say). */
const NAMED_HOLDS: ReadonlyMap<DecisionCode, HeldInvoice['hold']> = new Map([
  ['disputed', 'disputed'],
  ['invoice_paused', 'paused'],
  ['promise_to_pay', 'promised'],
] as const);

/**
 * The first invoice a planned message names as on hold that is no longer held the same way (dispute resolved, pause
 * or promise over, or another hold now): the message would explain an absence that is no more, so it is planned again.
 */
export function heldChange(
  held: readonly Pick<HeldInvoice, 'invoiceId' | 'number' | 'hold' | 'openBalanceMinor'>[] | undefined,
  holds: ReadonlyMap<string, { code: DecisionCode }>,
  /** The invoices' open balances now (an invoice not among them is no longer open). */
  balances: ReadonlyMap<string, number>,
): { code: 'hold_changed'; reason: string } | null {
  for (const h of held ?? []) {
    const now = holds.get(h.invoiceId);
    const kind = now ? NAMED_HOLDS.get(now.code) : undefined;
    const balance = balances.get(h.invoiceId);
    if (kind === h.hold && balance === h.openBalanceMinor) continue;
    if (kind === h.hold || balance === undefined || balance <= 0)
      return {
        code: 'hold_changed',
        reason: `Invoice ${h.number}, named as on hold, ${balance === undefined || balance <= 0 ? 'is no longer open' : 'has another balance now'}; planned again with it as it stands now`,
      };
    const was = h.hold === 'disputed' ? 'disputed' : h.hold === 'promised' ? 'promised' : 'paused';
    return {
      code: 'hold_changed',
      reason: `Invoice ${h.number} is no longer ${was} as the message says; planned again with it as it stands now`,
    };
  }
  return null;
}

/** The held invoices among `invoices` as a message names them, in the listed order (due date, then number). */
function heldLines(invoices: readonly PlannerInvoice[], today: IsoDate, l: Lookups): HeldInvoice[] {
  const out: { inv: PlannerInvoice; line: HeldInvoice }[] = [];
  for (const inv of invoices) {
    const h = invoiceHold(inv, today, l.disputes.get(inv.id), l.promises.get(inv.id));
    const hold = h ? NAMED_HOLDS.get(h.code) : undefined;
    if (!hold) continue;
    const promisedDate = hold === 'promised' ? l.promises.get(inv.id)?.promisedDate : undefined;
    out.push({
      inv,
      line: {
        invoiceId: inv.id,
        number: invoiceName(inv),
        currency: inv.currency,
        openBalanceMinor: inv.openBalanceMinor,
        hold,
        ...(promisedDate ? { promisedDate } : {}),
      },
    });
  }
  return out
    .sort((a, b) => a.inv.dueDate.localeCompare(b.inv.dueDate) || a.inv.number.localeCompare(b.inv.number))
    .map((o) => o.line);
}

export type DecisionCode =
  | 'step_due'
  | 'included'
  | 'not_due'
  | 'already_done'
  | 'softer_than_sent'
  | 'recently_contacted'
  | 'first_message_held'
  | 'credit_on_account'
  | 'zero_balance'
  | 'invoice_excluded'
  | 'invoice_paused'
  | 'disputed'
  | 'promise_to_pay'
  | 'customer_excluded'
  | 'opted_out'
  | 'bounced'
  | 'no_contact'
  | 'customer_paused';

export interface InvoiceDecision {
  invoiceId: string;
  code: DecisionCode;
  reason: string;
}

export interface CustomerDecision {
  customerId: string;
  outcome: 'message' | 'skipped' | 'nothing_due';
  code: DecisionCode;
  reason: string;
  invoices: InvoiceDecision[];
  /**
   * Skipped because credit on account covers everything open (code credit_on_account): the credit and the open
   * invoices it could settle, for the task that asks the team to apply it in the ledger.
   */
  creditCovers?: {
    /** What the team is asked to do, naming the credit and the invoices. */
    title: string;
    credits: { currency: string; creditMinor: number }[];
    invoices: { invoiceId: string; number: string; currency: string; openBalanceMinor: number }[];
  };
}

export interface PlanResult {
  messages: PlannedMessage[];
  decisions: CustomerDecision[];
}

/** Input indexed once per run; everything per customer reads from here. */
interface Lookups {
  input: PlannerInput;
  invoicesByCustomer: Map<string, PlannerInvoice[]>;
  invoicePred: Map<string, InvoicePrediction>;
  customerPred: Map<string, CustomerPrediction>;
  historyByInvoice: Map<string, HistoryEntry[]>;
  historyByCustomer: Map<string, HistoryEntry[]>;
  engagementByCustomer: Map<string, EngagementRecord[]>;
  disputes: Map<string, Dispute>;
  promises: Map<string, PromiseToPay>;
  todayIn: Map<string, IsoDate>;
}

/** What is known about the customer once it is clear they may be contacted at all. */
interface CustomerContext {
  customer: PlannerCustomer;
  today: IsoDate;
  timeZone: string;
  sequence: Sequence;
  selectedBy: string;
  risk: PlannedMessage['snapshot']['customerRisk'];
}

interface Candidate {
  invoice: PlannerInvoice;
  occurrence: StepOccurrence;
  sequence: Sequence;
  daysFromDue: number;
  /** The step the invoice's age alone would reach; later than `occurrence` when reminders were never sent. */
  byAge: StepOccurrence;
}

type InvoiceOutcome =
  | { kind: 'decided'; decision: InvoiceDecision; listable: boolean }
  | { kind: 'due'; candidate: Candidate };

/**
 * Decides, for every customer with open invoices, whether a message is due now and what it says. Pure: the
 * same input gives the same messages, keys and send times (the send-time rng is seeded from the message key),
 * so planning can run as often as the scheduler likes; the history makes it idempotent across runs.
 * The policy and settings must already be validated (parsePolicy, dunningSettingsSchema).
 */
export function plan(input: PlannerInput): PlanResult {
  const lookups = lookupsOf(input);
  const messages: PlannedMessage[] = [];
  const decisions: CustomerDecision[] = [];
  for (const customer of input.customers) {
    if (!lookups.invoicesByCustomer.has(customer.id)) continue;
    const planned = planCustomer(customer, lookups);
    messages.push(...planned.messages);
    decisions.push(planned.decision);
  }
  return { messages, decisions };
}

/** The step key a statement someone asked for carries (it fulfils no policy step). */
export const REQUESTED_STATEMENT_STEP = 'statement:requested';

/**
 * A statement of account a person asked for (the lists' bulk "Send statement"): one message listing every open
 * invoice of the customer that is not on hold, in the planner's snapshot shape, always for a reviewer's approval.
 * Its key is deterministic per customer and day (the customer's local day), so asking twice makes one. Null
 * message with the reason when the customer cannot receive one (the planner's customer holds, nothing open).
 */
export type RequestedStatement =
  | { message: PlannedMessage; skip?: undefined }
  | { message?: undefined; skip: string };

export function requestedStatements(
  input: PlannerInput,
  customerIds: string[],
  requestedBy: string,
): Map<string, RequestedStatement> {
  const l = lookupsOf(input);
  const byId = new Map(input.customers.map((c) => [c.id, c]));
  // A job billed with its parent is no customer of the planner's (its invoices are the parent's to pay): its
  // statement lists the job's invoices, as a message of the parent, to the parent's contacts.
  const ofJob = groupBy(
    input.invoices.filter((i) => i.jobId !== undefined),
    (i) => i.jobId!,
  );
  return new Map(
    customerIds.map((id) => {
      const job = byId.has(id) ? undefined : ofJob.get(id);
      const payer = job ? byId.get(job[0]!.customerId) : byId.get(id);
      return [id, requestedStatement(l, id, payer, job ?? l.invoicesByCustomer.get(id) ?? [], requestedBy)];
    }),
  );
}

function requestedStatement(
  l: Lookups,
  /** The customer asked about: the payer itself, or a job billed with it. */
  customerId: string,
  customer: PlannerCustomer | undefined,
  invoices: PlannerInvoice[],
  requestedBy: string,
): RequestedStatement {
  const { input } = l;
  if (!customer || invoices.length === 0) return { skip: 'no open invoices' };
  const timeZone = customer.timezone || input.settings.timezone;
  const today = todayIn(timeZone, l);
  const to = customer.override?.contactEmails ?? customer.emails;
  const blocked = customerBlock(customer, to, today);
  if (blocked) return { skip: blocked.reason };
  const holds: string[] = [];
  const listed = invoices
    .filter((inv) => {
      const hold = invoiceHold(inv, today, l.disputes.get(inv.id), l.promises.get(inv.id));
      if (hold) holds.push(hold.reason);
      return !hold;
    })
    .sort((a, b) => a.dueDate.localeCompare(b.dueDate) || a.number.localeCompare(b.number));
  if (listed.length === 0) return { skip: `nothing open to list: ${holds.join('; ')}` };
  const ctx = customerContext(
    customer,
    today,
    timeZone,
    l.invoicesByCustomer.get(customer.id) ?? invoices,
    l,
  );
  const key = `dm_${createHash('sha256').update(`statement|${customerId}|${today}`).digest('hex').slice(0, 24)}`;
  const sendAt = chooseSendTime({
    now: input.now,
    debtorTimezone: customer.timezone,
    tenantTimezone: input.settings.timezone,
    businessDays: input.settings.businessDays,
    businessHours: input.settings.businessHours,
    quietHours: input.settings.quietHours,
    holidays: input.settings.holidays,
    engagement: l.engagementByCustomer.get(customer.id) ?? [],
    rng: seededRng(`statement|${customer.name}|${today}`),
  });
  const sendDate = localParts(sendAt, timeZone).date;
  const previous = new Set(
    listed.flatMap((i) =>
      (l.historyByInvoice.get(i.id) ?? []).filter((h) => h.status === 'sent').map((h) => h.at.getTime()),
    ),
  );
  const totals = totalsByCurrency(listed);
  const credit = creditIn(customer, totals);
  const jobName = customerId === customer.id ? undefined : invoices[0]?.job;
  const held = heldLines(invoices, today, l);
  return {
    message: {
      key,
      customerId: customer.id,
      to,
      channel: 'email',
      invoiceIds: listed.map((i) => i.id),
      // Recorded per invoice like any message's steps (a step of no sequence, of the gentlest tone): the planner's
      // history then counts the statement as a contact (no catch-up statement or reminder on top of it, the gap
      // between messages kept) without moving an invoice along its sequence.
      steps: listed.map((i) => ({ invoiceId: i.id, stepKey: `${REQUESTED_STATEMENT_STEP}:${today}` })),
      stepKey: REQUESTED_STATEMENT_STEP,
      sequenceId: ctx.sequence.id,
      tone: 'friendly',
      template: 'statement',
      sendAt,
      requiresApproval: true,
      approvalReason: `statement of account requested by ${requestedBy}; a reviewer approves it before it is sent`,
      reason: `Statement of account${jobName ? ` for ${jobName}` : ''} requested by ${requestedBy}: ${listed.length} open invoice${listed.length === 1 ? '' : 's'}`,
      snapshot: {
        asOf: today,
        sendDate,
        plannedAt: input.now.toISOString(),
        invoices: listed.map((inv) => {
          const pred = l.invoicePred.get(inv.id);
          return {
            invoiceId: inv.id,
            number: inv.number,
            issueDate: inv.issueDate,
            dueDate: inv.dueDate,
            daysOverdue: Math.max(0, diffDays(sendDate, inv.dueDate)),
            totalMinor: inv.totalMinor,
            openBalanceMinor: inv.openBalanceMinor,
            currency: inv.currency,
            payLink: inv.payLink ?? null,
            stepKey: null,
            prediction: pred
              ? {
                  pLate: pred.pLate,
                  predictedPayDate: pred.predictedPayDate,
                  riskBand: pred.riskBand,
                  reasons: pred.reasons,
                }
              : null,
          };
        }),
        totals,
        previousReminders: previous.size,
        customerRisk: ctx.risk,
        sequence: { id: ctx.sequence.id, name: ctx.sequence.name, selectedBy: ctx.selectedBy },
        // The statement says what credit on account leaves to pay.
        ...(credit.size > 0
          ? { credits: [...credit].map(([currency, creditMinor]) => ({ currency, creditMinor })) }
          : {}),
        ...(held.length > 0 ? { held } : {}),
        ...(customer.view ? { debtor: customer.view } : {}),
      },
    },
  };
}

function lookupsOf(input: PlannerInput): Lookups {
  const promises = new Map<string, PromiseToPay>();
  for (const p of input.promises) {
    // Several promises on one invoice: the latest date governs.
    for (const id of p.invoiceIds)
      if ((promises.get(id)?.promisedDate ?? '') <= p.promisedDate) promises.set(id, p);
  }
  const lookups: Lookups = {
    input,
    invoicesByCustomer: groupBy(input.invoices, (i) => i.customerId),
    invoicePred: new Map(input.invoicePredictions.map((p) => [p.invoiceId, p])),
    customerPred: new Map(input.customerPredictions.map((p) => [p.customerId, p])),
    historyByInvoice: groupBy(input.history, (h) => h.invoiceId),
    historyByCustomer: groupBy(input.history, (h) => h.customerId),
    engagementByCustomer: groupBy(input.engagement, (e) => e.customerId),
    disputes: new Map(input.disputes.filter((d) => !d.resolved).map((d) => [d.invoiceId, d])),
    promises,
    todayIn: new Map(),
  };
  return lookups;
}

export interface Holds {
  /** Customers who must not be contacted now (excluded, opted out, bounced, no address, paused). */
  customers: Map<string, { code: DecisionCode; reason: string }>;
  /** Invoices that must not be chased now (paid off, excluded, paused, disputed, promised). */
  invoices: Map<string, { code: DecisionCode; reason: string }>;
}

/**
 * Customers whose credit on account covers everything they have open, in each currency, by the planner's rule
 * (`creditIn` per currency against the open balances). A customer with nothing open is not among them: there is no
 * credit left to apply to anything.
 */
export function coveredByCredit(input: PlannerInput): Set<string> {
  const open = groupBy(input.invoices, (i) => i.customerId);
  const out = new Set<string>();
  for (const customer of input.customers) {
    const owed = totalsByCurrency(open.get(customer.id) ?? []);
    if (owed.length === 0) continue;
    if (creditCoversAll(owed, creditIn(customer, owed))) out.add(customer.id);
  }
  return out;
}

/**
 * What may not be chased right now, by the same rules the planner applies: a message planned earlier that touches
 * any of these is withdrawn at once (engine.ts), so a pause, promise or opt-out shows in what will be sent.
 */
export function holdsOf(input: PlannerInput): Holds {
  const promises = new Map<string, PromiseToPay>();
  for (const p of input.promises)
    for (const id of p.invoiceIds)
      if ((promises.get(id)?.promisedDate ?? '') <= p.promisedDate) promises.set(id, p);
  const disputes = new Map(input.disputes.filter((d) => !d.resolved).map((d) => [d.invoiceId, d]));
  const out: Holds = { customers: new Map(), invoices: new Map() };
  const todayOf = new Map<string, IsoDate>();
  for (const c of input.customers) {
    const tz = c.timezone || input.settings.timezone;
    const today = todayOf.get(tz) ?? localParts(input.now, tz).date;
    todayOf.set(tz, today);
    todayOf.set(`c:${c.id}`, today);
    const block = customerBlock(c, c.override?.contactEmails ?? c.emails, today);
    if (block) out.customers.set(c.id, block);
  }
  // An unreachable customer some of whose invoices carry their own recipient (partlyReachable) is held invoice by
  // invoice: the messages to those recipients stand, any other is withdrawn.
  const partly = new Set(
    input.invoices
      .filter((i) => ownRecipients(i) && isUnreachable(out.customers.get(i.customerId)))
      .map((i) => i.customerId),
  );
  for (const inv of input.invoices) {
    const today = todayOf.get(`c:${inv.customerId}`) ?? localParts(input.now, input.settings.timezone).date;
    const hold = invoiceHold(inv, today, disputes.get(inv.id), promises.get(inv.id));
    if (hold) out.invoices.set(inv.id, hold);
    else if (partly.has(inv.customerId) && !ownRecipients(inv))
      out.invoices.set(inv.id, out.customers.get(inv.customerId)!);
  }
  for (const c of partly) out.customers.delete(c);
  // Credit on account covering everything open: the planner asks nothing of such a debtor (credit_on_account), so a
  // message planned before the credit arrived is withdrawn too, whatever else holds it.
  const covered = coveredByCredit(input);
  for (const c of input.customers) {
    if (!covered.has(c.id)) continue;
    out.customers.set(c.id, {
      code: 'credit_on_account',
      reason: `${c.name} has unapplied payments and credits on account covering everything open; apply them in the ledger`,
    });
  }
  return out;
}

/** Decisions about where an invoice stands in its sequence, not holds: such an invoice may still be listed. */
const STEP_CODES = new Set<DecisionCode>(['not_due', 'already_done', 'softer_than_sent']);

function planCustomer(
  customer: PlannerCustomer,
  l: Lookups,
): { messages: PlannedMessage[]; decision: CustomerDecision } {
  const { input } = l;
  const invoices = l.invoicesByCustomer.get(customer.id) ?? [];
  const timeZone = customer.timezone || input.settings.timezone;
  const today = todayIn(timeZone, l);
  const contacts = customer.override?.contactEmails ?? customer.emails;

  const blocked = customerBlock(customer, contacts, today);
  const blockedDecision = () => ({
    messages: [],
    decision: { customerId: customer.id, outcome: 'skipped' as const, ...blocked!, invoices: [] },
  });
  // A debtor with no working address is still checked for credit on account first: when the credit covers what is
  // open, the team's task is to apply it in the ledger, not to find someone to chase for money that is not owed.
  const unreachable = isUnreachable(blocked);
  if (blocked && !unreachable) return blockedDecision();
  // Unreachable, but some invoices name their own recipient (an invoice contact override, a BillEmail): those are
  // chased there, the others wait for a contact (find-a-contact task).
  const partlyReachable = unreachable && invoices.some((i) => ownRecipients(i));

  const ctx = customerContext(customer, today, timeZone, invoices, l);
  const decisions: InvoiceDecision[] = [];
  const candidates: Candidate[] = [];
  const listable: PlannerInvoice[] = [];
  // Open, not on hold, but neither due nor overdue: a reminder leaves them out, a statement of account lists them.
  const notYetDue: PlannerInvoice[] = [];
  for (const invoice of invoices) {
    const outcome = evaluateInvoice(invoice, ctx, l);
    if (outcome.kind === 'due') {
      candidates.push(outcome.candidate);
      listable.push(invoice);
    } else {
      decisions.push(outcome.decision);
      if (outcome.listable) listable.push(invoice);
      else if (STEP_CODES.has(outcome.decision.code)) notYetDue.push(invoice);
    }
  }

  if (candidates.length === 0) {
    if (unreachable) return blockedDecision();
    const only = new Set(decisions.map((d) => d.code)).size === 1 ? decisions[0] : undefined;
    return {
      messages: [],
      decision: {
        customerId: customer.id,
        outcome: 'nothing_due',
        code: only?.code ?? 'not_due',
        reason: only && decisions.length === 1 ? only.reason : 'No step is due for any open invoice',
        invoices: decisions,
      },
    };
  }

  /** Nothing goes to this customer in this run: every due invoice is skipped with the same code and reason. */
  const skipCustomer = (code: DecisionCode, reason: string) => {
    for (const c of candidates) decisions.push({ invoiceId: c.invoice.id, code, reason });
    return {
      messages: [],
      decision: { customerId: customer.id, outcome: 'skipped' as const, code, reason, invoices: decisions },
    };
  };

  // The first message to a debtor is the one a reviewer holds (typically the catch-up statement): nothing else goes
  // to them before it, or their first email would be an unreviewed reminder listing the same old debt.
  const past = l.historyByCustomer.get(customer.id) ?? [];
  if (
    (!unreachable || partlyReachable) &&
    !past.some((h) => h.status === 'sent') &&
    past.some((h) => h.awaitingApproval)
  ) {
    return skipCustomer(
      'first_message_held',
      `The first message to ${customer.name} is waiting for approval; nothing more is planned for them until it is sent`,
    );
  }

  // Never ask for what is not owed: credit on account (unapplied payments, open credit memos) that covers everything
  // open in each currency means the ledger needs the credit applied, not the debtor a reminder.
  const owed = totalsByCurrency(listable);
  const credit = creditIn(customer, owed);
  if (creditCoversAll(owed, credit)) {
    const skipped = skipCustomer(
      'credit_on_account',
      `${customer.name} has ${creditText(credit, owed)} of unapplied payments and credits on account, covering the ${moneyList(owed)} open; apply them in the ledger`,
    );
    const settles = listable.map(
      (i) => `${invoiceName(i)} (${formatMoney(i.openBalanceMinor, i.currency, 'en-US')})`,
    );
    const shown = settles.length > 6 ? [...settles.slice(0, 5), `${settles.length - 5} more`] : settles;
    const creditCovers = {
      title: `Apply ${customer.name}'s credit on account in the ledger: ${creditText(credit, owed)} of unapplied payments and credits can settle ${shown.join(', ')}. No reminder goes to them meanwhile`,
      credits: owed.map((t) => ({ currency: t.currency, creditMinor: credit.get(t.currency)! })),
      invoices: listable.map((i) => ({
        invoiceId: i.id,
        number: i.number,
        currency: i.currency,
        openBalanceMinor: i.openBalanceMinor,
      })),
    };
    return { ...skipped, decision: { ...skipped.decision, creditCovers } };
  }
  if (unreachable && !partlyReachable) return blockedDecision();
  if (partlyReachable) {
    // Only the invoices with a recipient of their own go out; the others keep the block's code and reason.
    const [reachable, waiting] = partition(candidates, (c) => ownRecipients(c.invoice) !== undefined);
    if (reachable.length === 0) return blockedDecision();
    for (const c of waiting)
      decisions.push({ invoiceId: c.invoice.id, code: blocked!.code, reason: blocked!.reason });
    candidates.splice(0, candidates.length, ...reachable);
    const kept = listable.filter((i) => ownRecipients(i) !== undefined);
    listable.splice(0, listable.length, ...kept);
  }

  // However many invoices fall due on different days, the customer hears from us at most once per window.
  const recent = lastContact(past, timeZone);
  const gap = input.settings.minDaysBetweenMessages;
  if (recent && diffDays(today, recent) < gap) {
    return skipCustomer(
      'recently_contacted',
      `Last message on ${recent}; at most one every ${gap} days, so the next can go on ${addDays(recent, gap)}`,
    );
  }

  // Consolidate per recipient (recipientGroups): invoices whose recipients share an address are one message.
  const groups = recipientGroups(
    listable.map((inv) => ({
      id: inv.id,
      // An unreachable customer's invoices go to their own recipients only, never back to its addresses.
      to: partlyReachable ? ownRecipients(inv)! : recipientsOf(customer, inv),
    })),
  );
  const byGroup = new Map(
    groups.map((g) => [g, { to: g.to, candidates: [] as Candidate[], listable: [] as PlannerInvoice[] }]),
  );
  for (const c of candidates) byGroup.get(groups.of(c.invoice.id))!.candidates.push(c);
  for (const inv of listable) byGroup.get(groups.of(inv.id))!.listable.push(inv);
  // First contact: a debtor Duely never wrote to whose debt is older than the first reminder (reminders were
  // missed, typically on day one) gets a statement of account that a person reviews, never a burst of threats.
  const neverContacted = !(l.historyByCustomer.get(customer.id) ?? []).some(reachedCustomer);
  const catchUp =
    neverContacted &&
    candidates.some(
      (c) =>
        c.byAge.offsetDays > c.occurrence.offsetDays || TONE_RANK[c.occurrence.step.tone] >= TONE_RANK.firm,
    );
  // A statement of account lists every open invoice not on hold that goes to the same people, not only the due and
  // overdue ones: "N open invoices, X in total" is then the debtor's balance (as a requested statement's is).
  const recipientKeys = (inv: PlannerInvoice) =>
    (partlyReachable ? (ownRecipients(inv) ?? []) : recipientsOf(customer, inv)).map(addressKey);
  const extrasFor = (to: string[]) => {
    const keys = new Set(to.map(addressKey));
    return notYetDue.filter((inv) => recipientKeys(inv).some((a) => keys.has(a)));
  };
  // Invoices on hold for the same people are named in the message (not asked for), so their absence is explained.
  // (One pass over the decisions: scanning them per invoice was quadratic on a customer with many open invoices.)
  const namedHeld = new Set(decisions.filter((d) => NAMED_HOLDS.has(d.code)).map((d) => d.invoiceId));
  const heldFor = (to: string[]) => {
    const keys = new Set(to.map(addressKey));
    return invoices.filter((inv) => namedHeld.has(inv.id) && recipientKeys(inv).some((a) => keys.has(a)));
  };
  const messages = [...byGroup.values()]
    .filter((g) => g.candidates.length > 0)
    .map((g) => compose(ctx, g.to, g.candidates, g.listable, l, catchUp, extrasFor(g.to), heldFor(g.to)));

  for (const c of candidates) {
    decisions.push({
      invoiceId: c.invoice.id,
      code: 'step_due',
      reason: `Invoice ${invoiceName(c.invoice)} ${dueText(c.daysFromDue)}; ${describeStep(c.occurrence, c.sequence)}`,
    });
  }
  // Invoices listed without a step of their own keep their reason and are marked as included.
  const listed = new Set(messages.flatMap((m) => m.invoiceIds));
  for (const d of decisions) {
    if (d.code !== 'step_due' && listed.has(d.invoiceId)) {
      d.code = 'included';
      d.reason += '; listed in the consolidated message';
    }
  }
  return {
    messages,
    decision: {
      customerId: customer.id,
      outcome: 'message',
      code: 'step_due',
      reason: messages.map((m) => m.reason).join(' | '),
      invoices: decisions,
    },
  };
}

/** A decision code that a working address would lift (no address, every address bounced): a find-a-contact case. */
export function isUnreachableCode(code: DecisionCode): boolean {
  return code === 'no_contact' || code === 'bounced';
}

function isUnreachable(block: { code: DecisionCode } | null | undefined): boolean {
  return block !== null && block !== undefined && isUnreachableCode(block.code);
}

/** The recipients an invoice names itself (its contact override, else its BillEmail's addresses), if any. */
function ownRecipients(invoice: PlannerInvoice): string[] | undefined {
  return invoice.override?.contactEmails ?? (invoice.billEmails?.length ? invoice.billEmails : undefined);
}

function partition<T>(items: readonly T[], keep: (item: T) => boolean): [T[], T[]] {
  const yes: T[] = [];
  const no: T[] = [];
  for (const item of items) (keep(item) ? yes : no).push(item);
  return [yes, no];
}

/** Addresses are compared as bounces and suppressions compare them: case-insensitively. */
const addressKey = (a: string) => a.toLowerCase();

/**
 * Where an invoice's reminders go, most explicit choice first: the invoice's contact override (a person routed it),
 * the customer's dunning contact (the finance team chose who is chased for this debtor), the address the invoice
 * itself was sent to (every address of its BillEmail, e.g. the debtor's AP mailbox), else the customer's billing
 * emails. Bounced addresses are already left out of `billEmails` and `emails` (planner-input.ts), so a BillEmail
 * whose every address bounced falls back to the billing emails. The one copy of the rule: messages carry the result
 * and the pre-send re-check only drops addresses that bounced since.
 */
function recipientsOf(customer: PlannerCustomer, invoice: PlannerInvoice): string[] {
  return (
    invoice.override?.contactEmails ??
    customer.override?.contactEmails ??
    (invoice.billEmails?.length ? billRecipients(invoice.billEmails, customer) : customer.emails)
  );
}

/**
 * Where a BillEmail sends the invoice. The ledgers copy a customer's email onto each invoice (the invoice's bill-to
 * email), often only some of its addresses, and keep that copy when the customer's email changes later. A BillEmail
 * all of whose addresses are the customer's own, or were its own (its `formerEmails`: the debtor moved, the invoice
 * still names the old mailbox), routes nothing elsewhere: the reminder goes to all of the customer's current
 * addresses. One address the customer never had means someone chose where this invoice goes (e.g. ap@ of the parent
 * company): it goes to the BillEmail's addresses, an address the customer had replaced by its current ones (and when
 * they share one with the customer's other invoices' recipients, recipientGroups makes that one message to all of
 * them). A customer left with no address keeps its invoices' BillEmails as they are.
 */
function billRecipients(billEmails: readonly string[], customer: PlannerCustomer): string[] {
  if (allAmong(billEmails, customer.emails)) return customer.emails;
  if (customer.emails.length === 0 || !customer.formerEmails?.length) return [...billEmails];
  const moved = movedAddresses(billEmails, customer);
  return allAmong(moved, customer.emails) ? customer.emails : moved;
}

/**
 * `addresses` with each address `owner` had and no longer has replaced by its current ones, each address once (as
 * given when the owner has no current address or no former one). Also used by planner-input for a job billed with
 * its parent, whose invoices' BillEmail copies the job's address, not the parent's.
 */
export function movedAddresses(
  addresses: readonly string[],
  owner: { emails: readonly string[]; formerEmails?: readonly string[] },
): string[] {
  if (owner.emails.length === 0 || !owner.formerEmails?.length) return [...addresses];
  const current = new Set(owner.emails.map(addressKey));
  const former = new Set(owner.formerEmails.map(addressKey).filter((k) => !current.has(k)));
  const moved = addresses.flatMap((a) => (former.has(addressKey(a)) ? owner.emails : [a]));
  const seen = new Set<string>();
  return moved.filter((a) => !seen.has(addressKey(a)) && seen.add(addressKey(a)));
}

/** Whether every address of `addresses` is one of `list` (as addresses compare). */
function allAmong(addresses: readonly string[], list: readonly string[]): boolean {
  const keys = new Set(list.map(addressKey));
  return addresses.every((a) => keys.has(addressKey(a)));
}

interface RecipientGroup {
  to: string[];
}

/**
 * One group per set of invoices whose recipients overlap, transitively: nobody receives two reminders from one run.
 * Invoices routed elsewhere (an invoice contact override, a BillEmail) normally get a message of their own, but when
 * their recipients share an address with another message's, that person would get both: the invoices are the same
 * debtor's, so one email to everyone concerned, listing all of them, beats routing each invoice precisely. The
 * recipients are the union, each address once, in an order that does not depend on the order of the invoices
 * (lists ordered by their sorted addresses, each list's own order kept), so re-planning gives the same message.
 */
function recipientGroups(items: readonly { id: string; to: string[] }[]): RecipientGroup[] & {
  of: (id: string) => RecipientGroup;
} {
  const listKey = (to: string[]) => [...new Set(to.map(addressKey))].sort().join('\n');
  const lists = [...new Map(items.map((i) => [listKey(i.to), i.to])).entries()].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  // Union-find over the distinct lists, joined through any address they share.
  const parent = lists.map((_, i) => i);
  const root = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r]!;
    return r;
  };
  const firstWith = new Map<string, number>();
  lists.forEach(([, to], i) => {
    for (const a of to) {
      const seen = firstWith.get(addressKey(a));
      if (seen === undefined) firstWith.set(addressKey(a), i);
      else parent[root(i)] = root(seen);
    }
  });
  const byRoot = new Map<number, { group: RecipientGroup; seen: Set<string> }>();
  const ofList = new Map<string, RecipientGroup>();
  lists.forEach(([key, to], i) => {
    const r = root(i);
    let g = byRoot.get(r);
    if (!g) {
      g = { group: { to: [] }, seen: new Set() };
      byRoot.set(r, g);
    }
    for (const a of to) {
      if (g.seen.has(addressKey(a))) continue;
      g.seen.add(addressKey(a));
      g.group.to.push(a);
    }
    ofList.set(key, g.group);
  });
  const ofItem = new Map(items.map((i) => [i.id, ofList.get(listKey(i.to))!]));
  return Object.assign(
    [...byRoot.values()].map((g) => g.group),
    { of: (id: string) => ofItem.get(id)! },
  );
}

function customerContext(
  customer: PlannerCustomer,
  today: IsoDate,
  timeZone: string,
  invoices: PlannerInvoice[],
  l: Lookups,
): CustomerContext {
  const pred = l.customerPred.get(customer.id) ?? riskiestJob(invoices, l.customerPred);
  const riskBand = pred ? pred.riskBand : worstBand(invoices, l.invoicePred);
  const slowingAlert = pred?.slowingAlert ?? false;
  const openByCurrency = new Map<string, number>();
  for (const inv of invoices) {
    openByCurrency.set(inv.currency, (openByCurrency.get(inv.currency) ?? 0) + inv.openBalanceMinor);
  }
  const { sequence, why } = selectSequence(
    l.input.policy,
    { riskBand, slowingAlert, tags: customer.tags, openByCurrency },
    customer.override?.sequenceId,
  );
  return {
    customer,
    today,
    timeZone,
    sequence,
    selectedBy: why,
    risk: { riskScore: pred?.riskScore ?? null, riskBand, slowingAlert },
  };
}

function evaluateInvoice(invoice: PlannerInvoice, ctx: CustomerContext, l: Lookups): InvoiceOutcome {
  const decided = (code: DecisionCode, reason: string, listable = false): InvoiceOutcome => ({
    kind: 'decided',
    decision: { invoiceId: invoice.id, code, reason },
    listable,
  });
  const hold = invoiceHold(invoice, ctx.today, l.disputes.get(invoice.id), l.promises.get(invoice.id));
  if (hold) return decided(hold.code, hold.reason);

  const sequence =
    l.input.policy.sequences.find((s) => s.id === invoice.override?.sequenceId) ?? ctx.sequence;
  const daysFromDue = diffDays(ctx.today, invoice.dueDate);
  const pred = l.invoicePred.get(invoice.id);
  const predictedLate = pred !== undefined && pred.pLate >= P_LATE_THRESHOLD[l.input.settings.sensitivity];
  const timeline = stepTimeline(sequence, predictedLate);
  const due = latestDue(timeline, daysFromDue);
  const next = nextAfter(timeline, daysFromDue);
  const nextText = next
    ? `next step on ${addDays(invoice.dueDate, next.offsetDays)}`
    : `'${sequence.name}' is complete`;
  // Overdue invoices appear in the customer's message even when their own step is not due today.
  const overdue = daysFromDue >= 0;

  if (!due) {
    const why = next
      ? `next step (${next.step.tone}) on ${addDays(invoice.dueDate, next.offsetDays)}`
      : `no step of '${sequence.name}' applies`;
    return decided('not_due', `Invoice ${invoice.number}: ${why}`, overdue);
  }
  // Escalation follows what the debtor actually received, not the invoice's age: one step at a time, each after
  // the sequence's spacing from the previous one. A step that was planned and skipped is passed all the same.
  const past = l.historyByInvoice.get(invoice.id) ?? [];
  const position = sequencePosition(timeline, past, daysFromDue);
  const step = timeline
    .slice(position ? position.index + 1 : 0)
    // Once the invoice is overdue a "due soon" nudge would be untrue: the first step then is an overdue one.
    .find((o) => o.offsetDays <= daysFromDue && !(daysFromDue > 0 && o.offsetDays < 0));
  if (!step && !position) {
    const why = next
      ? `next step (${next.step.tone}) on ${addDays(invoice.dueDate, next.offsetDays)}`
      : `no step of '${sequence.name}' applies`;
    return decided('not_due', `Invoice ${invoice.number}: ${why}`, overdue);
  }
  if (!step) {
    const last = position?.entry;
    const when = last ? localParts(last.at, l.input.settings.timezone).date : null;
    const at = position ? timeline[position.index]! : due;
    const what =
      last && last.stepKey !== at.key
        ? `a ${last.tone} reminder (another sequence)`
        : describeStep(at, sequence);
    return decided(
      'already_done',
      `Invoice ${invoice.number}: ${what} already ${last?.status ?? 'done'}${when ? ` on ${when}` : ''}; ${nextText}`,
      overdue,
    );
  }
  if (position) {
    const { entry } = position;
    const previous = timeline[position.index]!;
    if (entry.status === 'planned') {
      return decided(
        'not_due',
        `Invoice ${invoice.number}: ${describeStep(previous, sequence)} is not sent yet; ${describeStep(step, sequence)} follows it`,
        overdue,
      );
    }
    const lastOn = localParts(entry.at, ctx.timeZone).date;
    const gap = Math.max(1, step.offsetDays - previous.offsetDays);
    if (diffDays(ctx.today, lastOn) < gap) {
      return decided(
        'not_due',
        `Invoice ${invoice.number}: ${describeStep(step, sequence)} on ${addDays(lastOn, gap)}, ${gap} days after the previous reminder (${lastOn})`,
        overdue,
      );
    }
  }
  // After a sequence change (e.g. the customer became low risk) never step back to a gentler tone.
  const strongestSent = Math.max(-1, ...past.filter(reachedCustomer).map((h) => TONE_RANK[h.tone]));
  if (TONE_RANK[step.step.tone] < strongestSent) {
    return decided(
      'softer_than_sent',
      `Invoice ${invoice.number}: ${describeStep(step, sequence)} is gentler than a message already sent`,
      overdue,
    );
  }
  // A final notice only ever follows reminders that reached the debtor.
  if (step.step.tone === 'final' && !past.some((h) => h.status === 'sent')) {
    return decided(
      'not_due',
      `Invoice ${invoice.number}: ${describeStep(step, sequence)} waits until an earlier reminder has been sent`,
      overdue,
    );
  }
  return { kind: 'due', candidate: { invoice, occurrence: step, sequence, daysFromDue, byAge: due } };
}

/**
 * Where the invoice stands in the timeline: the latest occurrence its history went through. History from another
 * sequence (the customer moved) maps by tone: the invoice continues after the last step as strong as what it got.
 */
function sequencePosition(
  timeline: readonly StepOccurrence[],
  past: readonly HistoryEntry[],
  daysFromDue: number,
): { index: number; entry: HistoryEntry } | null {
  let best: { index: number; entry: HistoryEntry } | null = null;
  for (const h of past) {
    const index = timeline.findIndex((o) => o.key === h.stepKey);
    if (index >= 0 && (!best || index > best.index)) best = { index, entry: h };
  }
  if (best) return best;
  const reached = past.filter(reachedCustomer);
  if (reached.length === 0) return null;
  const latest = reached.reduce((a, b) => (b.at > a.at ? b : a));
  const strongest = Math.max(...reached.map((h) => TONE_RANK[h.tone]));
  // The invoice stands at the new sequence's first step as strong as what it got, once its age has reached that
  // step; before that, just ahead of it (so the step itself comes in its time).
  const first = timeline.findIndex((o) => TONE_RANK[o.step.tone] >= strongest);
  const index =
    first === -1 ? timeline.length - 1 : timeline[first]!.offsetDays <= daysFromDue ? first : first - 1;
  return index >= 0 ? { index, entry: latest } : null;
}

function compose(
  ctx: CustomerContext,
  to: string[],
  candidates: Candidate[],
  listable: PlannerInvoice[],
  l: Lookups,
  catchUp: boolean,
  /** Open invoices not due yet for the same recipients: listed only when the message is a statement. */
  notYetDue: PlannerInvoice[] = [],
  /** Open invoices on hold for the same recipients: named (not asked for) where they would be listed. */
  onHold: PlannerInvoice[] = [],
): PlannedMessage {
  const { input } = l;
  const { customer } = ctx;
  // One message per customer: the strongest due step sets the tone; ties go to the longest-overdue invoice.
  const ranked = [...candidates].sort(
    (a, b) =>
      TONE_RANK[b.occurrence.step.tone] - TONE_RANK[a.occurrence.step.tone] ||
      b.daysFromDue - a.daysFromDue ||
      a.invoice.number.localeCompare(b.invoice.number),
  );
  const lead = ranked[0]!;
  const steps = ranked
    .map((c) => ({ invoiceId: c.invoice.id, stepKey: c.occurrence.key }))
    .sort((a, b) => a.invoiceId.localeCompare(b.invoiceId));
  const stepOf = new Map(steps.map((s) => [s.invoiceId, s.stepKey]));
  const template = catchUp ? 'statement' : lead.occurrence.step.template;
  const listed = [...listable, ...(template === 'statement' ? notYetDue : [])].sort(
    (a, b) => a.dueDate.localeCompare(b.dueDate) || a.number.localeCompare(b.number),
  );
  const totals = totalsByCurrency(listed);
  // A reminder lists the due and overdue invoices: a held one is named where it would have been listed.
  const held = heldLines(
    template === 'statement' ? onHold : onHold.filter((i) => i.dueDate <= ctx.today),
    ctx.today,
    l,
  );
  const key = `dm_${createHash('sha256')
    .update(`${customer.id}|${steps.map((s) => `${s.invoiceId}@${s.stepKey}`).join(',')}`)
    .digest('hex')
    .slice(0, 24)}`;
  // Reminders the debtor actually received about these invoices (copy says "despite our earlier reminders" only
  // then). One consolidated message leaves one history entry per invoice, all at the same instant: count instants.
  const previous = new Set(
    listed.flatMap((i) =>
      (l.historyByInvoice.get(i.id) ?? []).filter((h) => h.status === 'sent').map((h) => h.at.getTime()),
    ),
  );
  const approvals = approvalReasons({
    rules: ranked.map((c) => ({
      rule: c.occurrence.step.approval,
      step: `step ${c.occurrence.stepIndex + 1} of '${c.sequence.name}'`,
      invoiceHighRisk: l.invoicePred.get(c.invoice.id)?.riskBand === 'high',
    })),
    tone: lead.occurrence.step.tone,
    totals,
    thresholdMinor: input.settings.approvalThresholdMinor,
    customer: { name: customer.name, strategic: customer.strategic, ...ctx.risk },
    catchUp,
  });
  const sendAt = chooseSendTime({
    now: input.now,
    debtorTimezone: customer.timezone,
    tenantTimezone: input.settings.timezone,
    businessDays: input.settings.businessDays,
    businessHours: input.settings.businessHours,
    quietHours: input.settings.quietHours,
    holidays: input.settings.holidays,
    engagement: l.engagementByCustomer.get(customer.id) ?? [],
    rng: seededRng(
      explorationSeed(
        customer,
        ranked.map((c) => ({ number: c.invoice.number, stepKey: c.occurrence.key })),
      ),
    ),
  });
  // Figures as the debtor will read them: days overdue on the send date in the debtor's zone, not on the day of
  // planning (which may still be the previous day there).
  const sendDate = localParts(sendAt, ctx.timeZone).date;
  // Credit on account covering part of the balance: the amounts in the email would overstate what is owed, so a
  // person checks it (and applies the credit in the ledger) before it goes.
  const credit = creditIn(customer, totals);
  if (credit.size > 0) {
    approvals.unshift(
      `credit on account: ${customer.name} has ${creditText(credit, totals)} of unapplied payments and credits on account against ${moneyList(totals)} open; apply them in the ledger or check the amounts`,
    );
  }
  // The reason counts days as the email does: to the send date in the debtor's zone.
  const reasonParts = messageReasonParts(
    ranked,
    listed,
    customer.name,
    catchUp,
    l.invoicePred,
    ctx.risk.slowingAlert,
  );
  if (catchUp) approvals.unshift(catchUpApproval(reasonParts, sendDate));
  // "Why it was sent" names what the email says is on hold, as the email does.
  if (held.length > 0)
    reasonParts.rest.push(
      `not asked for (on hold): ${held.map((h) => `${h.number} (${h.hold === 'paused' ? 'paused' : h.hold === 'promised' ? 'payment promised' : 'disputed'})`).join(', ')}`,
    );

  return {
    key,
    customerId: customer.id,
    to,
    channel: lead.occurrence.step.channel,
    invoiceIds: listed.map((i) => i.id),
    steps,
    stepKey: lead.occurrence.key,
    sequenceId: lead.sequence.id,
    tone: lead.occurrence.step.tone,
    template,
    sendAt,
    requiresApproval: approvals.length > 0,
    approvalReason: approvals.length > 0 ? approvals.join('; ') : null,
    reason: reasonText(reasonParts, sendDate),
    snapshot: {
      asOf: ctx.today,
      sendDate,
      plannedAt: input.now.toISOString(),
      invoices: listed.map((inv) => {
        const pred = l.invoicePred.get(inv.id);
        return {
          invoiceId: inv.id,
          number: inv.number,
          issueDate: inv.issueDate,
          dueDate: inv.dueDate,
          daysOverdue: Math.max(0, diffDays(sendDate, inv.dueDate)),
          totalMinor: inv.totalMinor,
          openBalanceMinor: inv.openBalanceMinor,
          currency: inv.currency,
          payLink: inv.payLink ?? null,
          stepKey: stepOf.get(inv.id) ?? null,
          prediction: pred
            ? {
                pLate: pred.pLate,
                predictedPayDate: pred.predictedPayDate,
                riskBand: pred.riskBand,
                reasons: pred.reasons,
              }
            : null,
        };
      }),
      totals,
      previousReminders: previous.size,
      catchUp,
      ...(lead.occurrence.step.copy && !catchUp ? { copy: lead.occurrence.step.copy } : {}),
      customerRisk: ctx.risk,
      reliablePayer: reliablePayer(customer, ctx.risk),
      sequence: { id: ctx.sequence.id, name: ctx.sequence.name, selectedBy: ctx.selectedBy },
      reasonParts,
      ...(credit.size > 0
        ? { credits: [...credit].map(([currency, creditMinor]) => ({ currency, creditMinor })) }
        : {}),
      ...(held.length > 0 ? { held } : {}),
      ...(customer.view ? { debtor: customer.view } : {}),
    },
  };
}

/** The customer's credit on account in the currencies of `totals` (positive amounts only). */
function creditIn(
  customer: PlannerCustomer,
  totals: { currency: string; openMinor: number }[],
): Map<string, number> {
  const currencies = new Set(totals.map((t) => t.currency));
  const out = new Map<string, number>();
  for (const c of customer.credits ?? []) {
    if (c.creditMinor > 0 && currencies.has(c.currency))
      out.set(c.currency, (out.get(c.currency) ?? 0) + c.creditMinor);
  }
  return out;
}

function creditText(credit: Map<string, number>, totals: { currency: string }[]): string {
  return totals
    .filter((t) => credit.has(t.currency))
    .map((t) => formatMoney(credit.get(t.currency)!, t.currency, 'en-US'))
    .join(' and ');
}

function moneyList(totals: { currency: string; openMinor: number }[]): string {
  return totals.map((t) => formatMoney(t.openMinor, t.currency, 'en-US')).join(' and ');
}

function customerBlock(
  c: PlannerCustomer,
  contacts: string[],
  today: IsoDate,
): { code: DecisionCode; reason: string } | null {
  if (c.override?.excluded)
    return { code: 'customer_excluded', reason: `${c.name} is excluded from reminders` };
  if (c.optedOut) return { code: 'opted_out', reason: `${c.name} unsubscribed from reminders` };
  // A contact override is a fresh address, so an earlier bounce on the billing address no longer applies.
  if (c.bounced && !c.override?.contactEmails) {
    return { code: 'bounced', reason: `${c.name}'s billing address bounced; add a working contact` };
  }
  if (contacts.length === 0) return { code: 'no_contact', reason: `${c.name} has no email address` };
  if (c.override?.pausedUntil && today < c.override.pausedUntil) {
    return {
      code: 'customer_paused',
      reason: `Reminders to ${c.name} are paused until ${c.override.pausedUntil}`,
    };
  }
  return null;
}

function invoiceHold(
  inv: PlannerInvoice,
  today: IsoDate,
  dispute: Dispute | undefined,
  promise: PromiseToPay | undefined,
): { code: DecisionCode; reason: string } | null {
  const n = inv.number;
  if (inv.openBalanceMinor <= 0)
    return { code: 'zero_balance', reason: `Invoice ${n} has nothing left to pay` };
  if (inv.override?.excluded)
    return { code: 'invoice_excluded', reason: `Invoice ${n} is excluded from reminders` };
  if (inv.override?.pausedUntil && today < inv.override.pausedUntil) {
    return { code: 'invoice_paused', reason: `Invoice ${n} is paused until ${inv.override.pausedUntil}` };
  }
  if (dispute && (dispute.until === null || today < dispute.until)) {
    const until = dispute.until ? ` (paused until ${dispute.until})` : '';
    return { code: 'disputed', reason: `Invoice ${n} is disputed since ${dispute.openedOn}${until}` };
  }
  if (promise) {
    const resume = addDays(promise.promisedDate, promise.graceDays + 1);
    if (today < resume) {
      return {
        code: 'promise_to_pay',
        reason: `Invoice ${n}: payment promised by ${promise.promisedDate}; reminders resume ${resume}`,
      };
    }
  }
  return null;
}

/** The reason's parts (reason-text.ts): the lead invoice, the step, the forecast, what else is listed. */
function messageReasonParts(
  ranked: Candidate[],
  listed: PlannerInvoice[],
  customer: string,
  catchUp: boolean,
  invoicePred: Map<string, InvoicePrediction>,
  slowing: boolean,
): ReasonParts {
  const [lead, ...others] = ranked;
  if (!lead) throw new Error('a message leads with a stepped invoice');
  const rest = [
    catchUp
      ? describeCatchUpStep(lead.occurrence, lead.sequence)
      : describeStep(lead.occurrence, lead.sequence),
  ];
  const pred = invoicePred.get(lead.invoice.id);
  if (pred?.predictedPayDate) {
    const late = diffDays(pred.predictedPayDate, lead.invoice.dueDate);
    // The invoice's band, named as such: beside a customer's sequence ('High risk') a bare "(low risk)" read as the
    // customer's (an overdue invoice's band is the risk it is not collected within 90 days).
    // Old debt unlikely to be collected soon has a conditional pay date years out ("payment 1148 days late"): no
    // forecast a controller can use, so its reason is the chance instead, as the invoice list words it.
    const unlikely = pred.pCollect90 !== null && pred.pCollect90 < 0.5;
    const span = roughSpan(late);
    rest.push(
      unlikely
        ? `collection unlikely within 90 days (${Math.round(pred.pCollect90! * 100)}% chance; invoice risk: ${pred.riskBand})`
        : late > 0
          ? `model predicts payment ${late} ${late === 1 ? 'day' : 'days'} late (${span ? `${span}; ` : ''}invoice risk: ${pred.riskBand})`
          : `model predicts on-time payment (invoice risk: ${pred.riskBand})`,
    );
  }
  if (slowing) rest.push('customer has been paying more slowly lately');
  if (others.length > 0)
    rest.push(
      `also due: ${others.map((o) => `${invoiceName(o.invoice)} (${o.occurrence.step.tone})`).join(', ')}`,
    );
  // Listed without a step of their own: overdue ones, and (a statement) those due on the day or later.
  const stepped = new Set(ranked.map((c) => c.invoice.id));
  return {
    catchUp,
    customer,
    lead: { name: invoiceName(lead.invoice), dueDate: lead.invoice.dueDate },
    rest,
    unstepped: listed.filter((i) => !stepped.has(i.id)).map((i) => i.dueDate),
    // Listed oldest due date first.
    oldestDue: listed[0]?.dueDate ?? lead.invoice.dueDate,
  };
}

/** Whether credit on account (per currency) covers every currency's open total. */
function creditCoversAll(
  owed: readonly { currency: string; openMinor: number }[],
  credit: ReadonlyMap<string, number>,
): boolean {
  return owed.every((t) => (credit.get(t.currency) ?? 0) >= t.openMinor);
}

/** "1042", or "1042 (Parent:Job)" for a job's invoice planned with its parent. */
function invoiceName(inv: PlannerInvoice): string {
  return inv.job ? `${inv.number} (${inv.job})` : inv.number;
}

/** Skipped and failed messages never reached the customer: they neither count as contact nor set the tone. */
function reachedCustomer(h: HistoryEntry): boolean {
  return h.status === 'planned' || h.status === 'sent';
}

/** Local date of the latest message planned or sent to the customer. */
function lastContact(history: HistoryEntry[], timeZone: string): IsoDate | null {
  let latest: Date | null = null;
  for (const h of history) if (reachedCustomer(h) && (!latest || h.at > latest)) latest = h.at;
  return latest ? localParts(latest, timeZone).date : null;
}

/** Intl conversion is the costly part of a customer's plan; customers share a handful of timezones. */
function todayIn(timeZone: string, l: Lookups): IsoDate {
  let today = l.todayIn.get(timeZone);
  if (!today) {
    today = localParts(l.input.now, timeZone).date;
    l.todayIn.set(timeZone, today);
  }
  return today;
}

/** Risk bands, least risky first (the schema's order). */
const BAND_ORDER: readonly RiskBand[] = riskBandSchema.options;

/**
 * A payer without a score of its own (a parent whose jobs are billed with it, typically no invoices of its own) is
 * as risky as the riskiest of those jobs by their customer scores, the bands their Customer pages show; not by an
 * invoice band, which is on another scale (an overdue invoice's is P(not collected within 90 days): "low" for a
 * debtor months late who will pay in the end).
 */
function riskiestJob(
  invoices: PlannerInvoice[],
  preds: Map<string, CustomerPrediction>,
): CustomerPrediction | undefined {
  let worst: CustomerPrediction | undefined;
  for (const i of invoices) {
    const p = i.jobId === undefined ? undefined : preds.get(i.jobId);
    if (!p) continue;
    const rank = BAND_ORDER.indexOf(p.riskBand) - (worst ? BAND_ORDER.indexOf(worst.riskBand) : -1);
    if (rank > 0 || (rank === 0 && p.riskScore > worst!.riskScore)) worst = p;
  }
  return worst;
}

/** Without any customer-level score, the customer is as risky as its riskiest scored invoice. */
function worstBand(invoices: PlannerInvoice[], preds: Map<string, InvoicePrediction>): RiskBand | null {
  const ranks = invoices
    .map((i) => preds.get(i.id))
    .filter((p) => p !== undefined)
    .map((p) => BAND_ORDER.indexOf(p.riskBand));
  return ranks.length > 0 ? (BAND_ORDER[Math.max(...ranks)] ?? null) : null;
}

function totalsByCurrency(invoices: PlannerInvoice[]): { currency: string; openMinor: number }[] {
  const totals = new Map<string, number>();
  for (const inv of invoices)
    totals.set(inv.currency, (totals.get(inv.currency) ?? 0) + inv.openBalanceMinor);
  return [...totals].map(([currency, openMinor]) => ({ currency, openMinor }));
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
