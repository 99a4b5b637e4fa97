/**
 * Reviewer and team actions on dunning: approvals, skips and edits of messages (dunning/approvals.ts), tasks and
 * their talking points (dunning/tasks.ts), bulk actions (dunning/bulk.ts). Callers own transactions.
 */
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../client';
import { dunningMessages, dunningTasks } from '../schema';

export type DunningMessage = typeof dunningMessages.$inferSelect;
export type DunningMessagePatch = Partial<typeof dunningMessages.$inferInsert>;
export type NewDunningTask = typeof dunningTasks.$inferInsert;

/** A message's status, creation and send time, or null when the tenant has no such message. */
export async function messageState(db: DbOrTx, tenantId: string, id: string) {
  const [row] = await db
    .select({
      status: dunningMessages.status,
      createdAt: dunningMessages.createdAt,
      sendAt: dunningMessages.sendAt,
    })
    .from(dunningMessages)
    .where(and(eq(dunningMessages.id, id), eq(dunningMessages.tenantId, tenantId)));
  return row ?? null;
}

export async function messageById(db: DbOrTx, id: string): Promise<DunningMessage | undefined> {
  const [full] = await db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  return full;
}

/** Applies a decision to a message still awaiting approval; the updated row, or null when someone decided first. */
export async function decideAwaitingApproval(
  db: DbOrTx,
  id: string,
  patch: DunningMessagePatch,
): Promise<DunningMessage | null> {
  const [updated] = await db
    .update(dunningMessages)
    .set(patch)
    .where(and(eq(dunningMessages.id, id), eq(dunningMessages.status, 'awaiting_approval')))
    .returning();
  return updated ?? null;
}

/**
 * Skips a message not yet sent (planned, awaiting approval or queued) and with no attempt in doubt (one that may
 * have reached the provider is resolved by the send path); the updated row, or null.
 */
export async function skipUndecidedMessage(
  db: DbOrTx,
  tenantId: string,
  id: string,
  patch: DunningMessagePatch,
): Promise<DunningMessage | null> {
  const [updated] = await db
    .update(dunningMessages)
    .set(patch)
    .where(
      and(
        eq(dunningMessages.id, id),
        eq(dunningMessages.tenantId, tenantId),
        inArray(dunningMessages.status, ['planned', 'awaiting_approval', 'queued']),
        // An attempt that may have reached the provider is not "skipped": the send path resolves it.
        isNull(dunningMessages.inDoubtSince),
      ),
    )
    .returning();
  return updated ?? null;
}

/** Edits a message not yet sent and with no attempt in doubt (then the body is fixed); the row, or null. */
export async function editUnsentMessage(
  db: DbOrTx,
  id: string,
  patch: DunningMessagePatch,
): Promise<DunningMessage | null> {
  const [updated] = await db
    .update(dunningMessages)
    .set(patch)
    .where(
      and(
        eq(dunningMessages.id, id),
        inArray(dunningMessages.status, ['planned', 'awaiting_approval', 'queued']),
        // Once an attempt may have reached the provider the body is fixed (same key, same bytes).
        isNull(dunningMessages.inDoubtSince),
      ),
    )
    .returning();
  return updated ?? null;
}

/** What a task's talking points are drawn from: open items, predictions, risk, last contacts, payment history. */
export async function talkingPointRows(db: DbOrTx, tenantId: string, customerId: string, today: string) {
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
  return { open, preds, risk, contacts, hist };
}

/** Inserts a task unless one with its dedupe key is open; its id, or null. */
export async function insertTaskIfNew(db: DbOrTx, values: NewDunningTask): Promise<string | null> {
  const [row] = await db
    .insert(dunningTasks)
    .values(values)
    .onConflictDoNothing()
    .returning({ id: dunningTasks.id });
  return row?.id ?? null;
}

/** Marks an open task done and frees its dedupe key (suffixed); whether it was open. */
export async function completeOpenTask(
  db: DbOrTx,
  tenantId: string,
  taskId: string,
  done: { by: string; note: string | null; now: Date },
): Promise<boolean> {
  const rows = await db
    .update(dunningTasks)
    .set({
      status: 'done',
      doneBy: done.by,
      doneAt: done.now,
      note: done.note,
      dedupeKey: sql`${dunningTasks.dedupeKey} || ':done:' || ${dunningTasks.id}`,
    })
    .where(
      and(eq(dunningTasks.id, taskId), eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.status, 'open')),
    )
    .returning({ id: dunningTasks.id });
  return rows.length > 0;
}
