import { CATCH_UP_LABEL } from './approval';
import { diffDays, type IsoDate } from './local-time';
import type { Sequence } from './policy';
import type { StepOccurrence } from './step-schedule';

/** "is 14 days overdue" / "is due today" / "is due in 3 days". */
export function dueText(daysFromDue: number): string {
  if (daysFromDue > 0) return `is ${daysFromDue} day${daysFromDue === 1 ? '' : 's'} overdue`;
  if (daysFromDue === 0) return 'is due today';
  return `is due in ${-daysFromDue} day${daysFromDue === -1 ? '' : 's'}`;
}

/** "step 2 of 'Standard' (neutral)", or "repeat 1 of step 4 of 'Reliable' (firm)". Steps count from 1 for people. */
export function describeStep(o: StepOccurrence, seq: Sequence): string {
  const step = `step ${o.stepIndex + 1} of '${seq.name}' (${o.step.tone})`;
  return o.repeat > 0 ? `repeat ${o.repeat} of ${step}` : step;
}

/**
 * A catch-up statement's place in its sequence: the first contact, not "step 2 of 'High risk'" (its step key is
 * the step the debt had reached, which read to a controller as if a first reminder had gone out before).
 */
export function describeCatchUpStep(o: Pick<StepOccurrence, 'step'>, seq: Pick<Sequence, 'name'>): string {
  return `first contact in sequence '${seq.name}' (${o.step.tone})`;
}

/** A catch-up reason stored before describeCatchUpStep still names the step: read it as the first contact. */
const STORED_STEP = /^(?:repeat \d+ of )?step \d+ of '(.*)' \((\w+)\)$/;

/**
 * A message's "why" sentences with their day counts left open: the counts are the debtor's, on the day the email is
 * rendered (its send date, or a later day when it waited: send-message.ts renderAsOf), so the reason a finance
 * reader sees never contradicts the email. Stored in the snapshot (`reasonParts`) so a message rendered again for a
 * later day gets its reason again for that day (reasonsAsOf).
 */
export interface ReasonParts {
  /** First contact with old debt (a statement of account). */
  catchUp: boolean;
  /** The customer as the catch-up approval names it. */
  customer: string;
  /** The invoice the message leads with: its name in the reason and its due date. */
  lead: { name: string; dueDate: IsoDate };
  /** What follows the lead's due phrase, day-free: the step, the model's forecast, the other stepped invoices. */
  rest: string[];
  /** Due dates of the listed invoices without a step of their own (counted as overdue or not yet on the day). */
  unstepped: IsoDate[];
  /** Due date of the oldest listed invoice (the catch-up approval counts its days overdue). */
  oldestDue: IsoDate;
}

/** "Invoice 1042 is 15 days overdue; step 2 of 'Standard' (neutral); …" as of `day` (the debtor's date). */
export function reasonText(p: ReasonParts, day: IsoDate): string {
  const rest = p.catchUp
    ? p.rest.map((r) => r.replace(STORED_STEP, "first contact in sequence '$1' ($2)"))
    : p.rest;
  const parts = [`Invoice ${p.lead.name} ${dueText(diffDays(day, p.lead.dueDate))}`, ...rest];
  const overdue = p.unstepped.filter((d) => d < day).length;
  const notYet = p.unstepped.length - overdue;
  const s = (n: number) => (n === 1 ? '' : 's');
  if (overdue > 0 && notYet > 0)
    parts.push(`${overdue} more overdue invoice${s(overdue)} and ${notYet} not yet overdue listed`);
  else if (overdue > 0) parts.push(`${overdue} more overdue invoice${s(overdue)} listed`);
  else if (notYet > 0) parts.push(`${notYet} more invoice${s(notYet)} listed, not yet overdue`);
  return `${p.catchUp ? 'Catch-up (first contact, statement of account): ' : ''}${parts.join('; ')}`;
}

/** The catch-up approval reason as of `day`: the oldest invoice's days overdue then. */
export function catchUpApproval(p: Pick<ReasonParts, 'customer' | 'oldestDue'>, day: IsoDate): string {
  return `catch-up: first message to ${p.customer}, whose oldest invoice is ${diffDays(day, p.oldestDue)} days overdue; sent as a statement of account`;
}

/**
 * A message's reason and approval reason as of `day` (the debtor's date its email is rendered for): written again
 * from its snapshot's parts when it has them (messages planned before them keep what was stored). The catch-up
 * approval leads the approval reasons (planner), so only that lead is rewritten.
 */
export function reasonsAsOf(
  m: { reason: string; approvalReason: string | null; snapshot: unknown },
  day: IsoDate,
): { reason: string; approvalReason: string | null } {
  const snap = m.snapshot as { reasonParts?: ReasonParts; sendDate?: IsoDate } | null;
  const p = snap?.reasonParts;
  if (!p || !snap?.sendDate) return { reason: m.reason, approvalReason: m.approvalReason };
  let approvalReason = m.approvalReason;
  const planned = catchUpApproval(p, snap.sendDate);
  if (p.catchUp && approvalReason?.startsWith(planned))
    approvalReason = catchUpApproval(p, day) + storedCatchUpRules(approvalReason.slice(planned.length));
  return { reason: reasonText(p, day), approvalReason };
}

/**
 * A catch-up's step-rule reasons stored before they named the catch-up (approval.ts CATCH_UP_LABEL): "step 4 of
 * 'High risk' always needs approval", "high-risk customer", "a final notice …", read as what is sent.
 */
function storedCatchUpRules(rest: string): string {
  return rest
    .replace(
      /; (?:repeat \d+ of )?step \d+ of '.*?' always needs approval(?=;|$)/g,
      `; ${CATCH_UP_LABEL} always needs approval`,
    )
    .replace(/; high-risk customer(?=;|$)/g, `; ${CATCH_UP_LABEL} for a high-risk customer needs approval`)
    .replace(/; a final notice always needs approval(?=;|$)/g, '')
    .replace(
      / is a strategic account and this message is (firm|final)(?=;|$)/g,
      ` is a strategic account and this ${CATCH_UP_LABEL} stands in for a $1 reminder`,
    );
}
