/**
 * The lists a finance team works in: invoices, customers, dunning messages and tasks. Each takes filters in the query
 * string, `q` (search: invoice number, customer name or id, email), `sort` (a column; `-` for descending), keyset
 * pages (`limit`, `cursor` → `nextCursor`) and `format=csv` (every row of the same filtered set, formula-safe). JSON
 * answers carry `total` (the filtered count) and the totals of the filtered set.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { fromMinor } from '../../../connectors/money';
import type { Services } from '../../app-services';
import { isoDay } from '../../clock';
import { currentSnapshot } from '../../db/queries/dunning-admin';
import { renderDays } from '../../db/queries/dunning-send';
import { findCustomer } from '../../db/queries/ledger';
import {
  allCustomers,
  allInvoices,
  allMessages,
  allTasks,
  CUSTOMER_SORTS,
  customerIds,
  customerPage,
  customersAtRisk,
  customerTotals,
  decodeCursor,
  INVOICE_SORTS,
  type InvoiceListRow,
  invoiceIdsMatching,
  invoicePage,
  invoiceTotals,
  lockOpenTask,
  MESSAGE_SORTS,
  messageEvents,
  messageIdsMatching,
  messagePage,
  messagesByIds,
  messageTotals,
  parseSort,
  setCustomerContact,
  TASK_SORTS,
  taskPage,
  tasksWithCustomers,
  taskTotals,
} from '../../db/queries/lists';
import type { BulkResult } from '../../dunning/bulk';
import { localParts } from '../../dunning/local-time';
import { reasonsNow, viewedVersion } from '../../dunning/send-message';
import { completeTask } from '../../dunning/tasks';
import { AppError, notFound } from '../../errors';
import { COLLECTOR, tenantOf } from '../auth';
import * as contract from '../contracts/lists';
import {
  BULK_MAX,
  type CustomerListQuery,
  customerBulkFilter,
  type InvoiceListQuery,
  invoiceBulkFilter,
  type MessageListQuery,
  messageBulkFilter,
} from '../contracts/lists';
import { type CsvColumn, sendCsv, toCsv } from '../csv-export';
import { parseInput } from '../validate';
import { actor, messageView } from './dunning';

const money = (m: number, currency: string) => fromMinor(m, currency);

/** A filter object from a JSON body, read as the list's query string would be. */
const asQuery = (f: Record<string, string | number | boolean>) =>
  Object.fromEntries(Object.entries(f).map(([k, v]) => [k, String(v)]));

function capped(ids: string[]): string[] {
  if (ids.length > BULK_MAX) {
    throw new AppError('too_many_rows', `${ids.length} rows match; act on at most ${BULK_MAX} at once`, 400);
  }
  return [...new Set(ids)];
}

const DAY = 86_400_000;
/** A `to` day includes the whole day. */
const instantOf = (v: string, end: boolean) =>
  v.length === 10 ? new Date(Date.parse(`${v}T00:00:00Z`) + (end ? DAY : 0)) : new Date(v);

/**
 * The day a list's overdue, aging and days-overdue count to: the clock's (UTC) day, a CSV company's export day when
 * earlier, as on its dashboard (analytics ledgerDay), so that an aging bucket's drill-down lists what the bucket holds.
 */
const listDay = async (services: Services, tenant: { id: string; source: string }) =>
  (await services.analytics.ledgerDay(tenant, isoDay(services.clock.now()))).day;

/** The invoice filter of a query (shared with the bulk actions' "all matching"). */
export async function invoiceFilterOf(
  services: Services,
  tenant: { id: string; source: string },
  q: Omit<InvoiceListQuery, 'format'>,
) {
  const tenantId = tenant.id;
  let customerId: string | undefined;
  if (q.customer) {
    const c = await findCustomer(services.db, tenantId, q.customer);
    if (!c) throw notFound(`customer ${q.customer}`);
    customerId = c.id;
  }
  return {
    today: await listDay(services, tenant),
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

export async function customerFilterOf(
  services: Services,
  tenant: { id: string; source: string; currency: string },
  q: Omit<CustomerListQuery, 'format'>,
) {
  return {
    today: await listDay(services, tenant),
    currency: q.currency ?? tenant.currency,
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

/** The exports' words for what a next reminder waits for (the lists' nextReminderWaits / nextActionWaits). */
const WAITS_WORDS: Record<string, string> = { approval: 'approval', upload: 'a newer upload', '': '' };

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
  { header: 'Next reminder waits for', value: (r) => WAITS_WORDS[r.nextReminderWaits ?? ''] },
];

export const listRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { db } = services;

    /** Each listed message's reason and approval reason as its email reads (reasonsNow, in its debtor's zone). */
    async function reasonsOf(ids: string[]) {
      const zones = new Map((await renderDays(db, ids)).map((r) => [r.id, r.zone]));
      const now = services.clock.now();
      return (m: Parameters<typeof reasonsNow>[0] & { id: string }) =>
        reasonsNow(m, zones.get(m.id) ?? 'UTC', now);
    }

    /** Each listed message's approvalVersion as the reviewer sees it (viewedVersion, in its debtor's zone). */
    async function versionsOf(ids: string[]) {
      const zones = new Map((await renderDays(db, ids)).map((r) => [r.id, r.zone]));
      const now = services.clock.now();
      return (m: Parameters<typeof viewedVersion>[0]) => viewedVersion(m, zones.get(m.id) ?? 'UTC', now);
    }

    app.get('/tenants/:tenant/invoices', { schema: contract.listInvoices }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
      const sort = parseSort(q.sort, INVOICE_SORTS, { key: 'dueDate', dir: 'asc' });
      const after = q.cursor ? decodeCursor(q.cursor) : undefined;
      const f = await invoiceFilterOf(services, tenant, q);
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
          pCollect30: r.prediction?.pCollect30 ?? null,
          pCollect90: r.prediction?.pCollect90 ?? null,
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

    app.get('/tenants/:tenant/customers', { schema: contract.listCustomers }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
      const sort = parseSort(q.sort, CUSTOMER_SORTS, { key: 'name', dir: 'asc' });
      const f = await customerFilterOf(services, tenant, q);
      const cur = f.currency;
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
          { header: 'Next reminder waits for', value: (r) => WAITS_WORDS[r.nextActionWaits ?? ''] },
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

    /**
     * "Customers at risk" (the Dashboard): per currency, by risk score × the open balance in it, the tenant's currency
     * first (db/queries/lists.ts customersAtRisk).
     */
    app.get('/tenants/:tenant/customers-at-risk', { schema: contract.customersAtRisk }, async (req) => {
      const tenant = await tenantOf(req, services);
      const groups = await customersAtRisk(db, tenant.id, {
        today: await listDay(services, tenant),
        currency: tenant.currency,
        limit: req.query.limit,
      });
      return { currency: tenant.currency, groups };
    });

    app.get('/tenants/:tenant/dunning/messages', { schema: contract.listMessages }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
      const sort = parseSort(q.sort, MESSAGE_SORTS, { key: 'sendAt', dir: 'desc' });
      const f = messageFilterOf(q);
      // Taken before anything is read: a message written after it may or may not show as it now reads.
      const listedAt = services.clock.now().toISOString();
      // And the database's snapshot then: a write stamped before listedAt but committed after the reads below is not
      // on this list (bulk.ts, writtenOutsideSnapshot).
      const listedSnapshot = await currentSnapshot(db);
      if (q.format === 'csv') {
        const keys = await allMessages(db, tenant.id, f, sort);
        const rows = await messagesByIds(
          db,
          keys.map((k) => k.id),
        );
        const byId = new Map(rows.map((r) => [r.id, r]));
        const full = keys.flatMap((k) => {
          const m = byId.get(k.id);
          return m ? [{ ...k, m }] : [];
        });
        const reasons = await reasonsOf([...byId.keys()]);
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
          { header: 'Reason', value: (r) => reasons(r.m).reason },
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
      const rows = await messagesByIds(db, ids);
      const events = await messageEvents(db, ids);
      const byId = new Map(rows.map((r) => [r.id, r]));
      const totals = await messageTotals(db, tenant.id, f);
      // Reasons as each email reads (an unsent one's counted to the day it will be rendered for).
      const reasons = await reasonsOf(ids);
      const versions = await versionsOf(ids);
      return {
        items: page.items.flatMap((k) => {
          const m = byId.get(k.id);
          if (!m) return [];
          return [
            {
              ...messageView(
                m,
                events.filter((e) => e.messageId === m.id),
                reasons(m),
                versions(m),
              ),
              customerName: k.customerName,
              customerExternalId: k.customerExternalId,
              amountMinor: k.amountMinor,
            },
          ];
        }),
        nextCursor: page.nextCursor,
        ...totals,
        listedAt,
        listedSnapshot,
      };
    });

    // ---- bulk actions (collectors): one request, one transaction, a summary, an audit row ---------------------

    /**
     * What every bulk action gets: the tenant, who asked, the rows (by id, or every row matching the list's filter,
     * read as that list's query string would be; at most BULK_MAX) and the request itself for the audit row.
     */
    async function bulkRequest(
      req: FastifyRequest,
      tenantId: string,
      body: { ids?: string[]; filter?: Record<string, string | number | boolean> },
      matching: (filter: Record<string, string>) => Promise<string[]>,
    ) {
      const ids = body.filter ? await matching(asQuery(body.filter)) : (body.ids ?? []);
      return { tenantId, actor: actor(req), ids: capped(ids), request: body };
    }

    app.post(
      '/tenants/:tenant/dunning/messages/bulk',
      { config: COLLECTOR, schema: contract.bulkMessages },
      async (req): Promise<BulkResult> => {
        const tenant = await tenantOf(req, services);
        const b = req.body;
        const r = await bulkRequest(req, tenant.id, b, (filter) => {
          const q = parseInput(messageBulkFilter, filter, 'filter');
          // Approving "all matching" means all matching that are waiting for approval.
          const f = messageFilterOf(b.action === 'approve' ? { ...q, status: 'awaiting_approval' } : q);
          return messageIdsMatching(db, tenant.id, f);
        });
        return services.dunning.bulk.decideMessages(b.action, {
          ...r,
          reason: b.reason,
          versions: b.versions,
          listedAt: b.listedAt ? new Date(b.listedAt) : undefined,
          listedSnapshot: b.listedSnapshot,
        });
      },
    );

    app.post(
      '/tenants/:tenant/customers/bulk',
      { config: COLLECTOR, schema: contract.bulkCustomers },
      async (req): Promise<BulkResult> => {
        const tenant = await tenantOf(req, services);
        const b = req.body;
        const r = await bulkRequest(req, tenant.id, b, async (filter) =>
          customerIds(
            db,
            tenant.id,
            await customerFilterOf(services, tenant, parseInput(customerBulkFilter, filter, 'filter')),
          ),
        );
        if (b.action === 'send_statement') return services.dunning.bulk.sendStatements(r);
        return services.dunning.bulk.customers(b.action, { ...r, until: b.until });
      },
    );

    app.post(
      '/tenants/:tenant/invoices/bulk',
      { config: COLLECTOR, schema: contract.bulkInvoices },
      async (req): Promise<BulkResult> => {
        const tenant = await tenantOf(req, services);
        const b = req.body;
        const r = await bulkRequest(req, tenant.id, b, async (filter) =>
          invoiceIdsMatching(
            db,
            tenant.id,
            await invoiceFilterOf(services, tenant, parseInput(invoiceBulkFilter, filter, 'filter')),
          ),
        );
        return services.dunning.bulk.dispute(b.action, {
          ...r,
          reason: b.reason,
          until: b.until,
          today: localParts(services.clock.now(), tenant.timezone).date,
        });
      },
    );

    /**
     * "Find a contact", done right from the task: the address becomes the customer's dunning contact (an override,
     * keeping any pause or exclusion) and the task is done, with the address in its note.
     */
    app.post(
      '/tenants/:tenant/dunning/tasks/:id/contact',
      { config: COLLECTOR, schema: contract.addTaskContact },
      async (req) => {
        const tenant = await tenantOf(req, services);
        const { id } = req.params;
        const email = req.body.email.toLowerCase();
        const by = actor(req);
        const now = services.clock.now();
        return db.transaction(async (tx) => {
          const task = await lockOpenTask(tx, tenant.id, id);
          if (!task) throw notFound(`open task ${id}`);
          await setCustomerContact(tx, tenant.id, task.customerId, email, `Contact added by ${by}`, now);
          const done = await completeTask(tx, tenant.id, id, by, `Contact: ${email}`, now);
          if (!done) throw notFound(`open task ${id}`);
          // As an override naming a contact (PUT …/overrides): what waits for the customer goes to the new address,
          // approved ones back to a reviewer, and invoices waiting for an address are planned now.
          await services.dunning.replanPending(tx, tenant.id, [task.customerId]);
          return { id, status: 'done' as const, customerId: task.customerId, contactEmails: [email] };
        });
      },
    );

    app.get('/tenants/:tenant/dunning/tasks', { schema: contract.listTasks }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
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
      const rows = await tasksWithCustomers(
        db,
        tenant.id,
        keys.items.map((k) => k.id),
      );
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
