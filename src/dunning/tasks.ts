/**
 * The call list: where automation hands over to a person (a bounced address, no contact, a final notice that
 * went unanswered). Each task carries talking points gathered when it opened: open items, the model's view and
 * its reasons, and the last contacts.
 */
import type { DbOrTx } from '../db/client';
import { completeOpenTask, insertTaskIfNew, talkingPointRows } from '../db/queries/dunning-admin';
import type { DunningTaskKind } from '../db/schema/dunning';

export interface TalkingPoints {
  openItems: { number: string; dueDate: string; daysOverdue: number; openMinor: number; currency: string }[];
  predictions: {
    number: string;
    pLate: number;
    predictedPayDate: string;
    riskBand: string;
    reasons: string[];
    /** Days past due when the task opened; once overdue, the collection chances are the figures that matter. */
    daysOverdue: number;
    pCollect30: number | null;
    pCollect90: number | null;
  }[];
  customerRisk: { score: number; slowingAlert: boolean; message: string | null } | null;
  lastContacts: {
    at: string;
    tone: string | null;
    status: string;
    deliveryStatus: string | null;
    reason: string;
  }[];
  history: { paidInvoices: number; avgDaysLate: number | null };
  [extra: string]: unknown;
}

export async function talkingPoints(
  db: DbOrTx,
  tenantId: string,
  customerId: string,
  today: string,
): Promise<TalkingPoints> {
  const { open, preds, risk, contacts, hist } = await talkingPointRows(db, tenantId, customerId, today);
  return {
    openItems: open.map((o) => ({
      number: o.number,
      dueDate: o.due_date,
      daysOverdue: Number(o.days),
      openMinor: Number(o.balance_minor),
      currency: o.currency,
    })),
    predictions: preds.map((p) => ({
      number: p.number,
      pLate: p.p_late,
      predictedPayDate: p.predicted_pay_date,
      riskBand: p.risk_band,
      reasons: p.reasons,
      daysOverdue: Number(p.days),
      pCollect30: p.p_collect30,
      pCollect90: p.p_collect90,
    })),
    customerRisk: risk
      ? { score: risk.score, slowingAlert: risk.slowing_alert, message: risk.message }
      : null,
    lastContacts: contacts.map((c) => ({
      at: new Date(c.at).toISOString(),
      tone: c.tone,
      status: c.status,
      deliveryStatus: c.delivery_status,
      reason: c.reason,
    })),
    history: {
      paidInvoices: hist?.n ?? 0,
      avgDaysLate:
        hist?.avg_late === null || hist?.avg_late === undefined ? null : Math.round(hist.avg_late * 10) / 10,
    },
  };
}

/** Opens a task unless one with the same dedupe key is open (a retried webhook, a re-run planner). */
export async function openTask(
  db: DbOrTx,
  t: {
    tenantId: string;
    customerId: string;
    kind: DunningTaskKind;
    title: string;
    invoiceIds: string[];
    messageId?: string | null;
    dedupeKey: string;
    /** The tenant's calendar day (clock), for days overdue; also the default due day. */
    today: string;
    dueOn?: string | null;
    extra?: Record<string, unknown>;
  },
): Promise<string | null> {
  const points = await talkingPoints(db, t.tenantId, t.customerId, t.today);
  return insertTaskIfNew(db, {
    tenantId: t.tenantId,
    customerId: t.customerId,
    kind: t.kind,
    title: t.title,
    invoiceIds: t.invoiceIds,
    talkingPoints: { ...points, ...t.extra },
    messageId: t.messageId ?? null,
    dedupeKey: t.dedupeKey,
    dueOn: t.dueOn ?? t.today,
  });
}

/** Done: frees the dedupe key (suffixing it) so the same situation arising again opens a new task. */
export async function completeTask(
  db: DbOrTx,
  tenantId: string,
  taskId: string,
  by: string,
  note: string | null,
  now: Date,
): Promise<boolean> {
  return completeOpenTask(db, tenantId, taskId, { by, note, now });
}
