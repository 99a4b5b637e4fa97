import { eq } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { fromMinor } from '../../../connectors/money';
import { isoDay } from '../../clock';
import { customerLedger, findCustomer, listCustomers, listInvoices } from '../../db/queries/ledger';
import { tenants } from '../../db/schema';
import { AppError, notFound } from '../../errors';
import type { Services } from '../../services';
import { principalOf, tenantOf } from '../auth';
import { parseInput } from '../validate';

const DAY = 86_400_000;
const daysBetween = (from: string, to: string) => Math.round((Date.parse(to) - Date.parse(from)) / DAY);

const invoiceQuery = z.object({
  status: z.enum(['open', 'paid', 'void', 'deleted']).optional(),
  overdue: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  customer: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/** Opaque keyset cursor: base64url of "dueDate|id". */
const encodeCursor = (dueDate: string, id: string) => Buffer.from(`${dueDate}|${id}`).toString('base64url');
const cursorParts = z.tuple([z.iso.date(), z.uuid()]);
function decodeCursor(cursor: string): { dueDate: string; id: string } {
  // Crafted cursors are input like any other: both parts are checked before they reach SQL (a non-uuid id or
  // a 2013-99-99 date would otherwise fail in the database as a 500).
  const parts = cursorParts.safeParse(Buffer.from(cursor, 'base64url').toString('utf8').split('|'));
  if (!parts.success) {
    throw new AppError(
      'invalid_request',
      'Invalid querystring: cursor: not a cursor from a previous page',
      400,
    );
  }
  const [dueDate, id] = parts.data;
  return { dueDate, id };
}

const money = (minor: number, currency: string) => fromMinor(minor, currency);

export const ledgerRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    app.get('/tenants', async (req) => {
      const { tenantId } = principalOf(req);
      const q = services.db.select().from(tenants);
      const rows = tenantId === null ? await q : await q.where(eq(tenants.id, tenantId));
      return {
        items: rows.map((t) => ({
          id: t.id,
          slug: t.slug,
          name: t.name,
          source: t.source,
          timezone: t.timezone,
          currency: t.currency,
        })),
      };
    });

    app.get('/tenants/:tenant/invoices', async (req) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(invoiceQuery, req.query, 'querystring');
      const today = isoDay(services.clock.now());
      let customerId: string | undefined;
      if (q.customer) {
        const c = await findCustomer(services.db, tenant.id, q.customer);
        if (!c) throw notFound(`customer ${q.customer}`);
        customerId = c.id;
      }
      const rows = await listInvoices(services.db, tenant.id, {
        status: q.status,
        overdue: q.overdue,
        customerId,
        today,
        limit: q.limit + 1,
        after: q.cursor ? decodeCursor(q.cursor) : undefined,
      });
      const page = rows.slice(0, q.limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => ({
          ...r,
          total: money(r.totalMinor, r.currency),
          balance: money(r.balanceMinor, r.currency),
          daysOverdue: r.status === 'open' && r.dueDate < today ? daysBetween(r.dueDate, today) : 0,
        })),
        nextCursor: rows.length > q.limit && last ? encodeCursor(last.dueDate, last.id) : null,
      };
    });

    app.get('/tenants/:tenant/customers', async (req) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(pageQuery, req.query, 'querystring');
      const rows = await listCustomers(services.db, tenant.id, q.limit, q.offset);
      return { items: rows, limit: q.limit, offset: q.offset };
    });

    app.get('/tenants/:tenant/customers/:customer', async (req) => {
      const tenant = await tenantOf(req, services);
      const ref = (req.params as { customer: string }).customer;
      const customer = await findCustomer(services.db, tenant.id, ref);
      if (!customer) throw notFound(`customer ${ref}`);
      const ledger = await customerLedger(services.db, tenant.id, customer.id);
      const today = isoDay(services.clock.now());
      const openByCurrency: Record<string, number> = {};
      for (const inv of ledger.invoices) {
        if (inv.status === 'open')
          openByCurrency[inv.currency] = (openByCurrency[inv.currency] ?? 0) + inv.balanceMinor;
      }
      const allocationsByPayment = Map.groupBy(ledger.allocations, (a) => a.paymentId ?? '');
      return {
        customer,
        /** The app clock's day (UTC) these figures are as of: daysOverdue counts to it. */
        asOf: today,
        openBalance: Object.entries(openByCurrency).map(([currency, minor]) => ({
          currency,
          balanceMinor: minor,
          balance: money(minor, currency),
        })),
        invoices: ledger.invoices.map((i) => ({
          ...i,
          total: money(i.totalMinor, i.currency),
          balance: money(i.balanceMinor, i.currency),
          daysOverdue: i.status === 'open' && i.dueDate < today ? daysBetween(i.dueDate, today) : 0,
        })),
        payments: ledger.payments.map((p) => ({
          ...p,
          amount: money(p.amountMinor, p.currency),
          unapplied: money(p.unappliedMinor, p.currency),
          allocations: (allocationsByPayment.get(p.id) ?? []).map((a) => ({
            invoiceId: a.invoiceId,
            creditMemoId: a.creditMemoId,
            amountMinor: a.amountMinor,
            amount: money(a.amountMinor, p.currency),
            date: a.date,
          })),
        })),
      };
    });
  };
