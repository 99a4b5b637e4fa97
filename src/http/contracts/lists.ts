/**
 * The lists (invoices, customers, dunning messages, tasks) and their bulk actions. Query fields are the list's
 * filters; a bulk action's `filter` takes the same fields as its list's query string.
 */
import { z } from 'zod';
import {
  AGING_BUCKETS,
  type CurrencyTotals,
  type CustomerListRow,
  type InvoiceListRow,
} from '../../db/queries/lists';
import type { dunningTasks } from '../../db/schema';
import { dunningMessageStatuses } from '../../db/schema/dunning';
import type { BulkResult } from '../../dunning/bulk';
import { covers, day, errorResponses, instant, moneyText, riskBand, tenantParams, uuid } from './common';
import { dunningMessageView } from './dunning-message';

const isoDate = z.iso.date();
const bool = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();
const minor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();
const common = {
  /** Search: invoice number, customer name or id, email. */
  q: z.string().trim().max(200).optional(),
  /** A column; `-` first for descending (e.g. `-balance`). */
  sort: z.string().max(40).optional(),
  /** csv: every row of the same filtered set, as a download (formula-safe). */
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  /** `nextCursor` of the previous page. */
  cursor: z.string().max(500).optional(),
};

export const invoiceListQuery = z.strictObject({
  ...common,
  /** "all" (or absent) = every status. */
  status: z.enum(['open', 'paid', 'void', 'deleted', 'all']).optional(),
  overdue: bool,
  /** A customer's id or ledger id. */
  customer: z.string().min(1).max(200).optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  aging: z.enum(AGING_BUCKETS).optional(),
  dueFrom: isoDate.optional(),
  dueTo: isoDate.optional(),
  issuedFrom: isoDate.optional(),
  issuedTo: isoDate.optional(),
  paidFrom: isoDate.optional(),
  paidTo: isoDate.optional(),
  expectedFrom: isoDate.optional(),
  expectedTo: isoDate.optional(),
  risk: riskBand.optional(),
  minBalanceMinor: minor,
  maxBalanceMinor: minor,
  disputed: bool,
});
export type InvoiceListQuery = z.infer<typeof invoiceListQuery>;

export const customerListQuery = z.strictObject({
  ...common,
  /** The currency of the open and overdue amounts (default: the company's). */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
  overdue: bool,
  open: bool,
  minRisk: z.coerce.number().int().min(0).max(100).optional(),
  dunning: z.enum(['paused', 'excluded', 'active']).optional(),
  /** The older offset pages; `cursor` is preferred. */
  offset: z.coerce.number().int().min(0).max(100_000).optional(),
});
export type CustomerListQuery = z.infer<typeof customerListQuery>;

export const messageStatus = z.enum(dunningMessageStatuses);
export const tone = z.enum(['friendly', 'neutral', 'firm', 'final']);

export const messageListQuery = z.strictObject({
  ...common,
  status: messageStatus.optional(),
  customer: z.uuid().optional(),
  tone: tone.optional(),
  /** Send time window: a day (the whole day, UTC) or an instant. */
  from: z.union([isoDate, z.iso.datetime()]).optional(),
  to: z.union([isoDate, z.iso.datetime()]).optional(),
  before: z.iso.datetime().optional(),
  minAmountMinor: minor,
  maxAmountMinor: minor,
});
export type MessageListQuery = z.infer<typeof messageListQuery>;

/**
 * A list's query string takes its fields and nothing else (strict objects above): a misspelt `stauts=overdue` on a
 * list or its CSV export is a 400 naming the parameter, not every row of the tenant.
 *
 * A bulk action's `filter`: its list's query fields and nothing else. A field the list does not know (a misspelt
 * `custmer`) is refused, never dropped: dropped, it would widen "all matching" to every row of the tenant. Paging
 * fields are refused too: "all matching" acts on every match, not on one page.
 */
const PAGING = { limit: true, cursor: true, format: true } as const;
export const invoiceBulkFilter = invoiceListQuery.omit(PAGING).strict();
export const customerBulkFilter = customerListQuery.omit({ ...PAGING, offset: true }).strict();
export const messageBulkFilter = messageListQuery.omit(PAGING).strict();

export const taskListQuery = z.strictObject({
  ...common,
  status: z.enum(['open', 'done']).default('open'),
  kind: z.enum(['call', 'find_contact', 'review']).optional(),
  customer: z.uuid().optional(),
  minAmountMinor: minor,
});

// ---- answers ----------------------------------------------------------------------------------------------------

const invoiceListRow = covers<InvoiceListRow>()(
  z.object({
    id: uuid,
    externalId: z.string(),
    number: z.string().nullable(),
    customerId: uuid,
    customerExternalId: z.string(),
    customerName: z.string(),
    issueDate: day,
    dueDate: day,
    currency: z.string(),
    totalMinor: z.number(),
    balanceMinor: z.number(),
    status: z.enum(['open', 'paid', 'void', 'deleted']),
    paidDate: day.nullable(),
    payLink: z.string().nullable(),
    daysOverdue: z.number().int(),
    disputed: z.boolean(),
    lastReminderAt: instant.nullable(),
    nextReminderAt: instant.nullable(),
    /** The next reminder waits for a reviewer's approval or a newer upload (its send time may then be past). */
    nextReminderWaits: z.enum(['approval', 'upload']).nullable(),
    prediction: z
      .object({
        pLate: z.number(),
        riskBand,
        predictedPayDate: day,
        pCollect30: z.number().nullable(),
        pCollect90: z.number().nullable(),
      })
      .nullable(),
  }),
);

export const invoiceListItem = invoiceListRow.extend({
  total: moneyText,
  balance: moneyText,
  pLate: z.number().nullable(),
  riskBand: riskBand.nullable(),
  predictedPayDate: day.nullable(),
  /** Overdue invoices: P(paid within 30 / 90 days of the scoring day) given still unpaid then. */
  pCollect30: z.number().nullable(),
  pCollect90: z.number().nullable(),
});

const currencyTotals = covers<CurrencyTotals>()(
  z.object({
    currency: z.string(),
    count: z.number().int(),
    totalMinor: z.number(),
    balanceMinor: z.number(),
    overdueMinor: z.number(),
  }),
);

export const invoiceList = z.object({
  items: z.array(invoiceListItem),
  nextCursor: z.string().nullable(),
  /** The sort applied, e.g. `-balance`. */
  sort: z.string(),
  asOf: day,
  /** Rows in the filtered set. */
  total: z.number().int(),
  /** Per currency: the filtered set's original, open and overdue amounts. */
  totals: z.array(currencyTotals.extend({ total: moneyText, balance: moneyText, overdue: moneyText })),
});

export const customerListRow = covers<CustomerListRow>()(
  z.object({
    id: uuid,
    externalId: z.string(),
    name: z.string(),
    emails: z.array(z.string()),
    /** The dunning contact set in Duely (Call list, customer page) that reminders use in place of `emails`. */
    contactEmails: z.array(z.string()),
    firstSeen: day.nullable(),
    openInvoices: z.number().int(),
    openBalanceMinor: z.number(),
    overdueMinor: z.number(),
    /** Other currencies the customer has open invoices in; their amounts are not in the two figures above. */
    otherCurrencies: z.array(z.string()),
    maxDaysOverdue: z.number().int(),
    riskScore: z.number().nullable(),
    slowingAlert: z.boolean(),
    pausedUntil: day.nullable(),
    excluded: z.boolean(),
    lastContactAt: instant.nullable(),
    nextActionAt: instant.nullable(),
    /** The next reminder waits for a reviewer's approval or a newer upload (its send time may then be past). */
    nextActionWaits: z.enum(['approval', 'upload']).nullable(),
  }),
);

export const customerList = z.object({
  items: z.array(customerListRow),
  nextCursor: z.string().nullable(),
  limit: z.number().int(),
  /** Offset pages only. */
  offset: z.number().int().optional(),
  /** The tenant's currency, which the totals are in (cursor pages). */
  currency: z.string().optional(),
  total: z.number().int(),
  totals: z.object({ openBalanceMinor: z.number(), overdueMinor: z.number() }),
});

export const messageListItem = dunningMessageView.extend({
  customerName: z.string(),
  customerExternalId: z.string(),
  amountMinor: z.number(),
});
export const messageList = z.object({
  items: z.array(messageListItem),
  nextCursor: z.string().nullable(),
  total: z.number().int(),
  /** Rows of the filtered set by status. */
  byStatus: z.record(z.string(), z.number().int()),
  /** When the list was read (server clock): send it back with an approve of "all matching". */
  listedAt: z.string(),
  /** The database snapshot the list was read under (opaque): send it back with `listedAt`. */
  listedSnapshot: z.string(),
});

export const taskRecord = covers<typeof dunningTasks.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    customerId: uuid,
    kind: z.enum(['call', 'find_contact', 'review']),
    title: z.string(),
    invoiceIds: z.array(uuid),
    talkingPoints: z.record(z.string(), z.unknown()),
    status: z.enum(['open', 'done']),
    dueOn: day.nullable(),
    messageId: z.string().nullable(),
    dedupeKey: z.string(),
    doneBy: z.string().nullable(),
    doneAt: instant.nullable(),
    note: z.string().nullable(),
    createdAt: instant,
  }),
);
export const taskListItem = taskRecord.extend({
  openMinor: z.number(),
  customer: z.object({ name: z.string(), externalId: z.string(), emails: z.array(z.string()) }),
});
export const taskList = z.object({
  items: z.array(taskListItem),
  nextCursor: z.string().nullable(),
  total: z.number().int(),
});

/** The answer of every bulk action: what was asked, what changed, and why the rest did not. */
export const bulkResult = covers<BulkResult>()(
  z.object({
    /** The audit row of the action. */
    id: uuid,
    action: z.string(),
    requested: z.number().int(),
    applied: z.number().int(),
    appliedIds: z.array(z.string()),
    notApplied: z.array(z.object({ id: z.string(), reason: z.string() })),
  }),
);

// ---- bulk bodies ----------------------------------------------------------------------------------------------

/** The most rows one bulk action may change ("all N matching" beyond it: narrow the filter). */
export const BULK_MAX = 10_000;

/** A bulk action names its rows by id, or by the list's filter ("all N matching", the same query string fields). */
const bulkTarget = <T extends z.ZodType>(id: T) => ({
  ids: z.array(id).min(1).max(BULK_MAX).optional(),
  filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
const exactlyOne = (b: { ids?: unknown; filter?: unknown }) =>
  (b.ids === undefined) !== (b.filter === undefined);
const oneTarget = { message: 'give ids or filter (not both)', path: ['ids'] };

/**
 * A pg_snapshot as text ("xmin:xmax:xip,…"): xmin ≤ xmax, neither of them "no transaction" (0 in their low 32 bits,
 * which PostgreSQL refuses: '0:0:' was a 500), the in-progress ids ascending within [xmin, xmax). Checked here, so a
 * mangled one is a 400, not a database error.
 */
function validSnapshot(v: string): boolean {
  const m = /^(\d{1,20}):(\d{1,20}):((?:\d{1,20})(?:,\d{1,20})*)?$/.exec(v);
  if (!m) return false;
  const [lo, hi] = [BigInt(m[1]!), BigInt(m[2]!)];
  if (lo > hi || hi >= 2n ** 63n) return false;
  if ((lo & 0xffff_ffffn) === 0n || (hi & 0xffff_ffffn) === 0n) return false;
  let last = -1n;
  for (const x of (m[3] ?? '').split(',').filter(Boolean).map(BigInt)) {
    if (x < lo || x >= hi || x <= last) return false;
    last = x;
  }
  return true;
}

export const messageBulkBody = z
  .object({
    action: z.enum(['approve', 'skip']),
    ...bulkTarget(z.string().min(1).max(64)),
    reason: z.string().max(500).optional(),
    /** approve: each message's approvalVersion as the reviewer viewed it; one that reads otherwise now is left. */
    versions: z.record(z.string().max(64), z.string().min(1).max(64)).optional(),
    /**
     * approve with filter: the `listedAt` of the list the reviewer chose from. A matching message planned (again) or
     * edited since, or reading otherwise now (a day passed), is left in notApplied unless its version is given.
     * More than 5 minutes after the server's time (bulk.ts LISTED_AT_SKEW_MS) it is a 400: no list answered it.
     */
    listedAt: z.iso.datetime().optional(),
    /** With listedAt: the list's `listedSnapshot`; a message written by a transaction it did not see is left too. */
    listedSnapshot: z.string().max(20_000).refine(validSnapshot, 'not a list snapshot').optional(),
  })
  .refine(exactlyOne, oneTarget);

export const customerBulkBody = z
  .object({
    /**
     * send_statement: one statement of account per customer listing its open invoices, waiting for a reviewer's
     * approval (one a customer a day; customers who cannot receive one are reported with the reason).
     */
    action: z.enum(['pause', 'resume', 'exclude', 'include', 'send_statement']),
    ...bulkTarget(z.uuid()),
    until: isoDate.optional(),
  })
  .refine(exactlyOne, oneTarget)
  .refine((b) => b.action !== 'pause' || b.until !== undefined, {
    message: 'pause needs until (the day reminders resume)',
    path: ['until'],
  });

export const invoiceBulkBody = z
  .object({
    action: z.enum(['dispute', 'resolve']),
    ...bulkTarget(z.uuid()),
    reason: z.string().max(2000).optional(),
    until: isoDate.nullable().optional(),
  })
  .refine(exactlyOne, oneTarget);

// ---- routes -----------------------------------------------------------------------------------------------------

const csvAnswer = z.string().meta({ description: 'format=csv: text/csv download of every matching row' });
/** A list answers JSON, or CSV with format=csv. */
const listResponse = <S extends z.ZodType>(json: S) => ({
  200: json.or(csvAnswer),
  ...errorResponses,
});

export const listInvoices = {
  params: tenantParams,
  querystring: invoiceListQuery,
  response: listResponse(invoiceList),
} as const;
export const listCustomers = {
  params: tenantParams,
  querystring: customerListQuery,
  response: listResponse(customerList),
} as const;
export const customersAtRisk = {
  params: tenantParams,
  querystring: z.object({ limit: z.coerce.number().int().min(1).max(50).default(5) }),
  response: {
    200: z.object({
      /** The tenant's currency, first in `groups` when anyone is at risk in it. */
      currency: z.string(),
      groups: z.array(
        z.object({
          currency: z.string(),
          /** Customers at risk with an open balance in this currency; `items` holds the first `limit`. */
          total: z.number().int(),
          items: z.array(
            z.object({
              id: uuid,
              externalId: z.string(),
              name: z.string(),
              riskScore: z.number().int(),
              openBalanceMinor: z.number(),
              overdueMinor: z.number(),
            }),
          ),
        }),
      ),
    }),
    ...errorResponses,
  },
} as const;
export const listMessages = {
  params: tenantParams,
  querystring: messageListQuery,
  response: listResponse(messageList),
} as const;
export const listTasks = {
  params: tenantParams,
  querystring: taskListQuery,
  response: listResponse(taskList),
} as const;

const bulk = <B extends z.ZodType>(body: B) =>
  ({ params: tenantParams, body, response: { 200: bulkResult, ...errorResponses } }) as const;
export const bulkMessages = bulk(messageBulkBody);
export const bulkCustomers = bulk(customerBulkBody);
export const bulkInvoices = bulk(invoiceBulkBody);

export const addTaskContact = {
  params: tenantParams.extend({ id: uuid }),
  body: z.object({ email: z.email().max(320) }),
  response: {
    200: z.object({
      id: uuid,
      status: z.literal('done'),
      customerId: uuid,
      contactEmails: z.array(z.string()),
    }),
    ...errorResponses,
  },
} as const;
