import { z } from 'zod';
import type { dunningMessages } from '../../db/schema';
import { dunningMessageStatuses } from '../../db/schema/dunning';
import { covers, instant, uuid } from './common';

type MessageRow = typeof dunningMessages.$inferSelect;

/** A dunning message row as the API shows it: everything but the rendered html and text. */
const messageFields = covers<Omit<MessageRow, 'html' | 'text'>>()(
  z.object({
    id: z.string(),
    tenantId: uuid,
    customerId: uuid,
    kind: z.enum(['reminder', 'receipt']),
    to: z.array(z.string()),
    channel: z.string(),
    invoiceIds: z.array(uuid),
    stepKeys: z.array(z.string()),
    stepKey: z.string(),
    sequenceId: z.string().nullable(),
    tone: z.string().nullable(),
    template: z.string(),
    templateVersion: z.string().nullable(),
    status: z.enum(dunningMessageStatuses),
    sendAt: instant,
    requiresApproval: z.boolean(),
    approvalReason: z.string().nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: instant.nullable(),
    editedSubject: z.string().nullable(),
    editedIntro: z.string().nullable(),
    editedBy: z.string().nullable(),
    editedAt: instant.nullable(),
    reason: z.string(),
    statusCode: z.string().nullable(),
    statusReason: z.string().nullable(),
    snapshot: z.record(z.string(), z.unknown()),
    subject: z.string().nullable(),
    providerId: z.string().nullable(),
    deliveryStatus: z.string().nullable(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    renderedAsOf: instant.nullable(),
    leaseOwner: z.string().nullable(),
    leaseUntil: instant.nullable(),
    attemptStartedAt: instant.nullable(),
    inDoubtSince: instant.nullable(),
    batchId: z.string().nullable(),
    sentAt: instant.nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
);

/** routes/dunning.ts messageView: the row, why it was planned, and its delivery events. */
export const dunningMessageView = messageFields.extend({
  /** What an approval covers (figures, wording, recipients, edits): send it back with approve to approve this. */
  approvalVersion: z.string(),
  why: z.object({
    reason: z.string(),
    approvalReason: z.string().nullable(),
    statusReason: z.string().nullable(),
    templateVersion: z.string().nullable(),
    snapshot: z.record(z.string(), z.unknown()),
  }),
  events: z.array(z.object({ type: z.string(), at: instant, detail: z.string().nullable() })),
});
