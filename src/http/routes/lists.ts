/**
 * The lists a finance team works in: invoices, customers, dunning messages and tasks. Each takes filters in the query
 * string, `q` (search: invoice number, customer name or id, email), `sort` (a column; `-` for descending), keyset
 * pages (`limit`, `cursor` → `nextCursor`) and `format=csv` (every row of the same filtered set, formula-safe). JSON
 * answers carry `total` (the filtered count) and the totals of the filtered set.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { fromMinor } from '../../../connectors/money';
import { isoDay } from '../../clock';
import { localParts } from '../../dunning/local-time';
import { completeTask } from '../../dunning/tasks';
import { findCustomer } from '../../db/queries/ledger';
import {
  AGING_BUCKETS,
  allCustomers,
  allInvoices,
  allMessages,
  allTasks,
  CUSTOMER_SORTS,
  customerPage,
  customerTotals,
  customerIds,
  decodeCursor,
  INVOICE_SORTS,
  invoiceIdsMatching,
  type InvoiceListRow,
  invoicePage,
  invoiceTotals,
  MESSAGE_SORTS,
  messageIdsMatching,
  messagePage,
  messageTotals,
  parseSort,
  TASK_SORTS,
  taskPage,
  taskTotals,
} from '../../db/queries/lists';
import { customers, dunningMessageEvents, dunningMessages, dunningTasks } from '../../db/schema';
import { bulkCustomers, bulkDecideMessages, bulkDispute } from '../../dunning/bulk';
import { AppError, notFound } from '../../errors';
import type { Services } from '../../services';
import { COLLECTOR, tenantOf } from '../auth';
import { type CsvColumn, sendCsv, toCsv } from '../csv-export';
import { parseInput } from '../validate';
import { actor, messageView } from './dunning';

const isoDate = z.iso.date();
const bool = z
  .enum(['true', 'false'])
  .transform((v) => v === 'true')
  .optional();
const minor = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional();
const common = {
  q: z.string().trim().max(200).optional(),
  sort: z.string().max(40).optional(),
  format: z.enum(['json', 'csv']).default('json'),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  cursor: z.string().max(500).optional(),
};

export const invoiceListQuery = z.object({
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
  risk: z.enum(['low', 'medium', 'high']).optional(),
  minBalanceMinor: minor,
  maxBalanceMinor: minor,
  disputed: bool,
});
export type InvoiceListQuery = z.infer<typeof invoiceListQuery>;

export const customerListQuery = z.object({
  ...common,
  overdue: bool,
  open: bool,
  minRisk: z.coerce.number().int().min(0).max(100).optional(),
  dunning: z.enum(['paused', 'excluded', 'active']).optional(),
  /** The older offset pages; `cursor` is preferred. */
  offset: z.coerce.number().int().min(0).max(100_000).optional(),
});
export type CustomerListQuery = z.infer<typeof customerListQuery>;

export const messageListQuery = z.object({
  ...common,
  status: z
    .enum(['planned', 'awaiting_approval', 'queued', 'sending', 'sent', 'skipped', 'failed', 'unconfirmed'])
    .optional(),
  customer: z.uuid().optional(),
  tone: z.enum(['friendly', 'neutral', 'firm', 'final']).optional(),
  /** Send time window: a day (the whole day, UTC) or an instant. */
  from: z.union([isoDate, z.iso.datetime()]).optional(),
  to: z.union([isoDate, z.iso.datetime()]).optional(),
  before: z.iso.datetime().optional(),
  minAmountMinor: minor,
  maxAmountMinor: minor,
});
export type MessageListQuery = z.infer<typeof messageListQuery>;

export const taskListQuery = z.object({
  ...common,
  status: z.enum(['open', 'done']).default('open'),
  kind: z.enum(['call', 'find_contact', 'review']).optional(),
  customer: z.uuid().optional(),
  minAmountMinor: minor,
});

const money = (m: number, currency: string) => fromMinor(m, currency);

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

/** A filter object from a JSON body, read as the list's query string would be. */
const asQuery = (f: Record<string, string | number | boolean>) =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, String(v)]));

function capped(ids: string[]): string[] {
  if (ids.length > BULK_MAX) {
    throw new AppError('too_many_rows', `${ids.length} rows match; act on at most ${BULK_MAX} at once`, 400);
  }
  return [...new Set(ids)];
}

const messageBulkBody = z
  .object({
    action: z.enum(['approve', 'skip']),
    ...bulkTarget(z.string().min(1).max(64)),
    reason: z.string().max(500).optional(),
  })
  .refine(exactlyOne, oneTarget);

const customerBulkBody = z
  .object({
    action: z.enum(['pause', 'resume', 'exclude', 'include']),
    ...bulkTarget(z.uuid()),
    until: isoDate.optional(),
  })
  .refine(exactlyOne, oneTarget)
  .refine((b) => b.action !== 'pause' || b.until !== undefined, {
    message: 'pause needs until (the day reminders resume)',
    path: ['until'],
  });

const invoiceBulkBody = z
  .object({
    action: z.enum(['dispute', 'resolve']),
    ...bulkTarget(z.uuid()),
    reason: z.string().max(2000).optional(),
    until: isoDate.nullable().optional(),
  })
  .refine(exactlyOne, oneTarget);
const DAY = 86_400_000;
/** A `to` day includes the whole day. */
const instantOf = (v: string, end: boolean) =>
  v.length === 10 ? new Date(Date.parse(`${v}T00:00:00Z`) + (end ? DAY : 0)) : new Date(v);

/** The invoice filter of a query (shared with the bulk actions' "all matching"). */
export async function invoiceFilterOf(
  services: Services,
  tenantId: string,
  q: Omit<InvoiceListQuery, 'format'>,
) {
  let customerId: string | undefined;
  if (q.customer) {
    const c = await findCustomer(services.db, tenantId, q.customer);
    if (!c) throw notFound(`customer ${q.customer}`);
    customerId = c.id;
  }
  return {
    today: isoDay(services.clock.now()),
    status: q.status === 'all' ? undefined : q.status,
    overdue: q.overdue,
    customerId,
    q: q.q || undefined,
    currency: q.currency,
    aging: q.aging,
    dueFrom: q.dueFrom,
    dueTo: q.dueTo,
    issuedFrom: q.issuedFrom,
    issuedTo: q.issuedTo,
    paidFrom: q.paidFrom,
    paidTo: q.paidTo,
    expectedFrom: q.expectedFrom,
    expectedTo: q.expectedTo,
    risk: q.risk,
    minBalanceMinor: q.minBalanceMinor,
    maxBalanceMinor: q.maxBalanceMinor,
    disputed: q.disputed,
  };
}

export function customerFilterOf(services: Services, q: Omit<CustomerListQuery, 'format'>) {
  return {
    today: isoDay(services.clock.now()),
    q: q.q || undefined,
    overdue: q.overdue,
    open: q.open,
    minRisk: q.minRisk,
    dunning: q.dunning,
  };
}

export function messageFilterOf(q: Omit<MessageListQuery, 'format'>) {
  return {
    status: q.status,
    customerId: q.customer,
    q: q.q || undefined,
    tone: q.tone,
    from: q.from ? instantOf(q.from, false) : undefined,
    to: q.to ? instantOf(q.to, true) : undefined,
    before: q.before ? new Date(q.before) : undefined,
    minAmountMinor: q.minAmountMinor,
    maxAmountMinor: q.maxAmountMinor,
  };
}

const invoiceCsv: CsvColumn<InvoiceListRow>[] = [
  { header: 'Invoice', value: (r) => r.number ?? r.externalId },
  { header: 'Customer', value: (r) => r.customerName },
  { header: 'Customer ID', value: (r) => r.customerExternalId },
  { header: 'Issued', value: (r) => r.issueDate },
  { header: 'Due', value: (r) => r.dueDate },
  { header: 'Currency', value: (r) => r.currency },
  { header: 'Original amount', kind: 'number', value: (r) => money(r.totalMinor, r.currency) },
  { header: 'Open balance', kind: 'number', value: (r) => money(r.balanceMinor, r.currency) },
  { header: 'Status', value: (r) => r.status },
  { header: 'Paid date', value: (r) => r.paidDate },
  { header: 'Days overdue', kind: 'number', value: (r) => r.daysOverdue },
  { header: 'Disputed', value: (r) => (r.disputed ? 'yes' : '') },
  { header: 'Risk', value: (r) => r.prediction?.riskBand },
  {
    header: 'Chance late',
    kind: 'number',
    value: (r) => (r.prediction ? r.prediction.pLate.toFixed(2) : null),
  },
  { header: 'Predicted payment', value: (r) => r.prediction?.predictedPayDate },
  { header: 'Last reminder', value: (r) => r.lastReminderAt },
  { header: 'Next reminder', value: (r) => r.nextReminderAt },
];

export const listRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const { db } = services;

    app.get('/tenants/:tenant/invoices', async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(invoiceListQuery, req.query, 'querystring');
      const sort = parseSort(q.sort, INVOICE_SORTS, { key: 'dueDate', dir: 'asc' });
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      const f = await invoiceFilterOf(services, tenant.id, q);
      if (q.format === 'csv') {
        const rows = await allInvoices(db, tenant.id, f, sort);
        return sendCsv(reply, `${tenant.slug}-invoices`, f.today, toCsv(invoiceCsv, rows));
      }
      const page = await invoicePage(db, tenant.id, f, sort, q.limit ?? 50, after);
      const totals = await invoiceTotals(db, tenant.id, f);
      return {
        items: page.items.map((r) => ({
          ...r,
          total: money(r.totalMinor, r.currency),
          balance: money(r.balanceMinor, r.currency),
          pLate: r.prediction?.pLate ?? null,
          riskBand: r.prediction?.riskBand ?? null,
          predictedPayDate: r.prediction?.predictedPayDate ?? null,
        })),
        nextCursor: page.nextCursor,
        sort: `${sort.dir === 'desc' ? '-' : ''}${sort.key}`,
        asOf: f.today,
        total: totals.total,
        totals: totals.totals.map((t) => ({
          ...t,
          total: money(t.totalMinor, t.currency),
          balance: money(t.balanceMinor, t.currency),
          overdue: money(t.overdueMinor, t.currency),
        })),
      };
    });

    app.get('/tenants/:tenant/customers', async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(customerListQuery, req.query, 'querystring');
      const sort = parseSort(q.sort, CUSTOMER_SORTS, { key: 'name', dir: 'asc' });
      const f = customerFilterOf(services, q);
      const cur = tenant.currency;
      if (q.format === 'csv') {
        const rows = await allCustomers(db, tenant.id, f, sort);
        type R = (typeof rows)[number];
        const cols: CsvColumn<R>[] = [
          { header: 'Customer', value: (r) => r.name },
          { header: 'Customer ID', value: (r) => r.externalId },
          { header: 'Email', value: (r) => r.emails.join('; ') },
          { header: 'Open invoices', kind: 'number', value: (r) => r.openInvoices },
          { header: `Open balance (${cur})`, kind: 'number', value: (r) => money(r.openBalanceMinor, cur) },
          { header: `Overdue (${cur})`, kind: 'number', value: (r) => money(r.overdueMinor, cur) },
          { header: 'Oldest days overdue', kind: 'number', value: (r) => r.maxDaysOverdue },
          { header: 'Risk score', kind: 'number', value: (r) => r.riskScore },
          { header: 'Paused until', value: (r) => r.pausedUntil },
          { header: 'Excluded', value: (r) => (r.excluded ? 'yes' : '') },
          { header: 'Last contact', value: (r) => r.lastContactAt },
          { header: 'Next reminder', value: (r) => r.nextActionAt },
        ];
        return sendCsv(reply, `${tenant.slug}-customers`, f.today, toCsv(cols, rows));
      }
      const limit = q.limit ?? 100;
      const totals = await customerTotals(db, tenant.id, f);
      if (q.offset !== undefined && !q.cursor) {
        // Older clients page by offset: read up to offset + limit in sort order and slice.
        const first = await customerPage(db, tenant.id, f, sort, q.offset + limit);
        return { items: first.items.slice(q.offset), limit, offset: q.offset, nextCursor: null, ...totals };
      }
      const page = await customerPage(
        db,
        tenant.id,
        f,
        sort,
        limit,
        q.cursor ? decodeCursor(q.cursor) : undefined,
      );
      return { items: page.items, nextCursor: page.nextCursor, limit, currency: cur, ...totals };
    });

    app.get('/tenants/:tenant/dunning/messages', async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(messageListQuery, req.query, 'querystring');
      const sort = parseSort(q.sort, MESSAGE_SORTS, { key: 'createdAt', dir: 'desc' });
      const f = messageFilterOf(q);
      if (q.format === 'csv') {
        const keys = await allMessages(db, tenant.id, f, sort);
        const rows = await messageRows(keys.map((k) => k.id));
        const byId = new Map(rows.map((r) => [r.id, r]));
        const full = keys.flatMap((k) => {
          const m = byId.get(k.id);
          return m ? [{ ...k, m }] : [];
        });
        type R = (typeof full)[number];
        const cols: CsvColumn<R>[] = [
          { header: 'Send time', value: (r) => (r.m.sentAt ?? r.m.sendAt).toISOString() },
          { header: 'Customer', value: (r) => r.customerName },
          { header: 'Customer ID', value: (r) => r.customerExternalId },
          { header: 'To', value: (r) => r.m.to.join('; ') },
          { header: 'Status', value: (r) => r.m.status },
          { header: 'Delivery', value: (r) => r.m.deliveryStatus },
          { header: 'Tone', value: (r) => r.m.tone },
          { header: 'Subject', value: (r) => r.m.subject },
          { header: 'Invoices', kind: 'number', value: (r) => r.m.invoiceIds.length },
          { header: 'Amount', kind: 'number', value: (r) => money(r.amountMinor, tenant.currency) },
          { header: 'Reason', value: (r) => r.m.reason },
          { header: 'Status note', value: (r) => r.m.statusReason },
          { header: 'Decided by', value: (r) => r.m.decidedBy },
          { header: 'Message ID', value: (r) => r.m.id },
        ];
        return sendCsv(reply, `${tenant.slug}-messages`, isoDay(services.clock.now()), toCsv(cols, full));
      }
      const page = await messagePage(
        db,
        tenant.id,
        f,
        sort,
        q.limit ?? 100,
        q.cursor ? decodeCursor(q.cursor) : undefined,
      );
      const ids = page.items.map((k) => k.id);
      const rows = await messageRows(ids);
      const events =
        ids.length === 0
          ? []
          : await db
              .select()
              .from(dunningMessageEvents)
              .where(inArray(dunningMessageEvents.messageId, ids))
              .orderBy(dunningMessageEvents.at);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const totals = await messageTotals(db, tenant.id, f);
      return {
        items: page.items.flatMap((k) => {
          const m = byId.get(k.id);
          if (!m) return [];
          return [
            {
              ...messageView(
                m,
                events.filter((e) => e.messageId === m.id),
              ),
              customerName: k.customerName,
              customerExternalId: k.customerExternalId,
              amountMinor: k.amountMinor,
            },
          ];
        }),
        nextCursor: page.nextCursor,
        ...totals,
      };
    });

    async function messageRows(ids: string[]) {
      if (ids.length === 0) return [];
      const out: (typeof dunningMessages.$inferSelect)[] = [];
      for (let i = 0; i < ids.length; i += 1000) {
        out.push(
          ...(await db
            .select()
            .from(dunningMessages)
            .where(inArray(dunningMessages.id, ids.slice(i, i + 1000)))),
        );
      }
      return out;
    }

    // ---- bulk actions (collectors): one request, one transaction, a summary, an audit row ---------------------

    app.post('/tenants/:tenant/dunning/messages/bulk', { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const b = parseInput(messageBulkBody, req.body, 'body');
      let ids = b.ids;
      if (b.filter) {
        const q = parseInput(messageListQuery, asQuery(b.filter), 'filter');
        // Approving "all matching" means all matching that are waiting for approval.
        const f = messageFilterOf(b.action === 'approve' ? { ...q, status: 'awaiting_approval' } : q);
        ids = await messageIdsMatching(db, tenant.id, f);
      }
      return bulkDecideMessages(services, b.action, {
        tenantId: tenant.id,
        actor: actor(req),
        ids: capped(ids ?? []),
        request: b,
        reason: b.reason,
      });
    });

    app.post('/tenants/:tenant/customers/bulk', { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const b = parseInput(customerBulkBody, req.body, 'body');
      const ids = b.filter
        ? await customerIds(
            db,
            tenant.id,
            customerFilterOf(services, parseInput(customerListQuery, asQuery(b.filter), 'filter')),
          )
        : (b.ids ?? []);
      return bulkCustomers(services, b.action, {
        tenantId: tenant.id,
        actor: actor(req),
        ids: capped(ids),
        request: b,
        until: b.until,
      });
    });

    app.post('/tenants/:tenant/invoices/bulk', { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const b = parseInput(invoiceBulkBody, req.body, 'body');
      const ids = b.filter
        ? await invoiceIdsMatching(
            db,
            tenant.id,
            await invoiceFilterOf(
              services,
              tenant.id,
              parseInput(invoiceListQuery, asQuery(b.filter), 'filter'),
            ),
          )
        : (b.ids ?? []);
      return bulkDispute(services, b.action, {
        tenantId: tenant.id,
        actor: actor(req),
        ids: capped(ids),
        request: b,
        reason: b.reason,
        until: b.until,
        today: localParts(services.clock.now(), tenant.timezone).date,
      });
    });

    /**
     * "Find a contact", done right from the task: the address becomes the customer's dunning contact (an override,
     * keeping any pause or exclusion) and the task is done, with the address in its note.
     */
    app.post('/tenants/:tenant/dunning/tasks/:id/contact', { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(z.object({ id: z.uuid() }), req.params, 'path');
      const body = parseInput(z.object({ email: z.email().max(320) }), req.body, 'body');
      const email = body.email.toLowerCase();
      const by = actor(req);
      const now = services.clock.now();
      return db.transaction(async (tx) => {
        const [task] = await tx
          .select()
          .from(dunningTasks)
          .where(
            and(
              eq(dunningTasks.id, id),
              eq(dunningTasks.tenantId, tenant.id),
              eq(dunningTasks.status, 'open'),
            ),
          )
          .for('update');
        if (!task) throw notFound(`open task ${id}`);
        await tx.execute(sql`insert into dunning_overrides (tenant_id, customer_id, contact_emails, note, updated_at)
          values (${tenant.id}::uuid, ${task.customerId}::uuid, ${`{"${email}"}`}::text[], ${`Contact added by ${by}`},
            ${now.toISOString()}::timestamptz)
          on conflict (tenant_id, customer_id) where customer_id is not null
          do update set contact_emails = excluded.contact_emails, updated_at = excluded.updated_at`);
        const done = await completeTask(tx, tenant.id, id, by, `Contact: ${email}`, now);
        if (!done) throw notFound(`open task ${id}`);
        return { id, status: 'done', customerId: task.customerId, contactEmails: [email] };
      });
    });

    app.get('/tenants/:tenant/dunning/tasks', async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(taskListQuery, req.query, 'querystring');
      const sort = parseSort(q.sort, TASK_SORTS, { key: 'dueOn', dir: 'asc' });
      const f = {
        status: q.status,
        kind: q.kind,
        customerId: q.customer,
        q: q.q || undefined,
        minAmountMinor: q.minAmountMinor,
      };
      const keys =
        q.format === 'csv'
          ? { items: await allTasks(db, tenant.id, f, sort), nextCursor: null }
          : await taskPage(
              db,
              tenant.id,
              f,
              sort,
              q.limit ?? 500,
              q.cursor ? decodeCursor(q.cursor) : undefined,
            );
      const ids = keys.items.map((k) => k.id);
      const rows =
        ids.length === 0
          ? []
          : await db
              .select({
                task: dunningTasks,
                customerName: customers.name,
                customerExternalId: customers.externalId,
                customerEmails: customers.emails,
              })
              .from(dunningTasks)
              .innerJoin(customers, eq(customers.id, dunningTasks.customerId))
              .where(and(eq(dunningTasks.tenantId, tenant.id), inArray(dunningTasks.id, ids)));
      const byId = new Map(rows.map((r) => [r.task.id, r]));
      const items = keys.items.flatMap((k) => {
        const r = byId.get(k.id);
        if (!r) return [];
        return [
          {
            ...r.task,
            openMinor: k.openMinor,
            customer: { name: r.customerName, externalId: r.customerExternalId, emails: r.customerEmails },
          },
        ];
      });
      if (q.format === 'csv') {
        type R = (typeof items)[number];
        const cols: CsvColumn<R>[] = [
          { header: 'Due', value: (r) => r.dueOn },
          { header: 'Kind', value: (r) => r.kind },
          { header: 'Task', value: (r) => r.title },
          { header: 'Customer', value: (r) => r.customer.name },
          { header: 'Customer ID', value: (r) => r.customer.externalId },
          { header: 'Email', value: (r) => r.customer.emails.join('; ') },
          {
            header: `Open balance (${tenant.currency})`,
            kind: 'number',
            value: (r) => money(r.openMinor, tenant.currency),
          },
          { header: 'Status', value: (r) => r.status },
          { header: 'Done by', value: (r) => r.doneBy },
          { header: 'Note', value: (r) => r.note },
        ];
        return sendCsv(reply, `${tenant.slug}-tasks`, isoDay(services.clock.now()), toCsv(cols, items));
      }
      return { items, nextCursor: keys.nextCursor, ...(await taskTotals(db, tenant.id, f)) };
    });
  };
