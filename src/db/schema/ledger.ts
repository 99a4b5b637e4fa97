import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import type { Delivery, EntityStatus, InvoiceStatus } from '../../../connectors/canonical';
import { createdAt, instant, money, updatedAt } from './columns';
import { tenants } from './tenants';

/** customers.tenant_id: the one ledger foreign key to tenants; deleting a tenant cascades from here. */
const tenantRef = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/**
 * The source's version of the row when it keeps one (a ledger's row version, e.g. a SyncToken), null otherwise (a
 * source without one, CSV, rows stored before it was kept, a row after a deletion). Between a stored and an incoming
 * version of one record the higher version wins whatever the (whole-second) source_updated_at says; without both,
 * the later source_updated_at wins (src/db/queries/ledger-write.ts).
 */
const sourceVersion = () => bigint('source_version', { mode: 'number' });

/**
 * tenant_id of the rows below customers, kept for tenant-scoped indexes and lookups but with no foreign key of its
 * own: each row hangs off a NOT NULL ON DELETE CASCADE parent chain to the tenant (invoices, payments and credit
 * memos → customers; allocations → invoices), so deleting a tenant removes them anyway, while a tenant key cost one
 * RI check (a FOR KEY SHARE lookup of the tenant row) per inserted row, a measured share of every sync (migration
 * 0017). Writers take tenant_id and the parent id from the same tenant (they resolve the parent by tenant_id).
 */
const tenantId = () => uuid('tenant_id').notNull();

export const customers = pgTable(
  'customers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantRef(),
    externalId: text('external_id').notNull(),
    name: text('name').notNull(),
    /** Billing addresses, primary first. */
    emails: text('emails').array().notNull().default(sql`'{}'::text[]`),
    /**
     * Addresses the ledger gave the customer before and no longer gives it (kept by the sync that saw them go): an
     * invoice's bill-to email that is one of them is a stale copy, not a routing (planner.recipientsOf).
     */
    formerEmails: text('former_emails').array().notNull().default(sql`'{}'::text[]`),
    timezone: text('timezone'),
    country: text('country'),
    locale: text('locale'),
    delivery: text('delivery').$type<Delivery>(),
    currency: text('currency'),
    /**
     * A sub-customer's parent by external id (a ledger's parent reference, e.g. ParentRef), resolved when reminders
     * are planned: the parent may be synced after its child.
     */
    parentExternalId: text('parent_external_id'),
    /** Billed through its parent (e.g. BillWithParent): reminders go to the parent's address. */
    billWithParent: boolean('bill_with_parent').notNull().default(false),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    firstSeen: date('first_seen', { mode: 'string' }),
    deletedAt: instant('deleted_at'),
    sourceUpdatedAt: instant('source_updated_at'),
    sourceVersion: sourceVersion(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('customers_tenant_external_uq').on(t.tenantId, t.externalId),
    // The lists sorted by customer name (keyset pages), in the collation they sort by (src/db/queries/lists.ts).
    index('customers_tenant_name_icu_idx').on(t.tenantId, sql`(${t.name} collate "und-x-icu")`, t.id),
  ],
);

export const invoices = pgTable(
  'invoices',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    number: text('number'),
    issueDate: date('issue_date', { mode: 'string' }).notNull(),
    dueDate: date('due_date', { mode: 'string' }).notNull(),
    currency: text('currency').notNull(),
    totalMinor: money('total_minor').notNull(),
    balanceMinor: money('balance_minor').notNull(),
    status: text('status').$type<InvoiceStatus>().notNull(),
    paidDate: date('paid_date', { mode: 'string' }),
    payLink: text('pay_link'),
    billEmail: text('bill_email'),
    delivery: text('delivery').$type<Delivery>(),
    sourceUpdatedAt: instant('source_updated_at'),
    sourceVersion: sourceVersion(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('invoices_tenant_external_uq').on(t.tenantId, t.externalId),
    // Dashboard aging / planner: open invoices of a tenant by due date.
    index('invoices_tenant_status_due_idx').on(t.tenantId, t.status, t.dueDate),
    // Analytics: credit sales and collection rates over a window of issue dates (DSO, CEI, collected-within-N).
    index('invoices_tenant_issue_idx').on(t.tenantId, t.issueDate),
    // The invoice list: keyset pages over every status by due date, balance or original amount.
    index('invoices_tenant_due_id_idx').on(t.tenantId, t.dueDate, t.id),
    index('invoices_tenant_balance_idx').on(t.tenantId, t.balanceMinor, t.id),
    index('invoices_tenant_total_idx').on(t.tenantId, t.totalMinor, t.id),
    // The customer list's open and overdue balances, a task's open balance, the customer page (a customer's
    // invoices, sorted after the lookup) and the customers → invoices cascade. The only index leading with
    // customer_id: a second one, (customer_id, issue_date), was in no product query's plan on a 100k-invoice tenant
    // and cost ~1–3 % of a PGlite sync's CPU (measured under load, near the noise); dropped in migration 0018.
    index('invoices_customer_status_idx').on(t.customerId, t.status, t.dueDate),
    check('invoices_status_ck', sql`${t.status} in ('open','paid','void','deleted')`),
    check('invoices_balance_ck', sql`${t.balanceMinor} >= 0`),
  ],
);

export const payments = pgTable(
  'payments',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    currency: text('currency').notNull(),
    amountMinor: money('amount_minor').notNull(),
    unappliedMinor: money('unapplied_minor').notNull().default(0),
    status: text('status').$type<EntityStatus>().notNull().default('active'),
    /**
     * What the payment's lines applied to journal entries' rows on the customer's A/R (credit_memos with
     * journal_entry_id), by the row's external_id, in minor units: a journal credit applied, or a journal debit (an
     * opening balance, a charge) paid. Null when no line links a journal entry (most payments). The ledger writer
     * derives what remains of each journal row from it.
     */
    journalApplied: jsonb('journal_applied').$type<Record<string, number>>(),
    sourceUpdatedAt: instant('source_updated_at'),
    sourceVersion: sourceVersion(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('payments_tenant_external_uq').on(t.tenantId, t.externalId),
    index('payments_customer_date_idx').on(t.customerId, t.date),
    // The journal rows' remaining recompute: a customer's payments linking journal entries. Partial: the few that do.
    index('payments_journal_idx').on(t.customerId).where(sql`${t.journalApplied} is not null`),
  ],
);

export const creditMemos = pgTable(
  'credit_memos',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    externalId: text('external_id').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    currency: text('currency').notNull(),
    totalMinor: money('total_minor').notNull(),
    remainingMinor: money('remaining_minor').notNull(),
    status: text('status').$type<EntityStatus>().notNull().default('active'),
    /**
     * Set when the row is not a credit memo but a journal entry's credit to Accounts Receivable for the customer
     * (one row per entry and customer): the entry's id at the source. Its remaining_minor is derived by the ledger
     * writer (total less the payment lines that applied it) when the source keeps none, or taken from the
     * source when remaining_at_source is set (a source stating what is unpaid or unused on each A/R line).
     */
    journalEntryId: text('journal_entry_id'),
    /** A journal row whose remaining_minor is the source's own figure: the writer stores it and never derives it. */
    remainingAtSource: boolean('remaining_at_source').notNull().default(false),
    /** The document number people see (a journal entry's number), when the source has one. */
    number: text('number'),
    sourceUpdatedAt: instant('source_updated_at'),
    sourceVersion: sourceVersion(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('credit_memos_tenant_external_uq').on(t.tenantId, t.externalId),
    // A customer delete cascades to its credit memos: without this each deleted customer scans the table.
    index('credit_memos_customer_idx').on(t.customerId),
    // Journal credits of an entry (replaced whole when it is read again) and of a tenant (the remaining-credit
    // recompute, listings). Partial: credit memos proper never enter it.
    index('credit_memos_journal_idx')
      .on(t.tenantId, t.journalEntryId)
      .where(sql`${t.journalEntryId} is not null`),
  ],
);

/**
 * Money applied to an invoice: one row per payment line. A credit memo applied through a (zero-amount) payment
 * is a row with both payment_id and credit_memo_id. A payment's rows are replaced whole when it changes.
 */
export const paymentAllocations = pgTable(
  'payment_allocations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    paymentId: uuid('payment_id').references(() => payments.id, { onDelete: 'cascade' }),
    creditMemoId: uuid('credit_memo_id').references(() => creditMemos.id, { onDelete: 'cascade' }),
    invoiceId: uuid('invoice_id')
      .notNull()
      .references(() => invoices.id, { onDelete: 'cascade' }),
    lineNo: integer('line_no').notNull().default(0),
    amountMinor: money('amount_minor').notNull(),
    date: date('date', { mode: 'string' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('payment_allocations_invoice_idx').on(t.invoiceId),
    // A credit memo's delete cascades to its applications. Partial: most allocation lines are payments', so the
    // sync's inserts rarely touch it (a full index would cost every synced line an insert).
    index('payment_allocations_credit_memo_idx').on(t.creditMemoId).where(sql`${t.creditMemoId} is not null`),
    // One row per payment line: re-syncing a payment upserts its lines and trims the ones it no longer has.
    uniqueIndex('payment_allocations_payment_line_uq').on(t.paymentId, t.lineNo),
    check('payment_allocations_source_ck', sql`${t.paymentId} is not null or ${t.creditMemoId} is not null`),
  ],
);

/**
 * A deletion the source reported for a record the ledger never stored (a change feed's tombstone or a deleted-records
 * query read before, or instead of, any save of it): there is no row to mark, so the deletion's time is kept here, and
 * a save of that record arriving later (an overlapping window, a read made before the deletion and written after it)
 * is judged against it as against a stored deletion mark: a transaction is stored only from a save strictly later, a
 * customer is stored deleted unless the save is of that second or later (src/db/queries/ledger-write.ts). `kind` is
 * the ledger table (invoices, payments, credit_memos, customers). Rows stay; they are few (records created and deleted
 * between two reads).
 */
export const ledgerTombstones = pgTable(
  'ledger_tombstones',
  {
    tenantId: tenantRef(),
    kind: text('kind').notNull(),
    externalId: text('external_id').notNull(),
    sourceUpdatedAt: instant('source_updated_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.kind, t.externalId] })],
);
