import { createHash } from 'node:crypto';
// The cached formatter: connectors/money builds a new Intl.NumberFormat per call (~0.2 ms), too slow per message.
import { formatMoney } from '../../emails/locale-format';
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
  type Sequence,
  type StepTemplate,
  TONE_RANK,
  type Tone,
} from './policy';
import { selectSequence } from './select-sequence';
import { chooseSendTime, type EngagementRecord } from './send-time';
import { latestDue, nextAfter, type StepOccurrence, stepTimeline } from './step-schedule';

export interface PlannerCustomer {
  id: string;
  name: string;
  emails: string[];
  timezone?: string | null;
  tags: string[];
  /** Key accounts: firm and final messages to them wait for a human. */
  strategic: boolean;
  bounced: boolean;
  optedOut: boolean;
  override?: Override;
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
}

export interface InvoicePrediction {
  invoiceId: string;
  pLate: number;
  predictedPayDate: IsoDate | null;
  riskBand: RiskBand;
  reasons: string[];
}

export interface CustomerPrediction {
  customerId: string;
  riskScore: number;
  /** When absent, derived from riskScore (< 0.33 low, < 0.66 medium, else high). */
  riskBand?: RiskBand;
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
  prediction: Omit<InvoicePrediction, 'invoiceId'> | null;
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
    plannedAt: string;
    invoices: InvoiceSnapshot[];
    totals: { currency: string; openMinor: number }[];
    /** Messages already planned or sent about the listed invoices; copy says "despite earlier reminders" only then. */
    previousReminders: number;
    customerRisk: { riskScore: number; riskBand: RiskBand | null; slowingAlert: boolean } | null;
  };
}

export type DecisionCode =
  | 'step_due'
  | 'included'
  | 'not_due'
  | 'already_done'
  | 'softer_than_sent'
  | 'recently_contacted'
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
}

export interface PlanResult {
  messages: PlannedMessage[];
  decisions: CustomerDecision[];
}

interface Candidate {
  invoice: PlannerInvoice;
  occurrence: StepOccurrence;
  sequence: Sequence;
  daysFromDue: number;
}

/**
 * Decides, for every customer with open invoices, whether a message is due now and what it says. Pure: the
 * same input gives the same messages, keys and send times (the send-time rng is seeded from the message key),
 * so planning can run as often as the scheduler likes; history makes it idempotent across runs.
 */
export function plan(input: PlannerInput): PlanResult {
  const invoicesByCustomer = groupBy(input.invoices, (i) => i.customerId);
  const invoicePred = new Map(input.invoicePredictions.map((p) => [p.invoiceId, p]));
  const customerPred = new Map(input.customerPredictions.map((p) => [p.customerId, p]));
  const historyByInvoice = groupBy(input.history, (h) => h.invoiceId);
  const historyByCustomer = groupBy(input.history, (h) => h.customerId);
  const engagementByCustomer = groupBy(input.engagement, (e) => e.customerId);
  const disputes = new Map(input.disputes.filter((d) => !d.resolved).map((d) => [d.invoiceId, d]));
  const promises = new Map<string, PromiseToPay>();
  for (const p of input.promises) for (const id of p.invoiceIds) promises.set(id, p);

  const todayIn = new Map<string, IsoDate>();
  const messages: PlannedMessage[] = [];
  const decisions: CustomerDecision[] = [];

  for (const customer of input.customers) {
    const invoices = invoicesByCustomer.get(customer.id) ?? [];
    if (invoices.length === 0) continue;
    const timeZone = customer.timezone || input.settings.timezone;
    let today = todayIn.get(timeZone);
    if (!today) {
      today = localParts(input.now, timeZone).date;
      todayIn.set(timeZone, today);
    }
    const contacts = customer.override?.contactEmails ?? customer.emails;

    const blocked = customerBlock(customer, contacts, today);
    if (blocked) {
      decisions.push({ customerId: customer.id, outcome: 'skipped', ...blocked, invoices: [] });
      continue;
    }

    const risk = customerPred.get(customer.id);
    const riskBand = risk
      ? (risk.riskBand ?? bandFromScore(risk.riskScore))
      : worstBand(invoices, invoicePred);
    const openByCurrency = new Map<string, number>();
    for (const inv of invoices)
      openByCurrency.set(inv.currency, (openByCurrency.get(inv.currency) ?? 0) + inv.openBalanceMinor);
    const facts = {
      riskBand,
      slowingAlert: risk?.slowingAlert ?? false,
      tags: customer.tags,
      openByCurrency,
    };
    const sequences = input.policy.sequences;
    const customerSeq = selectSequence(input.policy, facts, customer.override?.sequenceId).sequence;

    const invoiceDecisions: InvoiceDecision[] = [];
    const candidates: Candidate[] = [];
    const listable: PlannerInvoice[] = [];
    for (const invoice of invoices) {
      const hold = invoiceHold(invoice, today, disputes.get(invoice.id), promises.get(invoice.id));
      if (hold) {
        invoiceDecisions.push({ invoiceId: invoice.id, ...hold });
        continue;
      }
      const sequence = sequences.find((s) => s.id === invoice.override?.sequenceId) ?? customerSeq;
      const daysFromDue = diffDays(today, invoice.dueDate);
      const pred = invoicePred.get(invoice.id);
      const predictedLate = pred !== undefined && pred.pLate >= P_LATE_THRESHOLD[input.settings.sensitivity];
      const timeline = stepTimeline(sequence, predictedLate);
      const due = latestDue(timeline, daysFromDue);
      if (daysFromDue >= 0 || due) listable.push(invoice);

      const past = historyByInvoice.get(invoice.id) ?? [];
      if (!due) {
        const next = nextAfter(timeline, daysFromDue);
        invoiceDecisions.push({
          invoiceId: invoice.id,
          code: 'not_due',
          reason: next
            ? `Invoice ${invoice.number}: next step (${next.step.tone}) on ${addDays(invoice.dueDate, next.offsetDays)}`
            : `Invoice ${invoice.number}: no step of '${sequence.name}' applies`,
        });
        continue;
      }
      const done = past.find((h) => h.stepKey === due.key);
      if (done) {
        const next = nextAfter(timeline, daysFromDue);
        invoiceDecisions.push({
          invoiceId: invoice.id,
          code: 'already_done',
          reason:
            `Invoice ${invoice.number}: ${describeStep(due, sequence)} already ${done.status} on ${isoDay(done.at)}` +
            (next
              ? `; next step on ${addDays(invoice.dueDate, next.offsetDays)}`
              : `; '${sequence.name}' is complete`),
        });
        continue;
      }
      // After a sequence change (e.g. the customer became low risk) never step back to a gentler tone.
      const strongestSent = Math.max(-1, ...past.filter(reachedCustomer).map((h) => TONE_RANK[h.tone]));
      if (TONE_RANK[due.step.tone] < strongestSent) {
        invoiceDecisions.push({
          invoiceId: invoice.id,
          code: 'softer_than_sent',
          reason: `Invoice ${invoice.number}: ${describeStep(due, sequence)} is gentler than a message already sent`,
        });
        continue;
      }
      candidates.push({ invoice, occurrence: due, sequence, daysFromDue });
    }

    if (candidates.length === 0) {
      const codes = new Set(invoiceDecisions.map((d) => d.code));
      const only = codes.size === 1 ? invoiceDecisions[0] : undefined;
      decisions.push({
        customerId: customer.id,
        outcome: 'nothing_due',
        code: only?.code ?? 'not_due',
        reason: only && invoiceDecisions.length === 1 ? only.reason : 'No step is due for any open invoice',
        invoices: invoiceDecisions,
      });
      continue;
    }

    const recent = lastContact(historyByCustomer.get(customer.id) ?? [], timeZone);
    if (recent && diffDays(today, recent) < input.settings.minDaysBetweenMessages) {
      const resume = addDays(recent, input.settings.minDaysBetweenMessages);
      const reason = `Last message on ${recent}; at most one every ${input.settings.minDaysBetweenMessages} days, so the next can go on ${resume}`;
      for (const c of candidates)
        invoiceDecisions.push({ invoiceId: c.invoice.id, code: 'recently_contacted', reason });
      decisions.push({
        customerId: customer.id,
        outcome: 'skipped',
        code: 'recently_contacted',
        reason,
        invoices: invoiceDecisions,
      });
      continue;
    }

    const message = compose({
      input,
      customer,
      contacts,
      today,
      candidates,
      listable,
      invoicePred,
      historyByInvoice,
      risk: risk ? { riskScore: risk.riskScore, riskBand, slowingAlert: risk.slowingAlert } : null,
      riskBand,
      engagement: engagementByCustomer.get(customer.id) ?? [],
    });
    messages.push(message);
    for (const c of candidates) {
      invoiceDecisions.push({
        invoiceId: c.invoice.id,
        code: 'step_due',
        reason: `Invoice ${c.invoice.number} ${dueText(c.daysFromDue)}; ${describeStep(c.occurrence, c.sequence)}`,
      });
    }
    // Invoices listed without a step of their own keep their reason and are marked as included.
    for (const d of invoiceDecisions) {
      if (d.code !== 'step_due' && message.invoiceIds.includes(d.invoiceId)) {
        d.code = 'included';
        d.reason += '; listed in the consolidated message';
      }
    }
    decisions.push({
      customerId: customer.id,
      outcome: 'message',
      code: 'step_due',
      reason: message.reason,
      invoices: invoiceDecisions,
    });
  }
  return { messages, decisions };
}

function compose(ctx: {
  input: PlannerInput;
  customer: PlannerCustomer;
  contacts: string[];
  today: IsoDate;
  candidates: Candidate[];
  listable: PlannerInvoice[];
  invoicePred: Map<string, InvoicePrediction>;
  historyByInvoice: Map<string, HistoryEntry[]>;
  risk: PlannedMessage['snapshot']['customerRisk'];
  riskBand: RiskBand | null;
  engagement: EngagementRecord[];
}): PlannedMessage {
  const { input, customer, candidates } = ctx;
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
  const listed = [...ctx.listable].sort(
    (a, b) => a.dueDate.localeCompare(b.dueDate) || a.number.localeCompare(b.number),
  );
  const totals = totalsByCurrency(listed);
  const key = `dm_${createHash('sha256')
    .update(`${customer.id}|${steps.map((s) => `${s.invoiceId}@${s.stepKey}`).join(',')}`)
    .digest('hex')
    .slice(0, 24)}`;

  const approvals = approvalReasons(
    ranked,
    totals,
    input.settings,
    customer,
    ctx.riskBand,
    ctx.risk?.slowingAlert ?? false,
    ctx.invoicePred,
  );
  const stepOf = new Map(steps.map((s) => [s.invoiceId, s.stepKey]));
  // One consolidated message leaves one history entry per invoice, all at the same instant: count instants.
  const previous = new Set(
    listed.flatMap((i) =>
      (ctx.historyByInvoice.get(i.id) ?? []).filter(reachedCustomer).map((h) => h.at.getTime()),
    ),
  );

  return {
    key,
    customerId: customer.id,
    to: ctx.contacts,
    channel: lead.occurrence.step.channel,
    invoiceIds: listed.map((i) => i.id),
    steps,
    stepKey: lead.occurrence.key,
    sequenceId: lead.sequence.id,
    tone: lead.occurrence.step.tone,
    template: lead.occurrence.step.template,
    sendAt: chooseSendTime({
      now: input.now,
      debtorTimezone: customer.timezone,
      tenantTimezone: input.settings.timezone,
      businessDays: input.settings.businessDays,
      businessHours: input.settings.businessHours,
      quietHours: input.settings.quietHours,
      holidays: input.settings.holidays,
      engagement: ctx.engagement,
      rng: seededRng(key),
    }),
    requiresApproval: approvals.length > 0,
    approvalReason: approvals.length > 0 ? approvals.join('; ') : null,
    reason: reasonSentence(ranked, listed.length, ctx.invoicePred, ctx.risk?.slowingAlert ?? false),
    snapshot: {
      asOf: ctx.today,
      plannedAt: input.now.toISOString(),
      invoices: listed.map((inv) => {
        const pred = ctx.invoicePred.get(inv.id);
        return {
          invoiceId: inv.id,
          number: inv.number,
          issueDate: inv.issueDate,
          dueDate: inv.dueDate,
          daysOverdue: Math.max(0, diffDays(ctx.today, inv.dueDate)),
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
      customerRisk: ctx.risk,
    },
  };
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
  if (inv.openBalanceMinor <= 0)
    return { code: 'zero_balance', reason: `Invoice ${inv.number} has nothing left to pay` };
  if (inv.override?.excluded)
    return { code: 'invoice_excluded', reason: `Invoice ${inv.number} is excluded from reminders` };
  if (inv.override?.pausedUntil && today < inv.override.pausedUntil) {
    return {
      code: 'invoice_paused',
      reason: `Invoice ${inv.number} is paused until ${inv.override.pausedUntil}`,
    };
  }
  if (dispute && (dispute.until === null || today < dispute.until)) {
    return {
      code: 'disputed',
      reason: `Invoice ${inv.number} is disputed since ${dispute.openedOn}${dispute.until ? ` (paused until ${dispute.until})` : ''}`,
    };
  }
  if (promise) {
    const resume = addDays(promise.promisedDate, promise.graceDays + 1);
    if (today < resume) {
      return {
        code: 'promise_to_pay',
        reason: `Invoice ${inv.number}: payment promised by ${promise.promisedDate}; reminders resume ${resume}`,
      };
    }
  }
  return null;
}

function approvalReasons(
  ranked: Candidate[],
  totals: { currency: string; openMinor: number }[],
  settings: DunningSettings,
  customer: PlannerCustomer,
  riskBand: RiskBand | null,
  slowing: boolean,
  invoicePred: Map<string, InvoicePrediction>,
): string[] {
  const reasons = new Set<string>();
  const limits = new Set<number>();
  for (const c of ranked) {
    const rule = c.occurrence.step.approval;
    if (rule.type === 'always')
      reasons.add(`step ${c.occurrence.stepIndex + 1} of '${c.sequence.name}' always needs approval`);
    if (rule.type === 'above_amount') limits.add(rule.amountMinor ?? settings.approvalThresholdMinor);
    if (
      rule.type === 'high_risk' &&
      (riskBand === 'high' || slowing || invoicePred.get(c.invoice.id)?.riskBand === 'high')
    ) {
      reasons.add('high-risk customer');
    }
  }
  // The strictest limit decides; one currency total above it is enough.
  if (limits.size > 0) {
    const limit = Math.min(...limits);
    for (const t of totals) {
      if (t.openMinor > limit) {
        reasons.add(
          `open total ${formatMoney(t.openMinor, t.currency, 'en-US')} is above the approval threshold ${formatMoney(limit, t.currency, 'en-US')}`,
        );
      }
    }
  }
  const lead = ranked[0];
  if (customer.strategic && lead && TONE_RANK[lead.occurrence.step.tone] >= TONE_RANK.firm) {
    reasons.add(`${customer.name} is a strategic account and this message is ${lead.occurrence.step.tone}`);
  }
  return [...reasons];
}

function reasonSentence(
  ranked: Candidate[],
  listedCount: number,
  invoicePred: Map<string, InvoicePrediction>,
  slowing: boolean,
): string {
  const [lead, ...others] = ranked;
  if (!lead) return '';
  const parts = [
    `Invoice ${lead.invoice.number} ${dueText(lead.daysFromDue)}`,
    describeStep(lead.occurrence, lead.sequence),
  ];
  const pred = invoicePred.get(lead.invoice.id);
  if (pred?.predictedPayDate) {
    const late = diffDays(pred.predictedPayDate, lead.invoice.dueDate);
    parts.push(
      late > 0
        ? `model predicts payment ${late} days late (${pred.riskBand} risk)`
        : `model predicts on-time payment (${pred.riskBand} risk)`,
    );
  }
  if (slowing) parts.push('customer has been paying more slowly lately');
  if (others.length > 0)
    parts.push(
      `also due: ${others.map((o) => `${o.invoice.number} (${o.occurrence.step.tone})`).join(', ')}`,
    );
  const extra = listedCount - ranked.length;
  if (extra > 0) parts.push(`${extra} more overdue invoice${extra === 1 ? '' : 's'} listed`);
  return parts.join('; ');
}

function describeStep(o: StepOccurrence, seq: Sequence): string {
  const step = `step ${o.stepIndex + 1} of '${seq.name}' (${o.step.tone})`;
  return o.repeat > 0 ? `repeat ${o.repeat} of ${step}` : step;
}

function dueText(daysFromDue: number): string {
  if (daysFromDue > 0) return `is ${daysFromDue} day${daysFromDue === 1 ? '' : 's'} overdue`;
  if (daysFromDue === 0) return 'is due today';
  return `is due in ${-daysFromDue} day${daysFromDue === -1 ? '' : 's'}`;
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

function bandFromScore(score: number): RiskBand {
  return score < 0.33 ? 'low' : score < 0.66 ? 'medium' : 'high';
}

/** Without a customer-level score, the customer is as risky as its riskiest scored invoice. */
function worstBand(invoices: PlannerInvoice[], preds: Map<string, InvoicePrediction>): RiskBand | null {
  const order: RiskBand[] = ['low', 'medium', 'high'];
  const ranks = invoices
    .map((i) => preds.get(i.id))
    .filter((p) => p !== undefined)
    .map((p) => order.indexOf(p.riskBand));
  return ranks.length > 0 ? (order[Math.max(...ranks)] ?? null) : null;
}

function totalsByCurrency(invoices: PlannerInvoice[]): { currency: string; openMinor: number }[] {
  const totals = new Map<string, number>();
  for (const inv of invoices)
    totals.set(inv.currency, (totals.get(inv.currency) ?? 0) + inv.openBalanceMinor);
  return [...totals].map(([currency, openMinor]) => ({ currency, openMinor }));
}

function isoDay(d: Date): IsoDate {
  return d.toISOString().slice(0, 10);
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

/** mulberry32 seeded from a string hash: a reproducible rng per message. */
function seededRng(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
