import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { daysBetween } from '../../../connectors/dates';
import { fromMinor } from '../../../connectors/money';
import type { Services } from '../../app-services';
import { isoDay } from '../../clock';
import { customerLedger, findCustomer } from '../../db/queries/ledger';
import { listTenants } from '../../db/queries/tenants';
import { notFound } from '../../errors';
import { principalOf, tenantOf } from '../auth';
import * as contract from '../contracts/ledger';

const money = (minor: number, currency: string) => fromMinor(minor, currency);

export const ledgerRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/tenants', { schema: contract.listTenants }, async (req) => {
      const rows = await listTenants(services.db, principalOf(req).tenantId);
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

    // GET …/invoices and …/customers (the lists): src/http/routes/lists.ts.

    app.get('/tenants/:tenant/customers/:customer', { schema: contract.getCustomer }, async (req) => {
      const tenant = await tenantOf(req, services);
      const ref = req.params.customer;
      const customer = await findCustomer(services.db, tenant.id, ref);
      if (!customer) throw notFound(`customer ${ref}`);
      const ledger = await customerLedger(services.db, tenant.id, customer.id);
      // Every open invoice shows its pay link, whether or not a reminder has covered it yet (read once from the host).
      const links = await services.dunning.ensurePayLinks(
        tenant.id,
        ledger.invoices.filter((i) => i.status === 'open' && !i.payLink).map((i) => i.id),
      );
      for (const i of ledger.invoices) i.payLink ??= links.get(i.id) ?? null;
      // A CSV company's figures count to its export's day, as its dashboard's and lists' do.
      const today = (await services.analytics.ledgerDay(tenant, isoDay(services.clock.now()))).day;
      const openByCurrency: Record<string, number> = {};
      for (const inv of ledger.invoices) {
        if (inv.status === 'open')
          openByCurrency[inv.currency] = (openByCurrency[inv.currency] ?? 0) + inv.balanceMinor;
      }
      const allocationsByPayment = Map.groupBy(ledger.allocations, (a) => a.paymentId ?? '');
      const applicationsByCredit = Map.groupBy(ledger.creditApplications, (a) => a.creditMemoId ?? '');
      return {
        customer,
        /** The app clock's day (UTC; a CSV company's export day when earlier) these figures are as of: daysOverdue counts to it. */
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
        creditMemos: ledger.creditMemos.map((c) => ({
          ...c,
          total: money(c.totalMinor, c.currency),
          remaining: money(c.remainingMinor, c.currency),
          applications: (applicationsByCredit.get(c.id) ?? []).map((a) => ({
            invoiceId: a.invoiceId,
            amountMinor: a.amountMinor,
            amount: money(a.amountMinor, c.currency),
            date: a.date,
          })),
        })),
      };
    });
  };
