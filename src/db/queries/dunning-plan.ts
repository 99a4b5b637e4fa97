/**
 * The planner's statements (dunning/engine.ts, planner-input.ts, dunning-config.ts, go-live.ts, step-preview.ts):
 * what it reads to plan and what it writes. engine.ts owns the transaction and takes the plan lock first.
 */
import { and, desc, eq, inArray, isNotNull, isNull, ne, or, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf, type Tx } from '../client';
import {
  contactSuppressions,
  customerRisk,
  customers,
  disputes,
  dunningMessageSteps,
  dunningMessages,
  dunningOverrides,
  dunningPolicies,
  invoicePredictions,
  invoices,
  promisesToPay,
} from '../schema';
import { uuidArray } from '../sql-arrays';
import { RELEASED_ID_PREFIX } from './csv-import';

/** The tenant's latest stored dunning policy version, or null (the defaults apply). */
export async function latestDunningPolicy(db: DbOrTx, tenantId: string) {
  const [row] = await db
    .select()
    .from(dunningPolicies)
    .where(eq(dunningPolicies.tenantId, tenantId))
    .orderBy(desc(dunningPolicies.version))
    .limit(1);
  return row ?? null;
}

/** Reminders planned (sending off) and awaiting approval. */
export async function reminderCounts(db: DbOrTx, tenantId: string) {
  const [counts] = rowsOf<{ planned: number; awaiting: number }>(
    await db.execute(sql`
      select count(*) filter (where status = 'planned')::int as planned,
             count(*) filter (where status = 'awaiting_approval')::int as awaiting
      from dunning_messages where tenant_id = ${tenantId}::uuid and kind = 'reminder'`),
  );
  return counts;
}

/** Open "find a contact" tasks: customers owed money that no reminder can reach (no email address). */
export async function openContactTasks(db: DbOrTx, tenantId: string): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await db.execute(sql`
      select count(*)::int as n from dunning_tasks
      where tenant_id = ${tenantId}::uuid and kind = 'find_contact' and status = 'open'`),
  );
  return row?.n ?? 0;
}

/** The ids of the open invoices with a balance due by `horizon` (a date) that have no pay link stored. */
export async function openInvoiceIdsWithoutPayLink(db: DbOrTx, tenantId: string, horizon: string) {
  return rowsOf<{ id: string }>(
    await db.execute(sql`
      select id from invoices
      where tenant_id = ${tenantId}::uuid and status = 'open' and balance_minor > 0
        and due_date <= ${horizon}::date and coalesce(pay_link, '') = ''`),
  ).map((r) => r.id);
}

/** An invoice of the tenant with its customer, or null. */
export async function invoiceWithCustomer(db: DbOrTx, tenantId: string, invoiceId: string) {
  const [row] = await db
    .select({ invoice: invoices, customer: customers })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .where(and(eq(invoices.id, invoiceId), eq(invoices.tenantId, tenantId)));
  return row ?? null;
}

export type DunningMessage = typeof dunningMessages.$inferSelect;
export type NewDunningMessage = typeof dunningMessages.$inferInsert;
export type NewDunningMessageStep = typeof dunningMessageSteps.$inferInsert;

/** Reminders not yet handed to the provider. */
export const PENDING = ['planned', 'awaiting_approval', 'queued'] as const;

/** Open invoices without a pay link listed by these messages (at most 200). */
/** Every pending message's invoice ids and snapshot (what it lists), for reading the pay links it will show. */
export async function pendingMessageInvoiceLists(db: DbOrTx, tenantId: string) {
  return db
    .select({ invoiceIds: dunningMessages.invoiceIds, snapshot: dunningMessages.snapshot })
    .from(dunningMessages)
    .where(and(eq(dunningMessages.tenantId, tenantId), inArray(dunningMessages.status, [...PENDING])));
}

/**
 * The tenant's pending reminders (id, customer, invoices) the planner may withdraw for a hold. One with an attempt
 * in doubt is not among them: it may have been delivered, so the send path resolves it under its own key
 * ('unconfirmed' when a hold now stops it), never "will not be sent" and re-planned under a key Resend forgot.
 */
export async function pendingReminders(tx: Tx, tenantId: string) {
  return tx
    .select({
      id: dunningMessages.id,
      customerId: dunningMessages.customerId,
      invoiceIds: dunningMessages.invoiceIds,
      snapshot: dunningMessages.snapshot,
    })
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.kind, 'reminder'),
        inArray(dunningMessages.status, [...PENDING]),
        isNull(dunningMessages.inDoubtSince),
      ),
    );
}

/**
 * A pending message is skipped with a hold's code and reason (a no-op once it left the pending states or went in
 * doubt, e.g. a send claimed it after the planner read it). Whether it was skipped: only then are its steps free.
 */
export async function skipPendingMessage(
  tx: Tx,
  id: string,
  hold: { code: string; reason: string },
  now: Date,
): Promise<boolean> {
  const skipped = await tx
    .update(dunningMessages)
    .set({
      status: 'skipped',
      statusCode: hold.code,
      statusReason: `Will not be sent: ${hold.reason}`,
      updatedAt: now,
    })
    .where(
      and(
        eq(dunningMessages.id, id),
        inArray(dunningMessages.status, [...PENDING]),
        isNull(dunningMessages.inDoubtSince),
      ),
    )
    .returning({ id: dunningMessages.id });
  return skipped.length > 0;
}

/** Releases a message's steps (the planner may plan those invoice steps again). */
export async function releaseSteps(tx: Tx, messageId: string): Promise<void> {
  await tx.delete(dunningMessageSteps).where(eq(dunningMessageSteps.messageId, messageId));
}

/** Releases the steps of several messages. */
export async function releaseStepsOf(tx: Tx, messageIds: string[]): Promise<void> {
  await tx.delete(dunningMessageSteps).where(inArray(dunningMessageSteps.messageId, messageIds));
}

/**
 * The step key of a statement of account a person asked for (dunning/planner.ts REQUESTED_STATEMENT_STEP): the
 * planner never makes one, so it is not taken back to be re-planned; it waits, unqueued, like a receipt.
 */
const REQUESTED_STATEMENT = 'statement:requested';

/**
 * Deletes the tenant's pending reminders (their steps go by cascade); the deleted rows. Not one with an attempt in
 * doubt: it may have been delivered (deleted, its steps would be planned again and sent a second time once Resend
 * forgot the key); its send job resolves it, 'unconfirmed' while sending is off.
 */
export async function deletePendingReminders(
  tx: Tx,
  tenantId: string,
  /**
   * Only the reminders to these customers or listing their invoices (a job billed with its parent is chased in the
   * parent's messages); all of the tenant's when absent.
   */
  customerIds?: readonly string[],
): Promise<DunningMessage[]> {
  const ofCustomers = customerIds
    ? [
        or(
          inArray(dunningMessages.customerId, [...customerIds]),
          sql`exists (select 1 from invoices i where i.id = any(${dunningMessages.invoiceIds})
                and i.customer_id = any(${uuidArray(customerIds)}))`,
        ),
      ]
    : [];
  return tx
    .delete(dunningMessages)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.kind, 'reminder'),
        inArray(dunningMessages.status, [...PENDING]),
        ne(dunningMessages.stepKey, REQUESTED_STATEMENT),
        isNull(dunningMessages.inDoubtSince),
        ...ofCustomers,
      ),
    )
    .returning();
}

/**
 * A queued message taken back to planned (sending off or paused): what its send said of it (held for an upload, a
 * deferral, a connection to reconnect) no longer holds, as nothing is sent; its approval, if any, is what it says.
 * Before, a statement held for an upload (ledger_stale) stayed "waiting for an upload" in the lists until sending
 * resumed.
 */
const BACK_TO_PLANNED = {
  status: 'planned' as const,
  statusCode: sql<string | null>`case when ${dunningMessages.decidedAt} is not null then 'approved' end`,
  statusReason: sql<
    string | null
  >`case when ${dunningMessages.decidedAt} is not null then 'Approved by ' || coalesce(${dunningMessages.decidedBy}, 'a reviewer') end`,
};

/** Queued statements someone asked for go back to planned, keeping their approval (sending off or paused). */
export async function unqueueRequestedStatements(tx: Tx, tenantId: string): Promise<void> {
  await tx
    .update(dunningMessages)
    .set(BACK_TO_PLANNED)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.stepKey, REQUESTED_STATEMENT),
        eq(dunningMessages.status, 'queued'),
      ),
    );
}

/** Approved statements someone asked for, planned while sending was off, are queued (go-live, resume). */
export async function queueApprovedRequestedStatements(
  tx: Tx,
  tenantId: string,
  now: Date,
): Promise<{ id: string; sendAt: Date }[]> {
  return tx
    .update(dunningMessages)
    .set({ status: 'queued', updatedAt: now })
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.stepKey, REQUESTED_STATEMENT),
        eq(dunningMessages.status, 'planned'),
        isNotNull(dunningMessages.decidedAt),
      ),
    )
    .returning({ id: dunningMessages.id, sendAt: dunningMessages.sendAt });
}

/** Queued receipts go back to planned (sending off or paused). */
export async function unqueueReceipts(tx: Tx, tenantId: string): Promise<void> {
  await tx
    .update(dunningMessages)
    .set(BACK_TO_PLANNED)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.kind, 'receipt'),
        eq(dunningMessages.status, 'queued'),
      ),
    );
}

/** Planned receipts are queued (sending resumed); their ids. */
export async function queuePlannedReceipts(tx: Tx, tenantId: string, now: Date): Promise<{ id: string }[]> {
  return tx
    .update(dunningMessages)
    .set({ status: 'queued', updatedAt: now })
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.kind, 'receipt'),
        eq(dunningMessages.status, 'planned'),
      ),
    )
    .returning({ id: dunningMessages.id });
}

/** How many connections the tenant has, and how many of them are disconnected. */
export async function connectionCounts(
  tx: Tx,
  tenantId: string,
): Promise<{ n: number; off: number } | undefined> {
  const [r] = rowsOf<{ n: number; off: number }>(
    await tx.execute(sql`
      select count(*)::int as n, count(*) filter (where status = 'disconnected')::int as off
      from connections where tenant_id = ${tenantId}::uuid`),
  );
  return r;
}

/** The message's status, its row locked for the transaction; null when there is no such message. */
/** The message row, locked FOR UPDATE until the transaction ends (null when there is none). */
export async function lockMessage(tx: Tx, id: string): Promise<DunningMessage | null> {
  const [existing] = await tx.select().from(dunningMessages).where(eq(dunningMessages.id, id)).for('update');
  return existing ?? null;
}

export async function countMessageSteps(tx: Tx, messageId: string): Promise<number> {
  const [{ n } = { n: 0 }] = rowsOf<{ n: number }>(
    await tx.execute(
      sql`select count(*)::int as n from dunning_message_steps where message_id = ${messageId}`,
    ),
  );
  return n;
}

export async function insertDunningMessage(tx: Tx, values: NewDunningMessage): Promise<void> {
  await tx.insert(dunningMessages).values(values);
}

/** Inserts a message unless its id exists; whether it was inserted. */
export async function insertDunningMessageIfNew(tx: Tx, values: NewDunningMessage): Promise<boolean> {
  const inserted = await tx
    .insert(dunningMessages)
    .values(values)
    .onConflictDoNothing()
    .returning({ id: dunningMessages.id });
  return inserted.length > 0;
}

export async function updateDunningMessage(
  tx: Tx,
  id: string,
  patch: Partial<NewDunningMessage>,
): Promise<void> {
  await tx.update(dunningMessages).set(patch).where(eq(dunningMessages.id, id));
}

export async function deleteDunningMessage(tx: Tx, id: string): Promise<void> {
  await tx.delete(dunningMessages).where(eq(dunningMessages.id, id));
}

/** Inserts steps, skipping any (tenant, invoice, step) already held; how many were inserted. */
export async function insertMessageSteps(tx: Tx, rows: NewDunningMessageStep[]): Promise<number> {
  const steps = await tx
    .insert(dunningMessageSteps)
    .values(rows)
    .onConflictDoNothing()
    .returning({ invoiceId: dunningMessageSteps.invoiceId });
  return steps.length;
}

export async function openInvoiceIdsOfCustomer(tx: Tx, customerId: string): Promise<string[]> {
  return rowsOf<{ id: string }>(
    await tx.execute(
      sql`select id from invoices where customer_id = ${customerId}::uuid and status = 'open'`,
    ),
  ).map((r) => r.id);
}

/**
 * Pending reminders whose invoices are all settled are skipped ('paid') with the invoices named; those with some
 * invoices settled are skipped to be re-planned with the rest. Attempts in doubt are left alone. Waits on the row
 * lock a send attempt holds. Returns both sets of ids.
 */
export async function cancelSettledReminders(
  tx: Tx,
  tenantId: string,
  now: Date,
): Promise<{ settled: string[]; partly: string[] }> {
  const rows = rowsOf<{ id: string; numbers: string }>(
    await tx.execute(sql`
      update dunning_messages m set status = 'skipped', status_code = 'paid',
        status_reason = 'Cancelled before sending: ' || (
          select string_agg('invoice ' || coalesce(i.number, i.external_id) || ' is '
                   || case when i.status = 'open' then 'settled' else i.status end, ', '
                   order by coalesce(i.number, i.external_id))
          from invoices i where i.id = any(m.invoice_ids)),
        updated_at = ${now.toISOString()}::timestamptz
      where m.tenant_id = ${tenantId}::uuid and m.kind = 'reminder'
        and m.status in ('planned','awaiting_approval','queued') and m.in_doubt_since is null
        and not exists (select 1 from invoices i where i.id = any(m.invoice_ids) and i.status = 'open' and i.balance_minor > 0)
      returning m.id, m.status_reason as numbers`),
  );
  const partly = rowsOf<{ id: string }>(
    await tx.execute(sql`
      update dunning_messages m set status = 'skipped', status_code = 'paid',
        status_reason = 'Cancelled before sending: ' || (
          select string_agg('invoice ' || coalesce(i.number, i.external_id) || ' is '
                   || case when i.status = 'open' then 'settled' else i.status end, ', '
                   order by coalesce(i.number, i.external_id))
          from invoices i where i.id = any(m.invoice_ids) and (i.status <> 'open' or i.balance_minor <= 0))
          || '; re-planned with the rest',
        updated_at = ${now.toISOString()}::timestamptz
      where m.tenant_id = ${tenantId}::uuid and m.kind = 'reminder'
        and m.status in ('planned','awaiting_approval','queued') and m.in_doubt_since is null
        and exists (select 1 from invoices i where i.id = any(m.invoice_ids) and (i.status <> 'open' or i.balance_minor <= 0))
      returning m.id`),
  );
  return { settled: rows.map((r) => r.id), partly: partly.map((p) => p.id) };
}

/**
 * Unsent payment receipts of the tenant all of whose invoices are deleted (a CSV company's file rows, released when it
 * connected its ledger): skipped, saying so, not left for their send to call the payment reversed ("no longer paid").
 * One with an attempt in doubt is left to its send job. Their ids.
 */
export async function cancelReceiptsOfDeletedInvoices(
  tx: Tx,
  tenantId: string,
  now: Date,
): Promise<string[]> {
  const rows = rowsOf<{ id: string }>(
    await tx.execute(sql`
      update dunning_messages m set status = 'skipped', status_code = 'void_or_deleted',
        status_reason = 'Cancelled before sending: ' || (
          select string_agg('invoice ' || coalesce(i.number, i.external_id) || ' is deleted', ', '
                   order by coalesce(i.number, i.external_id))
          from invoices i where i.id = any(m.invoice_ids)),
        updated_at = ${now.toISOString()}::timestamptz
      where m.tenant_id = ${tenantId}::uuid and m.kind = 'receipt'
        and m.status in ('planned','awaiting_approval','queued') and m.in_doubt_since is null
        and not exists (select 1 from invoices i where i.id = any(m.invoice_ids) and i.status <> 'deleted')
      returning m.id`),
  );
  return rows.map((r) => r.id);
}

/**
 * Messages awaiting approval since before `cutoff` are skipped ('approval_expired'); their ids. One with an attempt
 * in doubt is not (it may have been sent): see inDoubtAwaitingApprovalBefore.
 */
export async function expireApprovalsBefore(
  tx: Tx,
  tenantId: string,
  cutoff: Date,
  now: Date,
  reason: string,
): Promise<string[]> {
  const stale = await tx
    .update(dunningMessages)
    .set({
      status: 'skipped',
      statusCode: 'approval_expired',
      statusReason: reason,
      updatedAt: now,
    })
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.status, 'awaiting_approval'),
        sql`${dunningMessages.createdAt} < ${cutoff.toISOString()}::timestamptz`,
        isNull(dunningMessages.inDoubtSince),
      ),
    )
    .returning({ id: dunningMessages.id });
  return stale.map((s) => s.id);
}

/** Messages awaiting approval since before `cutoff` whose earlier attempt may have reached the provider, locked. */
export async function inDoubtAwaitingApprovalBefore(tx: Tx, tenantId: string, cutoff: Date) {
  return tx
    .select()
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.status, 'awaiting_approval'),
        sql`${dunningMessages.createdAt} < ${cutoff.toISOString()}::timestamptz`,
        isNotNull(dunningMessages.inDoubtSince),
      ),
    )
    .orderBy(dunningMessages.id)
    .for('update');
}

export interface ReceiptCandidate {
  invoice_id: string;
  customer_id: string;
  number: string;
  currency: string;
  total_minor: string | number;
  paid_date: string | null;
  emails: string[];
  timezone: string | null;
  last_pay_date: string | null;
  last_pay_amount: string | number | null;
  issue_date: string;
  due_date: string;
}

/** Paid invoices a sent reminder chased and that have no receipt step yet, with the payment that settled them. */
export async function receiptCandidates(
  tx: Tx,
  tenantId: string,
  receiptStep: string,
): Promise<ReceiptCandidate[]> {
  return rowsOf<ReceiptCandidate>(
    await tx.execute(sql`
      select i.id as invoice_id, i.customer_id, coalesce(i.number, i.external_id) as number, i.currency,
             i.total_minor, i.paid_date::text as paid_date, c.emails, c.timezone,
             last_pay.date::text as last_pay_date, last_pay.amount as last_pay_amount,
             i.issue_date::text as issue_date, i.due_date::text as due_date
      from invoices i join customers c on c.id = i.customer_id
      -- The payment that settled it: the allocations of the latest day (several installments are not all thanked
      -- for as one amount), counting money only: a credit memo or journal credit applied (credit_memo_id) is not
      -- a payment the debtor made, and a settlement by credit alone gets no "payment received" at all.
      left join lateral (
        select a.date, sum(a.amount_minor) filter (where a.credit_memo_id is null) as amount
        from payment_allocations a
        where a.invoice_id = i.id group by a.date order by a.date desc limit 1
      ) last_pay on true
      where i.tenant_id = ${tenantId}::uuid and i.status = 'paid'
        and (last_pay.date is null or last_pay.amount > 0)
        and exists (select 1 from dunning_message_steps s join dunning_messages m on m.id = s.message_id
                    where s.invoice_id = i.id and m.kind = 'reminder' and m.status = 'sent')
        and not exists (select 1 from dunning_message_steps s where s.invoice_id = i.id and s.step_key = ${receiptStep})
      order by i.id`),
  );
}

/** The recipients and customer of the latest sent message listing this invoice, or null. */
export async function lastSentRecipients(
  tx: Tx,
  tenantId: string,
  invoiceId: string,
): Promise<{ to: string[]; customerId: string } | null> {
  const [last] = await tx
    .select({ to: dunningMessages.to, customerId: dunningMessages.customerId })
    .from(dunningMessages)
    .where(
      and(
        eq(dunningMessages.tenantId, tenantId),
        eq(dunningMessages.status, 'sent'),
        sql`${invoiceId}::uuid = any(${dunningMessages.invoiceIds})`,
      ),
    )
    .orderBy(sql`${dunningMessages.sentAt} desc`)
    .limit(1);
  return last ?? null;
}

/** The tenant's contact suppressions (of these customers, when given). */
export async function suppressionRows(db: DbOrTx, tenantId: string, customerIds?: string[]) {
  return db
    .select()
    .from(contactSuppressions)
    .where(
      and(
        eq(contactSuppressions.tenantId, tenantId),
        customerIds ? inArray(contactSuppressions.customerId, customerIds) : undefined,
      ),
    );
}

/** Every bounced address of the tenant. */
export async function bouncedEmails(db: DbOrTx, tenantId: string) {
  return db
    .select({ email: contactSuppressions.email })
    .from(contactSuppressions)
    .where(and(eq(contactSuppressions.tenantId, tenantId), eq(contactSuppressions.kind, 'bounced')));
}

/**
 * The addresses a released CSV customer opted out with (unsubscribed, complained, provider-suppressed): a CSV company
 * that connected its ledger had its file's rows renamed `csv:<id>` (releaseImportedRows), so the ledger's customer —
 * most often the same debtor, the file an export of the same books — is another row, and an opt-out is recorded per
 * row. Its address is what still names the debtor: the opt-out holds for it (planner-input.loadSuppressions). An
 * opt-out from a reminder (its link, a complaint) holds for every address that reminder went to: it is recorded with
 * the first only, and whoever opted out may have read it at another (before, the ledger customer of the second address
 * was mailed again: tests/security/csv-release-optout.test.ts).
 */
export async function releasedOptOutEmails(db: DbOrTx, tenantId: string): Promise<string[]> {
  const rows = rowsOf<{ email: string }>(
    await db.execute(sql`
      select distinct lower(e.email) as email
      from contact_suppressions s
      join customers c on c.id = s.customer_id
      join tenants t on t.id = s.tenant_id
      left join dunning_messages m on m.id = s.message_id and m.tenant_id = s.tenant_id
      cross join lateral unnest(array[s.email] || coalesce(m."to", '{}'::text[])) e(email)
      where s.tenant_id = ${tenantId}::uuid and s.kind <> 'bounced' and e.email is not null
        and left(c.external_id, ${RELEASED_ID_PREFIX.length}) = ${RELEASED_ID_PREFIX} and t.source <> 'csv'`),
  );
  return rows.map((r) => r.email);
}

/** Open invoices with a balance. */
export async function openInvoicesWithBalance(db: DbOrTx, tenantId: string) {
  return db
    .select()
    .from(invoices)
    .where(
      and(eq(invoices.tenantId, tenantId), eq(invoices.status, 'open'), sql`${invoices.balanceMinor} > 0`),
    );
}

/**
 * Per customer: invoices paid, and how many of them were paid more than `lateDays` after their due date (the
 * history behind "you have always paid reliably"). Customers without a paid invoice are absent.
 */
export async function paidHistoryOf(
  db: DbOrTx,
  tenantId: string,
  lateDays: number,
): Promise<Map<string, { paid: number; late: number }>> {
  const rows = rowsOf<{ customer_id: string; paid: string | number; late: string | number }>(
    await db.execute(sql`
      select customer_id, count(*) as paid,
             count(*) filter (where paid_date > due_date + ${lateDays}::int) as late
      from invoices
      where tenant_id = ${tenantId}::uuid and status = 'paid'
      group by customer_id`),
  );
  return new Map(rows.map((r) => [r.customer_id, { paid: Number(r.paid), late: Number(r.late) }]));
}

/** Customers not deleted. */
export async function liveCustomers(db: DbOrTx, tenantId: string) {
  return db
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), isNull(customers.deletedAt)));
}

export async function overridesOf(db: DbOrTx, tenantId: string) {
  return db.select().from(dunningOverrides).where(eq(dunningOverrides.tenantId, tenantId));
}

export async function invoicePredictionsOf(db: DbOrTx, tenantId: string) {
  return db.select().from(invoicePredictions).where(eq(invoicePredictions.tenantId, tenantId));
}

export async function customerRiskOf(db: DbOrTx, tenantId: string) {
  return db.select().from(customerRisk).where(eq(customerRisk.tenantId, tenantId));
}

/** Every reminder step of the tenant with its message's status and time (sent, else planned). */
export async function reminderStepHistory(db: DbOrTx, tenantId: string) {
  return rowsOf<{
    customer_id: string;
    invoice_id: string;
    step_key: string;
    tone: string | null;
    status: string;
    at: string | Date;
  }>(
    await db.execute(sql`
      select s.customer_id, s.invoice_id, s.step_key, coalesce(s.tone, m.tone) as tone, m.status,
             coalesce(m.sent_at, m.send_at) as at
      from dunning_message_steps s join dunning_messages m on m.id = s.message_id
      where s.tenant_id = ${tenantId}::uuid and m.kind = 'reminder'`),
  );
}

/** Promises to pay not cancelled. */
export async function livePromises(db: DbOrTx, tenantId: string) {
  return db
    .select()
    .from(promisesToPay)
    .where(and(eq(promisesToPay.tenantId, tenantId), isNull(promisesToPay.cancelledAt)));
}

export async function disputesOf(db: DbOrTx, tenantId: string) {
  return db.select().from(disputes).where(eq(disputes.tenantId, tenantId));
}

/**
 * The latest 5,000 sent reminders with whether they were opened, clicked, or followed by a payment within
 * `paidAfterDays` (by the ledger's paid_date, in the debtor's zone, else `tenantTz`).
 */
export async function sentReminderEngagement(
  db: DbOrTx,
  tenantId: string,
  tenantTz: string,
  paidAfterDays: number,
) {
  return rowsOf<{
    customer_id: string;
    sent_at: string | Date;
    tz: string | null;
    opened: boolean;
    clicked: boolean;
    paid_after: boolean;
  }>(
    await db.execute(sql`
      select m.customer_id, m.sent_at, c.timezone as tz,
             exists (select 1 from dunning_message_events e where e.message_id = m.id and e.type in ('opened','clicked')) as opened,
             exists (select 1 from dunning_message_events e where e.message_id = m.id and e.type = 'clicked') as clicked,
             exists (
               select 1 from invoices i
               where i.id = any(m.invoice_ids) and i.paid_date is not null
                 and i.paid_date >= (m.sent_at at time zone coalesce(nullif(c.timezone, ''), ${tenantTz}))::date
                 and i.paid_date <= (m.sent_at at time zone coalesce(nullif(c.timezone, ''), ${tenantTz}))::date + ${paidAfterDays}::int
             ) as paid_after
      from dunning_messages m join customers c on c.id = m.customer_id
      where m.tenant_id = ${tenantId}::uuid and m.status = 'sent' and m.sent_at is not null and m.kind = 'reminder'
      order by m.sent_at desc limit 5000`),
  );
}
