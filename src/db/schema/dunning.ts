import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, instant, money, updatedAt } from './columns';
import { customers, invoices } from './ledger';
import { tenants } from './tenants';

const tenantId = () =>
  uuid('tenant_id')
    .notNull()
    .references(() => tenants.id, { onDelete: 'cascade' });

/**
 * A tenant's dunning policy (sequences + rules, src/dunning/policy.ts) and sending settings, validated before they
 * are written. Every PUT adds a version; the highest version is in force, older ones stay for the audit trail.
 */
export const dunningPolicies = pgTable(
  'dunning_policies',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    version: integer('version').notNull(),
    policy: jsonb('policy').$type<Record<string, unknown>>().notNull(),
    settings: jsonb('settings').$type<Record<string, unknown>>().notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('dunning_policies_tenant_version_uq').on(t.tenantId, t.version)],
);

/** AR staff's exceptions for one customer or one invoice: pause until, exclude, another sequence, another contact. */
export const dunningOverrides = pgTable(
  'dunning_overrides',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id').references(() => customers.id, { onDelete: 'cascade' }),
    invoiceId: uuid('invoice_id').references(() => invoices.id, { onDelete: 'cascade' }),
    pausedUntil: date('paused_until', { mode: 'string' }),
    excluded: boolean('excluded').notNull().default(false),
    sequenceId: text('sequence_id'),
    contactEmails: text('contact_emails').array(),
    note: text('note'),
    /** Who last wrote this override (token:<id> / session:<id>): manual recipients are always someone's act. */
    updatedBy: text('updated_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check('dunning_overrides_target_ck', sql`(${t.customerId} is null) <> (${t.invoiceId} is null)`),
    uniqueIndex('dunning_overrides_customer_uq')
      .on(t.tenantId, t.customerId)
      .where(sql`${t.customerId} is not null`),
    uniqueIndex('dunning_overrides_invoice_uq')
      .on(t.tenantId, t.invoiceId)
      .where(sql`${t.invoiceId} is not null`),
  ],
);

/** "We'll pay by the 15th": the listed invoices are not chased until the date plus grace days. */
export const promisesToPay = pgTable(
  'promises_to_pay',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    invoiceIds: uuid('invoice_ids').array().notNull(),
    promisedDate: date('promised_date', { mode: 'string' }).notNull(),
    amountMinor: money('amount_minor'),
    graceDays: integer('grace_days').notNull().default(2),
    note: text('note'),
    /** Cancelled promises no longer hold reminders. */
    cancelledAt: instant('cancelled_at'),
    createdAt: createdAt(),
  },
  (t) => [index('promises_to_pay_tenant_date_idx').on(t.tenantId, t.promisedDate)],
);

/** A disputed invoice is never chased while the dispute is open (until null = until resolved). */
export const disputes = pgTable(
  'disputes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    invoiceId: uuid('invoice_id')
      .notNull()
      .references(() => invoices.id, { onDelete: 'cascade' }),
    openedOn: date('opened_on', { mode: 'string' }).notNull(),
    until: date('until', { mode: 'string' }),
    reason: text('reason'),
    resolvedAt: instant('resolved_at'),
    createdAt: createdAt(),
  },
  (t) => [index('disputes_tenant_invoice_idx').on(t.tenantId, t.invoiceId)],
);

export const dunningMessageStatuses = [
  'planned',
  'awaiting_approval',
  'queued',
  'sending',
  'sent',
  'skipped',
  'failed',
  'unconfirmed',
] as const;
export type DunningMessageStatus = (typeof dunningMessageStatuses)[number];
export type DunningMessageKind = 'reminder' | 'receipt';

/**
 * Every outbound message has a row before it is sent. The id is the planner's key ('dm_…') and the provider
 * idempotency key. Status moves planned → awaiting_approval → queued → sending → sent | skipped | failed | unconfirmed,
 * each move a compare-and-set, so a message already sent is never sent again. 'unconfirmed': an attempt may have
 * been delivered but the provider can no longer tell us (past its 24 h key window, or the invoice was settled
 * meanwhile); a person checks instead of Duely re-sending blind.
 */
export const dunningMessages = pgTable(
  'dunning_messages',
  {
    id: text('id').primaryKey(),
    tenantId: tenantId(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<DunningMessageKind>().notNull().default('reminder'),
    to: text('to').array().notNull(),
    channel: text('channel').notNull().default('email'),
    invoiceIds: uuid('invoice_ids').array().notNull(),
    stepKeys: text('step_keys').array().notNull(),
    /** The strongest step: it set the tone and template. */
    stepKey: text('step_key').notNull(),
    sequenceId: text('sequence_id'),
    tone: text('tone'),
    template: text('template').notNull(),
    templateVersion: text('template_version'),
    status: text('status').$type<DunningMessageStatus>().notNull(),
    sendAt: instant('send_at').notNull(),
    requiresApproval: boolean('requires_approval').notNull().default(false),
    approvalReason: text('approval_reason'),
    decidedBy: text('decided_by'),
    decidedAt: instant('decided_at'),
    /** Reviewer's edits applied at render time. */
    editedSubject: text('edited_subject'),
    editedIntro: text('edited_intro'),
    editedBy: text('edited_by'),
    editedAt: instant('edited_at'),
    /** "Why this message, now": the planner's reason; skip/defer reasons go to status_reason. */
    reason: text('reason').notNull(),
    statusCode: text('status_code'),
    statusReason: text('status_reason'),
    /** Policy step, sequence selection, prediction and balance snapshot at planning time. */
    snapshot: jsonb('snapshot').$type<Record<string, unknown>>().notNull(),
    subject: text('subject'),
    html: text('html'),
    text: text('text'),
    providerId: text('provider_id'),
    /** Latest delivery state from webhooks: delivered, opened, bounced, … */
    deliveryStatus: text('delivery_status'),
    error: text('error'),
    attempts: integer('attempts').notNull().default(0),
    /**
     * The instant the stored subject/html/text were rendered "as of" (the planned send time). Rendered once;
     * every provider attempt sends that same body under the same idempotency key.
     */
    renderedAsOf: instant('rendered_as_of'),
    /** The send job that owns a message in 'sending', and until when (a sweeper takes over after). */
    leaseOwner: text('lease_owner'),
    leaseUntil: instant('lease_until'),
    /** Set (and committed) before provider attempts begin; cleared when they conclude. Left set = a crash mid-call. */
    attemptStartedAt: instant('attempt_started_at'),
    /**
     * Start of the earliest attempt that may have reached the provider without us learning the outcome (timeout,
     * dropped connection, 5xx, crash). Such a message is retried only with the same key inside the provider's
     * 24-hour idempotency window; past it, it becomes 'unconfirmed' for a person to check.
     */
    inDoubtSince: instant('in_doubt_since'),
    /**
     * The batch (dunning_send_batches) this message is a member of while it is 'sending' through POST /emails/batch;
     * such a message is only ever sent as part of that batch (same members, same key), never on its own.
     */
    batchId: text('batch_id'),
    sentAt: instant('sent_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('dunning_messages_batch_idx').on(t.batchId),
    // Outbox and approvals queue: a tenant's messages by state and send time.
    index('dunning_messages_tenant_status_send_idx').on(t.tenantId, t.status, t.sendAt),
    // Planner history and the customer page.
    index('dunning_messages_customer_idx').on(t.customerId, t.createdAt),
    index('dunning_messages_provider_idx').on(t.providerId),
    // The customer list's last contact and next reminder.
    index('dunning_messages_customer_status_idx').on(t.customerId, t.status, t.sendAt),
    // The message log, newest first.
    index('dunning_messages_tenant_created_idx').on(t.tenantId, sql`${t.createdAt} desc`),
    check(
      'dunning_messages_status_ck',
      sql`${t.status} in ('planned','awaiting_approval','queued','sending','sent','skipped','failed','unconfirmed')`,
    ),
  ],
);

/**
 * One POST /emails/batch request (src/dunning/send-batch.ts), written and committed before the first call: its
 * members in a fixed order, the exact request body and the idempotency key `batch/<id>`. Every call for it, first or
 * retry, sends exactly this body under exactly this key; the provider's ids are matched to members by position.
 */
export const dunningSendBatches = pgTable(
  'dunning_send_batches',
  {
    id: text('id').primaryKey(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** Message ids, in the order of the request body. */
    memberIds: text('member_ids').array().notNull(),
    /** The request body as sent (JSON text: byte-identical on every retry). */
    payload: text('payload').notNull(),
    /** open (members 'sending'), sent, abandoned (proven never accepted), unconfirmed (a person checks). */
    status: text('status').$type<'open' | 'sent' | 'abandoned' | 'unconfirmed'>().notNull(),
    leaseOwner: text('lease_owner'),
    leaseUntil: instant('lease_until'),
    /** Set and committed before a call; cleared when the call is proven not accepted. Left set = a crash mid-call. */
    callStartedAt: instant('call_started_at'),
    /** The earliest call that may have been accepted without us learning it (timeout, 5xx, drop, crash). */
    inDoubtSince: instant('in_doubt_since'),
    calls: integer('calls').notNull().default(0),
    error: text('error'),
    sentAt: instant('sent_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('dunning_send_batches_key_uq').on(t.idempotencyKey),
    index('dunning_send_batches_status_idx').on(t.status, t.leaseUntil),
    check('dunning_send_batches_status_ck', sql`${t.status} in ('open','sent','abandoned','unconfirmed')`),
  ],
);

/** Which step of which invoice a message fulfils. The unique key is what makes "never the same step twice" hold. */
export const dunningMessageSteps = pgTable(
  'dunning_message_steps',
  {
    tenantId: tenantId(),
    messageId: text('message_id')
      .notNull()
      .references(() => dunningMessages.id, { onDelete: 'cascade' }),
    invoiceId: uuid('invoice_id')
      .notNull()
      .references(() => invoices.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    stepKey: text('step_key').notNull(),
    tone: text('tone'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('dunning_message_steps_invoice_step_uq').on(t.tenantId, t.invoiceId, t.stepKey),
    index('dunning_message_steps_message_idx').on(t.messageId),
    index('dunning_message_steps_customer_idx').on(t.customerId),
  ],
);

/** Delivery events from the provider and the debtor's own actions; webhook deliveries are idempotent on svix-id. */
export const dunningMessageEvents = pgTable(
  'dunning_message_events',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    messageId: text('message_id').references(() => dunningMessages.id, { onDelete: 'cascade' }),
    providerId: text('provider_id'),
    /** delivered, opened, clicked, bounced, soft_bounced, complained, suppressed, failed, unsubscribed, … */
    type: text('type').notNull(),
    at: instant('at').notNull(),
    detail: text('detail'),
    svixId: text('svix_id'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('dunning_message_events_svix_uq').on(t.svixId),
    index('dunning_message_events_message_idx').on(t.messageId, t.at),
  ],
);

export type ContactSuppressionKind = 'bounced' | 'complained' | 'unsubscribed' | 'suppressed';

/**
 * Addresses and debtors not to be mailed: a hard-bounced address (email set), or a debtor who unsubscribed or
 * complained (customer set; email records which address did it).
 */
export const contactSuppressions = pgTable(
  'contact_suppressions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id').references(() => customers.id, { onDelete: 'cascade' }),
    /** Lower-cased. */
    email: text('email'),
    kind: text('kind').$type<ContactSuppressionKind>().notNull(),
    reason: text('reason'),
    messageId: text('message_id'),
    createdAt: createdAt(),
  },
  (t) => [
    index('contact_suppressions_tenant_customer_idx').on(t.tenantId, t.customerId),
    index('contact_suppressions_tenant_email_idx').on(t.tenantId, t.email),
  ],
);

export type DunningTaskKind = 'call' | 'find_contact' | 'review';

/** The call list: where automation stops and a person takes over. */
export const dunningTasks = pgTable(
  'dunning_tasks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<DunningTaskKind>().notNull(),
    title: text('title').notNull(),
    invoiceIds: uuid('invoice_ids').array().notNull().default(sql`'{}'::uuid[]`),
    talkingPoints: jsonb('talking_points').$type<Record<string, unknown>>().notNull().default({}),
    status: text('status').$type<'open' | 'done'>().notNull().default('open'),
    dueOn: date('due_on', { mode: 'string' }),
    messageId: text('message_id'),
    /** Makes opening the same task twice (a webhook retried, a planner rerun) a no-op. */
    dedupeKey: text('dedupe_key').notNull(),
    doneBy: text('done_by'),
    doneAt: instant('done_at'),
    note: text('note'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('dunning_tasks_dedupe_uq').on(t.tenantId, t.dedupeKey),
    index('dunning_tasks_tenant_status_due_idx').on(t.tenantId, t.status, t.dueOn),
  ],
);

/**
 * The audit of a bulk action (approve 40 held reminders, pause 12 customers, mark 8 invoices disputed): who, what,
 * on which rows (ids, or the list filter for "all N matching"), and what came of it. Each row it changed also
 * names the person where it has a place for it (a message's decided_by).
 */
export const bulkActions = pgTable(
  'bulk_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: tenantId(),
    actor: text('actor').notNull(),
    /** messages | customers | invoices */
    target: text('target').notNull(),
    action: text('action').notNull(),
    /** The request: ids or filter, and the action's parameters (reason, until). */
    request: jsonb('request').$type<Record<string, unknown>>().notNull(),
    requested: integer('requested').notNull(),
    applied: integer('applied').notNull(),
    /** Rows left alone and why: [{ id, reason }]. */
    notApplied: jsonb('not_applied').$type<{ id: string; reason: string }[]>().notNull().default([]),
    createdAt: createdAt(),
  },
  (t) => [index('bulk_actions_tenant_created_idx').on(t.tenantId, t.createdAt)],
);
