/**
 * Shared pieces of the dunning pages (Sequences, Approvals, Messages): the API shapes they read, the sandboxed
 * email frame, and the "why this message, now" block.
 */

import type { DunningMessageView, RenderedEmailAnswer } from '../lib/contracts';
import { formatDate, formatMoney } from '../lib/format';

export type Tone = 'friendly' | 'neutral' | 'firm' | 'final';
export const TONES: Tone[] = ['friendly', 'neutral', 'firm', 'final'];

export type ApprovalRule =
  | { type: 'never' }
  | { type: 'always' }
  | { type: 'above_amount'; amountMinor?: number }
  | { type: 'high_risk' };

export interface Step {
  offsetDays: number;
  tone: Tone;
  channel: string;
  template: 'reminder' | 'statement';
  approval: ApprovalRule;
  onlyIfPredictedLate: boolean;
  /** The step's own subject/body with merge fields; absent = the built-in copy of its tone. */
  copy?: { subject?: string; body?: string };
}

export interface Sequence {
  id: string;
  name: string;
  steps: Step[];
  repeat?: { everyDays: number; maxRepeats: number };
}

export interface Policy {
  defaultSequenceId: string;
  sequences: Sequence[];
  rules: unknown[];
}

export interface DunningConfig {
  version: number;
  policy: Policy;
  settings: { timezone: string; approvalThresholdMinor: number; [k: string]: unknown };
}

export interface SnapshotInvoice {
  invoiceId: string;
  number: string;
  dueDate: string;
  daysOverdue: number;
  openBalanceMinor: number;
  currency: string;
}

export interface Snapshot {
  asOf?: string;
  /** The day the message is planned to go out; invoices' `daysOverdue` count to it. */
  sendDate?: string;
  plannedAt?: string;
  invoices?: SnapshotInvoice[];
  totals?: { currency: string; openMinor: number }[];
  previousReminders?: number;
  customerRisk?: { riskScore: number | null; riskBand: string | null; slowingAlert: boolean };
  sequence?: { id: string; name: string; selectedBy: string };
  /** Invoices the email names as on hold (disputed, paused, promised): not asked for, not in the totals. */
  held?: { number: string; hold: string }[];
  [k: string]: unknown;
}

export type MessageStatus =
  | 'planned'
  | 'awaiting_approval'
  | 'queued'
  | 'sending'
  | 'sent'
  | 'skipped'
  | 'failed'
  | 'unconfirmed';

/** A message as the log and approvals show it: the contract's view (GET …/dunning/messages), with the snapshot typed. */
export type DunningMessage = Pick<
  DunningMessageView,
  | 'id'
  | 'customerId'
  | 'kind'
  | 'to'
  | 'channel'
  | 'invoiceIds'
  | 'stepKey'
  | 'sequenceId'
  | 'tone'
  | 'template'
  | 'status'
  | 'sendAt'
  | 'sentAt'
  | 'requiresApproval'
  | 'approvalVersion'
  | 'editedSubject'
  | 'editedIntro'
  | 'subject'
  | 'statusCode'
  | 'providerId'
  | 'deliveryStatus'
  | 'error'
  | 'createdAt'
  | 'events'
> & { why: Omit<DunningMessageView['why'], 'snapshot'> & { snapshot: Snapshot } };

export type RenderedEmail = RenderedEmailAnswer;

export const messageStatusTone: Record<MessageStatus, string> = {
  planned: 'info',
  awaiting_approval: 'warn',
  queued: 'info',
  sending: 'info',
  sent: 'ok',
  skipped: 'muted',
  failed: 'bad',
  unconfirmed: 'warn',
};

/** 'planned' exists only while sending is off or paused: the message would go out once sending is on. */
export function messageStatusLabel(status: MessageStatus): string {
  return status === 'planned' ? 'would send' : status.replace(/_/g, ' ');
}

export function MessageBadge({ status }: { status: MessageStatus }) {
  return (
    <span className={`badge badge-${messageStatusTone[status] ?? 'muted'}`}>
      {messageStatusLabel(status)}
    </span>
  );
}

/** The open total of a message's snapshot, per currency ("$1,200.00 + €50.00"). */
export function messageTotal(m: DunningMessage): string {
  const totals = m.why.snapshot.totals ?? [];
  if (totals.length === 0) return '—';
  return totals.map((t) => formatMoney(t.openMinor, t.currency)).join(' + ');
}

export function messageInvoices(m: DunningMessage): string {
  const invs = m.why.snapshot.invoices ?? [];
  const listed = invs.length ? invs.map((i) => i.number).join(', ') : `${m.invoiceIds.length} invoice(s)`;
  const held = m.why.snapshot.held ?? [];
  return held.length
    ? `${listed} (named as on hold: ${held.map((h) => `${h.number} ${h.hold}`).join(', ')})`
    : listed;
}

/**
 * An email's HTML in a fully sandboxed frame: no scripts, no same-origin access, no forms or top navigation.
 * The email is untrusted content as far as the app is concerned.
 */
export function EmailFrame({ html, title, height = 520 }: { html: string; title: string; height?: number }) {
  return <iframe className="email-frame" sandbox="" srcDoc={html} title={title} style={{ height }} />;
}

/**
 * An invoice's days overdue as the snapshot counts them: to the send date (a reminder planned on Dec 6 for Dec 7 says
 * "1 day overdue" of an invoice due Dec 6), so the day is named; older snapshots have none.
 */
function overdueOn(days: number, sendDate: string | undefined): string {
  const count = `${days} ${days === 1 ? 'day' : 'days'} overdue`;
  return sendDate ? `${count} on ${formatDate(sendDate)}, the send date` : count;
}

/**
 * A message's place in its sequence in words: "step 2", "step 4, repeat 1", or "first contact (catch-up statement)"
 * for a catch-up, never the internal key ("standard:1:0" is `${sequenceId}:${stepIndex}:${repeat}`, step-schedule.ts).
 */
export function stepLabel(stepKey: string, catchUp: boolean | undefined): string {
  if (catchUp) return 'first contact (catch-up statement)';
  // The sequence id may itself hold ':', so the two counts are read from the end.
  const [index, repeat] = stepKey.split(':').slice(-2).map(Number);
  if (index === undefined || repeat === undefined || !Number.isInteger(index) || !Number.isInteger(repeat))
    return 'step';
  return repeat > 0 ? `step ${index + 1}, repeat ${repeat}` : `step ${index + 1}`;
}

const ORDINALS = [
  'first',
  'second',
  'third',
  'fourth',
  'fifth',
  'sixth',
  'seventh',
  'eighth',
  'ninth',
  'tenth',
];

/**
 * Why the customer is on this sequence, in words: the planner records 'override', 'rule 2' (the first of the
 * Sequences page's rules that fits the customer, counted from 1) or 'default'.
 */
export function sequenceChoice(selectedBy: string): string {
  if (selectedBy === 'override') return 'set for this customer';
  if (selectedBy === 'default') return 'the default sequence';
  const rule = /^rule (\d+)$/.exec(selectedBy);
  if (rule) {
    const n = Number(rule[1]);
    return `picked by the ${ORDINALS[n - 1] ?? `${n}th`} of the rules on Sequences that fits this customer`;
  }
  return selectedBy;
}

/** "Why this message, now": the planner's reason, the approval reason, and the snapshot it planned from. */
export function MessageWhy({ m }: { m: DunningMessage }) {
  const snap = m.why.snapshot;
  return (
    <dl className="facts why">
      <dt>Why</dt>
      <dd>{m.why.reason}</dd>
      {m.why.approvalReason ? (
        <>
          <dt>Needs approval</dt>
          <dd>{m.why.approvalReason}</dd>
        </>
      ) : null}
      {m.why.statusReason ? (
        <>
          <dt>Status note</dt>
          <dd>{m.why.statusReason}</dd>
        </>
      ) : null}
      {snap.sequence ? (
        <>
          <dt>Sequence</dt>
          <dd>
            {snap.sequence.name}{' '}
            <span className="muted small">({sequenceChoice(snap.sequence.selectedBy)})</span>,{' '}
            {stepLabel(m.stepKey, snap.catchUp === true)}
            {m.tone ? `, ${m.tone} tone` : ''}
          </dd>
        </>
      ) : null}
      {snap.invoices?.length ? (
        <>
          <dt>Invoices</dt>
          <dd>
            <ul className="plain">
              {snap.invoices.map((i) => (
                <li key={i.invoiceId}>
                  {i.number}: {formatMoney(i.openBalanceMinor, i.currency)} open, due {formatDate(i.dueDate)}
                  {i.daysOverdue > 0 ? ` (${overdueOn(i.daysOverdue, snap.sendDate)})` : ''}
                </li>
              ))}
            </ul>
          </dd>
        </>
      ) : null}
      {snap.customerRisk && (snap.customerRisk.riskBand || snap.customerRisk.slowingAlert) ? (
        <>
          <dt>Customer risk</dt>
          <dd>
            {snap.customerRisk.riskBand ?? '—'}
            {snap.customerRisk.slowingAlert ? ', slowing down' : ''}
          </dd>
        </>
      ) : null}
      {snap.asOf ? (
        <>
          <dt>Planned</dt>
          <dd>
            as of {formatDate(snap.asOf)}
            {typeof snap.previousReminders === 'number'
              ? snap.previousReminders === 0
                ? ', no earlier reminders'
                : `, ${snap.previousReminders} earlier reminder${snap.previousReminders === 1 ? '' : 's'}`
              : ''}
            {m.why.templateVersion ? `, template ${m.why.templateVersion}` : ''}
          </dd>
        </>
      ) : null}
    </dl>
  );
}
