/**
 * The call list: where automation hands over to a person (a bounced address, no contact, a final notice that
 * went unanswered). Each task carries talking points gathered when it opened: open items, the model's view and
 * its reasons, and the last contacts.
 */
import { and, eq, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../db/client';
import { dunningTasks } from '../db/schema';
import type { DunningTaskKind } from '../db/schema/dunning';

export interface TalkingPoints {
  openItems: { number: string; dueDate: string; daysOverdue: number; openMinor: number; currency: string }[];
  predictions: {
    number: string;
    pLate: number;
    predictedPayDate: string;
    riskBand: string;
    reasons: string[];
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
  const open = rowsOf<{
    number: string;
    due_date: string;
    days: number;
    balance_minor: string | number;
    currency: string;
  }>(
    await db.execute(sql`
      select coalesce(number, external_id) as number, due_date::text as due_date,
             greatest(0, ${today}::date - due_date) as days, balance_minor, currency
      from invoices where tenant_id = ${tenantId}::uuid and customer_id = ${customerId}::uuid and status = 'open'
      order by due_date limit 50`),
  );
  const preds = rowsOf<{
    number: string;
    p_late: number;
    predicted_pay_date: string;
    risk_band: string;
    reasons: string[];
  }>(
    await db.execute(sql`
      select coalesce(i.number, i.external_id) as number, p.p_late, p.predicted_pay_date::text as predicted_pay_date,
             p.risk_band, p.reasons
      from invoice_predictions p join invoices i on i.id = p.invoice_id
      where p.customer_id = ${customerId}::uuid order by i.due_date limit 50`),
  );
  const [risk] = rowsOf<{ score: number; slowing_alert: boolean; message: string | null }>(
    await db.execute(
      sql`select score, slowing_alert, message from customer_risk where customer_id = ${customerId}::uuid`,
    ),
  );
  const contacts = rowsOf<{
    at: string | Date;
    tone: string | null;
    status: string;
    delivery_status: string | null;
    reason: string;
  }>(
    await db.execute(sql`
      select coalesce(sent_at, send_at) as at, tone, status, delivery_status, reason from dunning_messages
      where customer_id = ${customerId}::uuid and status in ('sent','skipped','failed')
      order by coalesce(sent_at, send_at) desc limit 5`),
  );
  const [hist] = rowsOf<{ n: number; avg_late: number | null }>(
    await db.execute(sql`
      select count(*)::int as n, avg(paid_date - due_date)::float8 as avg_late from invoices
      where customer_id = ${customerId}::uuid and status = 'paid' and paid_date is not null`),
  );
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
  const [row] = await db
    .insert(dunningTasks)
    .values({
      tenantId: t.tenantId,
      customerId: t.customerId,
      kind: t.kind,
      title: t.title,
      invoiceIds: t.invoiceIds,
      talkingPoints: { ...points, ...t.extra },
      messageId: t.messageId ?? null,
      dedupeKey: t.dedupeKey,
      dueOn: t.dueOn ?? t.today,
    })
    .onConflictDoNothing()
    .returning({ id: dunningTasks.id });
  return row?.id ?? null;
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
  const rows = await db
    .update(dunningTasks)
    .set({
      status: 'done',
      doneBy: by,
      doneAt: now,
      note,
      dedupeKey: sql`${dunningTasks.dedupeKey} || ':done:' || ${dunningTasks.id}`,
    })
    .where(
      and(eq(dunningTasks.id, taskId), eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.status, 'open')),
    )
    .returning({ id: dunningTasks.id });
  return rows.length > 0;
}
