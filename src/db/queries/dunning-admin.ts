/**
 * Reviewer and team actions on dunning: approvals, skips and edits of messages (dunning/approvals.ts), tasks and
 * their talking points (dunning/tasks.ts), bulk actions (dunning/bulk.ts). Callers own transactions.
 */
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf, type Tx } from '../client';
import {
  bulkActions,
  customers,
  type DunningMessageStatus,
  dunningMessages,
  dunningTasks,
  invoices,
  tenants,
} from '../schema';
import { PENDING } from './dunning-plan';

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
      decidedBy: dunningMessages.decidedBy,
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
        inArray(dunningMessages.status, [...PENDING]),
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
        inArray(dunningMessages.status, [...PENDING]),
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
    days: number;
    p_collect30: number | null;
    p_collect90: number | null;
  }>(
    // Open invoices only: a payment synced before the next scoring run leaves its invoice's prediction behind.
    await db.execute(sql`
      select coalesce(i.number, i.external_id) as number, p.p_late, p.predicted_pay_date::text as predicted_pay_date,
             p.risk_band, p.reasons, greatest(0, ${today}::date - i.due_date) as days, p.p_collect30, p.p_collect90
      from invoice_predictions p join invoices i on i.id = p.invoice_id
      where p.customer_id = ${customerId}::uuid and i.status = 'open' order by i.due_date limit 50`),
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

/**
 * The columns of a task marked done: who, when, the note, and its dedupe key freed by the suffix `:done:<task id>`
 * (so the same key can open a new task; taskOpenedUnder still finds the done one by that suffix).
 */
function doneTaskFields(done: { by: string; note: string | null; now: Date }) {
  return {
    status: 'done' as const,
    doneBy: done.by,
    doneAt: done.now,
    note: done.note,
    dedupeKey: sql`${dunningTasks.dedupeKey} || ':done:' || ${dunningTasks.id}`,
  };
}

/**
 * Whether a task was opened under this dedupe key and still stands for it: open, or marked done by a person (a done
 * task's key carries a suffix). A task Duely closed (superseded: its situation had gone) does not count, so the
 * same situation arising again opens a new task.
 */
export async function taskOpenedUnder(db: DbOrTx, tenantId: string, dedupeKey: string): Promise<boolean> {
  const [row] = await db
    .select({ id: dunningTasks.id })
    .from(dunningTasks)
    .where(
      and(
        eq(dunningTasks.tenantId, tenantId),
        sql`(${dunningTasks.dedupeKey} = ${dedupeKey} or (starts_with(${dunningTasks.dedupeKey}, ${`${dedupeKey}:done:`}) and ${dunningTasks.doneBy} is distinct from ${SUPERSEDED_BY}))`,
      ),
    )
    .limit(1);
  return row !== undefined;
}

/** The note on a task closed because its customer left the ledger. */
const DELETED_CUSTOMER_TASK_NOTE = 'Closed: the customer is no longer in the ledger';

/** Who a superseded task is done by. */
const SUPERSEDED_BY = 'duely';

/**
 * Open tasks whose dedupe key starts with `prefix`, except `keep` (null: none kept), are done (by Duely, with
 * `note`): a newer task about the same thing replaces them, or what they asked for no longer applies. Their keys
 * are freed as completeOpenTask frees them (doneTaskFields).
 */
export async function supersedeOpenTasks(
  db: DbOrTx,
  tenantId: string,
  prefix: string,
  keep: string | null,
  done: { note: string; now: Date },
): Promise<void> {
  await db
    .update(dunningTasks)
    .set(doneTaskFields({ by: SUPERSEDED_BY, note: done.note, now: done.now }))
    .where(
      and(
        eq(dunningTasks.tenantId, tenantId),
        eq(dunningTasks.status, 'open'),
        sql`starts_with(${dunningTasks.dedupeKey}, ${prefix})`,
        keep === null ? undefined : sql`${dunningTasks.dedupeKey} <> ${keep}`,
      ),
    );
}

/**
 * Open tasks (any kind: a call hand-off, a bounce or opt-out to review, a contact to find) about customers gone from the
 * ledger — deleted there, or a CSV company's file rows released when it connected its ledger — that have no open
 * invoice left: done by Duely, noting that the customer is no longer in the ledger. The debtor is no longer one of
 * the company's (the ledger's own customer, if the same debtor, gets tasks of its own). Their ids.
 */
export async function closeTasksOfDeletedCustomers(
  db: DbOrTx,
  tenantId: string,
  now: Date,
): Promise<string[]> {
  const rows = await db
    .update(dunningTasks)
    .set(doneTaskFields({ by: SUPERSEDED_BY, note: DELETED_CUSTOMER_TASK_NOTE, now }))
    .where(
      and(
        eq(dunningTasks.tenantId, tenantId),
        eq(dunningTasks.status, 'open'),
        sql`exists (select 1 from ${customers} c where c.id = ${dunningTasks.customerId}
          and c.deleted_at is not null)`,
        sql`not exists (select 1 from ${invoices} i where i.customer_id = ${dunningTasks.customerId}
          and i.status = 'open')`,
      ),
    )
    .returning({ id: dunningTasks.id });
  return rows.map((r) => r.id);
}

/** The customers with an open task whose dedupe key starts with `prefix`. */
export async function customersWithOpenTasks(
  db: DbOrTx,
  tenantId: string,
  prefix: string,
): Promise<string[]> {
  const rows = await db
    .selectDistinct({ customerId: dunningTasks.customerId })
    .from(dunningTasks)
    .where(
      and(
        eq(dunningTasks.tenantId, tenantId),
        eq(dunningTasks.status, 'open'),
        sql`starts_with(${dunningTasks.dedupeKey}, ${prefix})`,
      ),
    );
  return rows.map((r) => r.customerId);
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
    .set(doneTaskFields(done))
    .where(
      and(eq(dunningTasks.id, taskId), eq(dunningTasks.tenantId, tenantId), eq(dunningTasks.status, 'open')),
    )
    .returning({ id: dunningTasks.id });
  return rows.length > 0;
}

const uuidArray = (ids: string[]) => `{${ids.join(',')}}`;
const textArray = (ids: string[]) => `{${ids.map((i) => `"${i.replace(/["\\]/g, '')}"`).join(',')}}`;

/** Records a bulk action (who, what, how many applied, why the rest not); its id. */
export async function insertBulkAction(tx: Tx, values: typeof bulkActions.$inferInsert): Promise<string> {
  const [row] = await tx.insert(bulkActions).values(values).returning({ id: bulkActions.id });
  return row!.id;
}

/**
 * The tenant's messages among `ids`, locked for the transaction. The bulk actions' locks are FOR NO KEY UPDATE, in
 * id order: they serialise whoever decides on the same rows, but not the plan or scoring run inserting rows that
 * reference them (a foreign key check takes KEY SHARE, which FOR UPDATE blocks: a bulk action over thousands of
 * rows deadlocked with the plan the previous click had queued; tests/lists/bulk-locks.test.ts).
 */
export async function lockMessagesOf(tx: Tx, tenantId: string, ids: string[]) {
  return rowsOf<{
    id: string;
    status: string;
    created_at: string | Date;
    in_doubt: boolean;
    decided: boolean;
    /** When it was last planned, edited or otherwise written (app clock). */
    changed_at: string | Date;
  }>(
    await tx.execute(sql`select id, status, created_at, in_doubt_since is not null as in_doubt,
        decided_by is not null as decided,
        greatest(created_at, updated_at, coalesce(edited_at, created_at)) as changed_at from dunning_messages
        where tenant_id = ${tenantId}::uuid and id = any(${textArray(ids)}::text[])
        order by id for no key update`),
  );
}

/**
 * Which transactions had committed when a list was read (pg_current_snapshot, as text): taken before the list's reads,
 * with its `listedAt`, so an approve by filter can tell a write the list could not have shown (writtenOutsideSnapshot).
 */
export async function currentSnapshot(db: DbOrTx): Promise<string> {
  const [r] = rowsOf<{ s: string }>(await db.execute(sql`select pg_current_snapshot()::text as s`));
  return r!.s;
}

/**
 * Of `ids`, the messages last written by a transaction `snapshot` did not see committed: one still open when the list
 * was read, or begun since. Its app-clock stamp (updated_at, edited_at) can predate the list's `listedAt` by as long
 * as that transaction ran (a plan, an edit committing just after the list's read), so the stamp alone cannot tell.
 * A row's xmin is a 32-bit xid: widened with the current epoch (one from the epoch before when it reads as later).
 */
export async function writtenOutsideSnapshot(tx: Tx, ids: string[], snapshot: string): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = rowsOf<{ id: string }>(
    await tx.execute(sql`with cur as (select pg_snapshot_xmax(pg_current_snapshot())::text::bigint as xmax),
        w as (select m.id, ((cur.xmax >> 32) << 32) | m.xmin::text::bigint as x
          from dunning_messages m, cur where m.id = any(${textArray(ids)}::text[]))
        select w.id from w, cur
        where not pg_visible_in_snapshot(
          (case when w.x > cur.xmax then w.x - 4294967296 else w.x end)::text::xid8, ${snapshot}::pg_snapshot)`),
  );
  return new Set(rows.map((r) => r.id));
}

/** Messages among `ids` still awaiting approval → queued (send time not before `at`); their ids and send times. */
export async function approveAwaitingMessages(
  tx: Tx,
  ids: string[],
  actor: string,
  at: string,
  status: 'queued' | 'planned',
) {
  return rowsOf<{ id: string; send_at: string | Date }>(
    await tx.execute(sql`update dunning_messages set status = ${status}, decided_by = ${actor},
            decided_at = ${at}::timestamptz, send_at = greatest(send_at, ${at}::timestamptz),
            status_code = 'approved', status_reason = ${`Approved by ${actor}`}, updated_at = ${at}::timestamptz
          where id = any(${textArray(ids)}::text[]) and status = 'awaiting_approval' returning id, send_at`),
  );
}

/**
 * Messages among `ids` not yet sent → skipped by `actor` with `reason`; their ids. One whose earlier attempt may have
 * reached the provider (in doubt) is not "skipped": its send job resolves it (as skipUndecidedMessage).
 */
export async function skipUnsentMessages(tx: Tx, ids: string[], actor: string, reason: string, at: string) {
  return rowsOf<{ id: string }>(
    await tx.execute(sql`update dunning_messages set status = 'skipped', decided_by = ${actor},
            decided_at = ${at}::timestamptz, status_code = 'approval_rejected', status_reason = ${reason},
            updated_at = ${at}::timestamptz
          where id = any(${textArray(ids)}::text[]) and status in ('planned','awaiting_approval','queued')
            and in_doubt_since is null returning id`),
  );
}

/** The tenant's customers among `ids`, locked (FOR NO KEY UPDATE in id order, as lockMessagesOf). */
export async function lockCustomersOf(tx: Tx, tenantId: string, ids: string[]) {
  return rowsOf<{ id: string }>(
    await tx.execute(sql`select id from customers where tenant_id = ${tenantId}::uuid
        and id = any(${uuidArray(ids)}::uuid[]) order by id for no key update`),
  );
}

/**
 * Upserts each customer's override, changing only `column` of an existing one: the pause (paused_until) or the
 * exclusion (excluded).
 */
export async function upsertCustomerOverrides(
  tx: Tx,
  tenantId: string,
  customerIds: string[],
  o: { paused: string | null; excluded: boolean; column: 'paused_until' | 'excluded'; now: string },
): Promise<void> {
  const set =
    o.column === 'paused_until'
      ? sql`paused_until = excluded.paused_until`
      : sql`excluded = excluded.excluded`;
  await tx.execute(sql`insert into dunning_overrides (tenant_id, customer_id, paused_until, excluded, updated_at)
        select ${tenantId}::uuid, c, ${o.paused}::date, ${o.excluded}, ${o.now}::timestamptz
        from unnest(${uuidArray(customerIds)}::uuid[]) as c
        on conflict (tenant_id, customer_id) where customer_id is not null
        do update set ${set}, updated_at = excluded.updated_at`);
}

/** The tenant's invoices among `ids` with whether each has an open dispute, locked (as lockMessagesOf). */
export async function lockInvoicesWithDisputeOf(tx: Tx, tenantId: string, ids: string[]) {
  return rowsOf<{ id: string; status: string; disputed: boolean | string }>(
    await tx.execute(sql`select i.id, i.status, exists (select 1 from disputes d where d.invoice_id = i.id
          and d.tenant_id = i.tenant_id and d.resolved_at is null) as disputed
        from invoices i where i.tenant_id = ${tenantId}::uuid and i.id = any(${uuidArray(ids)}::uuid[])
        order by i.id for no key update of i`),
  );
}

export async function openDisputes(
  tx: Tx,
  tenantId: string,
  invoiceIds: string[],
  d: { today: string; until: string | null; reason: string },
): Promise<void> {
  await tx.execute(sql`insert into disputes (tenant_id, invoice_id, opened_on, until, reason)
        select ${tenantId}::uuid, i, ${d.today}::date, ${d.until}::date, ${d.reason}
        from unnest(${uuidArray(invoiceIds)}::uuid[]) as i`);
}

export async function resolveDisputes(
  tx: Tx,
  tenantId: string,
  invoiceIds: string[],
  now: string,
): Promise<void> {
  await tx.execute(sql`update disputes set resolved_at = ${now}::timestamptz
        where tenant_id = ${tenantId}::uuid and invoice_id = any(${uuidArray(invoiceIds)}::uuid[]) and resolved_at is null`);
}

/** Customers (of these) with a statement of account not sent yet (planned, awaiting approval or queued). */
export async function customersWithPendingStatement(tx: Tx, tenantId: string, customerIds: string[]) {
  const rows = await tx
    .selectDistinct({ customerId: dunningMessages.customerId })
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        inArray(dunningMessages.customerId, customerIds),
        eq(dunningMessages.template, 'statement'),
        inArray(dunningMessages.status, [...PENDING]),
      ),
    );
  return new Set(rows.map((r) => r.customerId));
}

/** The tenant's latest messages (newest first), optionally of one status: `duely dunning list`. */
export async function latestMessagesOfTenant(
  db: DbOrTx,
  tenantId: string,
  status: DunningMessageStatus | undefined,
  limit: number,
) {
  return db
    .select()
    .from(dunningMessages)
    .where(
      and(eq(dunningMessages.tenantId, tenantId), status ? eq(dunningMessages.status, status) : undefined),
    )
    .orderBy(desc(dunningMessages.createdAt))
    .limit(limit);
}

/**
 * The tenant a message was written for (the public unsubscribe pages name its company) and how far its email got
 * (whether it may have reached the debtor).
 */
export async function tenantOfMessage(db: DbOrTx, messageId: string) {
  const [row] = await db
    .select({
      tenant: tenants,
      message: {
        status: dunningMessages.status,
        sentAt: dunningMessages.sentAt,
        attempts: dunningMessages.attempts,
        inDoubtSince: dunningMessages.inDoubtSince,
      },
    })
    .from(dunningMessages)
    .innerJoin(tenants, eq(tenants.id, dunningMessages.tenantId))
    .where(eq(dunningMessages.id, messageId));
  return row;
}
