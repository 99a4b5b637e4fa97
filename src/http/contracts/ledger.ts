import { z } from 'zod';
import type { creditMemos, customers, invoices, payments, tenants } from '../../db/schema';
import { covers, day, delivery, errorResponses, instant, moneyText, tenantParams, uuid } from './common';

export const tenantView = z.object({
  id: uuid,
  slug: z.string(),
  name: z.string(),
  source: z.string(),
  timezone: z.string(),
  currency: z.string(),
});
export const listTenants = {
  response: { 200: z.object({ items: z.array(tenantView) }), ...errorResponses },
} as const;
export type TenantRow = typeof tenants.$inferSelect;

/** A customer row as the ledger holds it. */
export const customerRecord = covers<typeof customers.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    externalId: z.string(),
    name: z.string(),
    emails: z.array(z.string()),
    /** Addresses the ledger gave the customer before and no longer gives it. */
    formerEmails: z.array(z.string()),
    timezone: z.string().nullable(),
    country: z.string().nullable(),
    locale: z.string().nullable(),
    delivery: delivery.nullable(),
    currency: z.string().nullable(),
    parentExternalId: z.string().nullable(),
    billWithParent: z.boolean(),
    tags: z.array(z.string()),
    firstSeen: day.nullable(),
    deletedAt: instant.nullable(),
    sourceUpdatedAt: instant.nullable(),
    sourceVersion: z.number().int().nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
);

export const invoiceStatus = z.enum(['open', 'paid', 'void', 'deleted']);

/** An invoice row as the ledger holds it. */
export const invoiceRecord = covers<typeof invoices.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    customerId: uuid,
    externalId: z.string(),
    number: z.string().nullable(),
    issueDate: day,
    dueDate: day,
    currency: z.string(),
    totalMinor: z.number().int(),
    balanceMinor: z.number().int(),
    status: invoiceStatus,
    paidDate: day.nullable(),
    payLink: z.string().nullable(),
    billEmail: z.string().nullable(),
    delivery: delivery.nullable(),
    sourceUpdatedAt: instant.nullable(),
    sourceVersion: z.number().int().nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
);

const paymentRecord = covers<typeof payments.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    customerId: uuid,
    externalId: z.string(),
    date: day,
    currency: z.string(),
    amountMinor: z.number().int(),
    unappliedMinor: z.number().int(),
    status: z.enum(['active', 'void', 'deleted']),
    /**
     * What its lines applied to journal entries' rows on the customer's account (credits applied, debits paid), by
     * the row's external id (a credit memo row with journalEntryId), in minor units; null when none.
     */
    journalApplied: z.record(z.string(), z.number().int()).nullable(),
    sourceUpdatedAt: instant.nullable(),
    sourceVersion: z.number().int().nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
);

const creditMemoRecord = covers<typeof creditMemos.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    customerId: uuid,
    externalId: z.string(),
    date: day,
    currency: z.string(),
    totalMinor: z.number().int(),
    remainingMinor: z.number().int(),
    status: z.enum(['active', 'void', 'deleted']),
    /** Set when the credit is a journal entry's credit to Accounts Receivable (not a credit memo): its id. */
    journalEntryId: z.string().nullable(),
    /** The document number people see (a journal entry's number), when known. */
    number: z.string().nullable(),
    /** A journal row whose remainingMinor is the source's own figure, not derived from payments. */
    remainingAtSource: z.boolean(),
    sourceUpdatedAt: instant.nullable(),
    sourceVersion: z.number().int().nullable(),
    createdAt: instant,
    updatedAt: instant,
  }),
);

/**
 * GET /api/v1/tenants/:tenant/customers/:customer: the customer, its invoices, payments (with their allocations),
 * credit memos (with the invoices each was applied to) and open balance.
 */
export const customerDetail = z.object({
  customer: customerRecord,
  /** The app clock's day (UTC) these figures are as of: daysOverdue counts to it. */
  asOf: day,
  openBalance: z.array(
    z.object({ currency: z.string(), balanceMinor: z.number().int(), balance: moneyText }),
  ),
  invoices: z.array(
    invoiceRecord.extend({ total: moneyText, balance: moneyText, daysOverdue: z.number().int() }),
  ),
  payments: z.array(
    paymentRecord.extend({
      amount: moneyText,
      unapplied: moneyText,
      allocations: z.array(
        z.object({
          invoiceId: uuid,
          creditMemoId: uuid.nullable(),
          amountMinor: z.number().int(),
          amount: moneyText,
          date: day,
        }),
      ),
    }),
  ),
  creditMemos: z.array(
    creditMemoRecord.extend({
      total: moneyText,
      remaining: moneyText,
      applications: z.array(
        z.object({ invoiceId: uuid, amountMinor: z.number().int(), amount: moneyText, date: day }),
      ),
    }),
  ),
});
export const getCustomer = {
  params: tenantParams.extend({ customer: z.string().min(1).max(200) }),
  response: { 200: customerDetail, ...errorResponses },
} as const;
