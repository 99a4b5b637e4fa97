/**
 * Dunning: policy, overrides, promises-to-pay, disputes, messages (approve, skip, edit, rendered), planning,
 * previews, the go-live checklist, "sending today" and tasks.
 */
import { z } from 'zod';
import type { disputes, dunningOverrides, promisesToPay } from '../../db/schema';
import { dunningMessageStatuses } from '../../db/schema/dunning';
import type { GoLiveStatus } from '../../dunning/go-live';
import { dunningSettingsSchema, MAX_CONTACT_EMAILS, policySchema } from '../../dunning/policy';
import type { SendingToday } from '../../dunning/sending-today';
import type { StepPreview } from '../../dunning/step-preview';
import { emailAddressSchema, headerTextSchema } from '../../mail/header-safe';
import { covers, coversDeep, day, errorResponses, instant, tenantParams, uuid } from './common';
import { dunningMessageView } from './dunning-message';

const isoDate = z.iso.date();
const idParams = tenantParams.extend({ id: uuid });
const messageParams = tenantParams.extend({ id: z.string().min(1).max(64) });
const noContent = { 204: z.null().meta({ description: 'done; no body' }), ...errorResponses };

// ---- policy -----------------------------------------------------------------------------------------------------

export const dunningConfig = z.object({
  /** 0 until the tenant saves its own policy (the defaults apply). */
  version: z.number().int(),
  policy: policySchema,
  settings: dunningSettingsSchema,
});
export const getPolicy = {
  params: tenantParams,
  response: { 200: dunningConfig, ...errorResponses },
} as const;
export const putPolicy = {
  params: tenantParams,
  /** Checked by the policy's own rules in the handler; errors name the field ("policy.sequences.1.steps.0…"). */
  body: z.object({ policy: z.unknown().optional(), settings: z.unknown().optional() }),
  response: { 200: dunningConfig, ...errorResponses },
} as const;

// ---- overrides, promises, disputes ------------------------------------------------------------------------------

export const overrideRecord = covers<typeof dunningOverrides.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    customerId: uuid.nullable(),
    invoiceId: uuid.nullable(),
    pausedUntil: day.nullable(),
    excluded: z.boolean(),
    sequenceId: z.string().nullable(),
    contactEmails: z.array(z.string()).nullable(),
    note: z.string().nullable(),
    updatedBy: z.string().nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
);
export const listOverrides = {
  params: tenantParams,
  response: { 200: z.object({ items: z.array(overrideRecord) }), ...errorResponses },
} as const;
export const putOverride = {
  params: tenantParams,
  body: z
    .object({
      customerId: uuid.optional(),
      invoiceId: uuid.optional(),
      pausedUntil: isoDate.nullable().optional(),
      excluded: z.boolean().optional(),
      sequenceId: z.string().min(1).max(64).nullable().optional(),
      contactEmails: z.array(emailAddressSchema()).min(1).max(MAX_CONTACT_EMAILS).nullable().optional(),
      note: z.string().max(2000).nullable().optional(),
    })
    .refine((o) => (o.customerId === undefined) !== (o.invoiceId === undefined), {
      message: 'give exactly one of customerId or invoiceId',
      path: ['customerId'],
    }),
  response: { 200: overrideRecord, ...errorResponses },
} as const;
export const deleteOverride = { params: idParams, response: noContent } as const;

export const promiseRecord = covers<typeof promisesToPay.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    customerId: uuid,
    invoiceIds: z.array(uuid),
    promisedDate: day,
    amountMinor: z.number().nullable(),
    graceDays: z.number().int(),
    note: z.string().nullable(),
    cancelledAt: instant.nullable(),
    createdAt: instant,
  }),
);
export const listPromises = {
  params: tenantParams,
  response: { 200: z.object({ items: z.array(promiseRecord) }), ...errorResponses },
} as const;
export const postPromise = {
  params: tenantParams,
  body: z.object({
    customerId: uuid,
    invoiceIds: z.array(uuid).min(1),
    promisedDate: isoDate,
    amountMinor: z.int().positive().optional(),
    graceDays: z.int().min(0).max(14).default(2),
    note: z.string().max(2000).optional(),
  }),
  response: { 201: promiseRecord, ...errorResponses },
} as const;
export const deletePromise = { params: idParams, response: noContent } as const;

export const disputeRecord = covers<typeof disputes.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    invoiceId: uuid,
    openedOn: day,
    until: day.nullable(),
    reason: z.string().nullable(),
    resolvedAt: instant.nullable(),
    createdAt: instant,
  }),
);
export const listDisputes = {
  params: tenantParams,
  response: { 200: z.object({ items: z.array(disputeRecord) }), ...errorResponses },
} as const;
export const postDispute = {
  params: tenantParams,
  body: z.object({
    invoiceId: uuid,
    openedOn: isoDate.optional(),
    until: isoDate.nullable().default(null),
    reason: z.string().max(2000).optional(),
  }),
  response: { 201: disputeRecord, ...errorResponses },
} as const;
export const patchDispute = {
  params: idParams,
  body: z
    .object({ resolved: z.boolean().optional(), until: isoDate.nullable().optional() })
    // An empty edit is a client's mistake, not an UPDATE with nothing to set (which failed as a 500).
    .refine((b) => b.resolved !== undefined || b.until !== undefined, { message: 'give resolved or until' }),
  response: { 200: disputeRecord, ...errorResponses },
} as const;

// ---- messages ---------------------------------------------------------------------------------------------------

export const getMessage = {
  params: messageParams,
  response: { 200: dunningMessageView, ...errorResponses },
} as const;
export const renderedMessage = {
  params: messageParams,
  querystring: z.strictObject({ format: z.enum(['json', 'html', 'text']).default('json') }),
  response: {
    200: z
      .object({
        id: z.string(),
        to: z.array(z.string()),
        status: z.enum(dunningMessageStatuses),
        subject: z.string(),
        html: z.string(),
        text: z.string(),
        templateVersion: z.string().nullable(),
      })
      .or(z.string().meta({ description: 'format=html or text: the email itself' })),
    ...errorResponses,
  },
} as const;
export const approveMessage = {
  params: messageParams,
  body: z
    .object({
      version: z.string().min(1).max(64).optional().meta({
        description:
          "the message's approvalVersion as the reviewer read it; 409 message_changed when it reads otherwise now",
      }),
    })
    .nullish(),
  response: { 200: dunningMessageView, ...errorResponses },
} as const;
export const skipMessage = {
  params: messageParams,
  body: z.object({ reason: z.string().max(500).optional() }).nullish(),
  response: { 200: dunningMessageView, ...errorResponses },
} as const;
export const editMessage = {
  params: messageParams,
  body: z
    .object({
      subject: headerTextSchema(200, 'the subject').nullable().optional(),
      intro: z.string().trim().min(1).max(2000).nullable().optional(),
      version: z.string().min(1).max(64).optional().meta({
        description:
          "the message's approvalVersion as the reviewer read it; 409 message_changed when it reads otherwise now",
      }),
    })
    .refine((e) => e.subject !== undefined || e.intro !== undefined, { message: 'give subject or intro' }),
  response: { 200: dunningMessageView, ...errorResponses },
} as const;

// ---- planning, previews, go-live, today -------------------------------------------------------------------------

export const plan = {
  params: tenantParams,
  body: z.object({}).nullish().meta({ description: 'no fields' }),
  response: {
    200: z.object({
      /** Ids of messages written by this run. */
      planned: z.array(z.string()),
      /** Pending messages cancelled because their invoices were settled. */
      cancelled: z.array(z.string()),
      /** Payment receipts planned. */
      receipts: z.array(z.string()),
      /** Every customer's decision (src/dunning/planner.ts CustomerDecision): a planner document. */
      decisions: z.array(z.record(z.string(), z.unknown())),
    }),
    ...errorResponses,
  },
} as const;

const stepPreview = coversDeep<StepPreview>()(
  z.object({
    sequence: z.string(),
    step: z.number().int(),
    tone: z.enum(['friendly', 'neutral', 'firm', 'final']),
    template: z.enum(['reminder', 'statement']),
    offsetDays: z.number().int(),
    sendsOn: day,
    stepDayPassed: z.boolean(),
    subject: z.string(),
    html: z.string(),
    text: z.string(),
    templateVersion: z.string().nullable(),
  }),
);
const previewQuery = {
  invoice: uuid,
  sequence: z.string().min(1).max(64),
};
export const previewSaved = {
  params: tenantParams,
  querystring: z.strictObject({ ...previewQuery, step: z.coerce.number().int().min(0).max(11) }),
  response: { 200: stepPreview.extend({ source: z.literal('saved') }), ...errorResponses },
} as const;
export const previewDraft = {
  params: tenantParams,
  /** `draft` is checked by the policy's own step rules in the handler (errors name "draft.tone: …"). */
  body: z.object({ ...previewQuery, step: z.int().min(0).max(11), draft: z.unknown() }),
  response: { 200: stepPreview.extend({ source: z.literal('draft') }), ...errorResponses },
} as const;

export const goLiveStatus = coversDeep<GoLiveStatus>()(
  z.object({
    sendingEnabled: z.boolean(),
    sendingPaused: z.boolean(),
    /** Planned but not sent because sending is off or paused, and among them those waiting for a reviewer. */
    wouldSend: z.number().int(),
    awaitingApproval: z.number().int(),
    items: z.array(
      z.object({
        key: z.enum(['sender', 'payment', 'sequences', 'first_batch', 'go_live']),
        title: z.string(),
        done: z.boolean(),
        detail: z.string(),
        /** The app page where the item is done (path and query). */
        href: z.string(),
        required: z.boolean(),
      }),
    ),
    /** Required items still open: going live is refused until this is empty. */
    blockers: z.array(z.string()),
  }),
);
export const goLive = { params: tenantParams, response: { 200: goLiveStatus, ...errorResponses } } as const;

export const sendingTodayBody = coversDeep<SendingToday>()(
  z.object({
    date: day,
    timezone: z.string(),
    from: z.date(),
    to: z.date(),
    toSend: z.array(
      z.object({
        id: z.string(),
        status: z.enum(dunningMessageStatuses),
        customer: z.object({ id: uuid, name: z.string() }),
        subject: z.string().nullable(),
        template: z.string(),
        tone: z.string().nullable(),
        sendAt: z.date(),
        approved: z.boolean(),
        invoiceCount: z.number().int(),
        totals: z.array(z.object({ currency: z.string(), openMinor: z.number() })),
        reason: z.string(),
      }),
    ),
    toSendCount: z.number().int(),
    held: z.number().int(),
    sentToday: z.number().int(),
    overdue: z.number().int(),
    nextSendAt: z.date().nullable(),
    /** Reminders held until a newer upload (a CSV company's upload too old): counted apart from toSendCount. */
    heldForUpload: z.number().int(),
    sending: z.enum(['live', 'off', 'paused']),
    uploadTooOld: z
      .object({
        uploadedOn: day,
        ageDays: z.number().int(),
        maxAgeDays: z.number().int(),
        reason: z.string(),
        held: z.number().int(),
      })
      .nullable(),
  }),
);
export const today = {
  params: tenantParams,
  querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
  response: { 200: sendingTodayBody, ...errorResponses },
} as const;

export const taskDone = {
  params: idParams,
  body: z.object({ note: z.string().max(2000).optional() }).nullish(),
  response: { 200: z.object({ id: uuid, status: z.literal('done') }), ...errorResponses },
} as const;
