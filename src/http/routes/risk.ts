import { and, desc, eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { findCustomer, predictionColumns } from '../../db/queries/ledger';
import type { Tenant } from '../../db/queries/tenants';
import {
  customerRisk,
  customers,
  invoicePredictions,
  invoices,
  modelVersions,
  tenants,
} from '../../db/schema';
import { applySendingSwitches, sendingSwitchesView } from '../../dunning/go-live';
import { paymentDetailsSchema } from '../../dunning/payment-details';
import { effectiveSender, senderSettingsSchema } from '../../dunning/sender-settings';
import { notFound } from '../../errors';
import { scoreTenantJob } from '../../jobs/risk-jobs';
import { customerReasons, customerRiskHistory } from '../../risk/customer-risk-history';
import { activeManifest, customerBandOf } from '../../risk/service';
import type { Services } from '../../services';
import { COLLECTOR, tenantOf } from '../auth';
import { parseInput } from '../validate';

const predictionQuery = z.object({
  band: z.enum(['low', 'medium', 'high']).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
  offset: z.coerce.number().int().min(0).default(0),
});

const settingsPatch = z
  .object({
    /** Moves the late/not-late threshold: +1 flags more invoices as risky, -1 fewer (log-odds). */
    sensitivity: z.number().min(-3).max(3),
    timezone: z
      .string()
      .max(64, { message: 'not an IANA time zone', abort: true })
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'not an IANA time zone'),
    locale: z.string().min(2).max(35),
    /** The sender block of dunning emails; null goes back to the defaults (tenant name, MAIL_FROM's address). */
    sender: senderSettingsSchema.nullable(),
    /** Go-live (src/dunning/go-live.ts): off for a new company; nothing is sent until it is on. */
    sendingEnabled: z.boolean(),
    /** "Pause all sending": stops everything at once; resuming re-plans what waited. */
    sendingPaused: z.boolean(),
    /** First-run checklist: the team has read the reminder sequences. */
    sequencesReviewed: z.boolean(),
    /** "How to pay" in every reminder when an invoice has no pay link; null removes it. */
    paymentDetails: paymentDetailsSchema.nullable(),
  })
  .partial()
  .strict();

export const riskRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    /** Open invoices with their latest prediction, riskiest first. */
    app.get('/tenants/:tenant/predictions', async (req) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(predictionQuery, req.query, 'querystring');
      const where = [eq(invoicePredictions.tenantId, tenant.id)];
      if (q.band) where.push(eq(invoicePredictions.riskBand, q.band));
      const rows = await services.db
        .select({
          invoiceId: invoices.id,
          invoiceExternalId: invoices.externalId,
          number: invoices.number,
          customerId: customers.id,
          customerExternalId: customers.externalId,
          customerName: customers.name,
          dueDate: invoices.dueDate,
          balanceMinor: invoices.balanceMinor,
          currency: invoices.currency,
          ...predictionColumns,
          asOf: invoicePredictions.asOf,
        })
        .from(invoicePredictions)
        .innerJoin(invoices, eq(invoices.id, invoicePredictions.invoiceId))
        .innerJoin(customers, eq(customers.id, invoicePredictions.customerId))
        .where(and(...where))
        .orderBy(desc(invoicePredictions.pLate), invoices.id)
        .limit(q.limit)
        .offset(q.offset);
      return { items: rows, limit: q.limit, offset: q.offset };
    });

    app.get('/tenants/:tenant/invoices/:invoice/prediction', async (req) => {
      const tenant = await tenantOf(req, services);
      const ref = (req.params as { invoice: string }).invoice;
      const isUuid = /^[0-9a-f-]{36}$/i.test(ref);
      const [row] = await services.db
        .select({ prediction: invoicePredictions, externalId: invoices.externalId })
        .from(invoices)
        .leftJoin(invoicePredictions, eq(invoicePredictions.invoiceId, invoices.id))
        .where(
          and(eq(invoices.tenantId, tenant.id), isUuid ? eq(invoices.id, ref) : eq(invoices.externalId, ref)),
        )
        .limit(1);
      if (!row) throw notFound(`invoice ${ref}`);
      if (!row.prediction)
        throw notFound(`prediction for invoice ${ref} (it is not open, or not scored yet)`);
      return { invoiceExternalId: row.externalId, ...row.prediction };
    });

    app.get('/tenants/:tenant/customers/:customer/risk', async (req) => {
      const tenant = await tenantOf(req, services);
      const ref = (req.params as { customer: string }).customer;
      const customer = await findCustomer(services.db, tenant.id, ref);
      if (!customer) throw notFound(`customer ${ref}`);
      const [risk] = await services.db
        .select()
        .from(customerRisk)
        .where(eq(customerRisk.customerId, customer.id));
      // Not scored yet (no invoice history, or no scoring run since the import) is an answer, not a missing
      // resource: the same shape with nulls, so the Customer page asks without a failed request. 404 = no customer.
      if (!risk) {
        return {
          customerExternalId: customer.externalId,
          customerId: customer.id,
          tenantId: tenant.id,
          scored: false,
          score: null,
          trend30: null,
          trend90: null,
          slowingAlert: false,
          message: null,
          modelVersion: null,
          asOf: null,
          scoredAt: null,
          band: null,
          history: [],
          reasons: [],
        };
      }
      // Band on the model's own validated thresholds (the same cut as the invoice bands), at the tenant's
      // sensitivity; reasons from the customer's scored open invoices.
      const bandOf = await customerBandOf(services.db, tenant);
      const predictions = await services.db
        .select({ pLate: invoicePredictions.pLate, reasons: invoicePredictions.reasons })
        .from(invoicePredictions)
        .where(
          and(eq(invoicePredictions.tenantId, tenant.id), eq(invoicePredictions.customerId, customer.id)),
        );
      return {
        customerExternalId: customer.externalId,
        ...risk,
        scored: true,
        band: bandOf(risk.score / 100),
        history: customerRiskHistory(risk),
        reasons: customerReasons(predictions),
      };
    });

    /** Customers by risk score, with the slowing-payer alert. */
    app.get('/tenants/:tenant/customer-risk', async (req) => {
      const tenant = await tenantOf(req, services);
      const rows = await services.db
        .select({ risk: customerRisk, externalId: customers.externalId, name: customers.name })
        .from(customerRisk)
        .innerJoin(customers, eq(customers.id, customerRisk.customerId))
        .where(eq(customerRisk.tenantId, tenant.id))
        .orderBy(desc(customerRisk.slowingAlert), desc(customerRisk.score))
        .limit(500);
      return {
        items: rows.map((r) => ({ ...r.risk, customerExternalId: r.externalId, customerName: r.name })),
      };
    });

    /** The model registry: the active model (tenant's own or the shipped default) and every tenant version. */
    app.get('/tenants/:tenant/models', async (req) => {
      const tenant = await tenantOf(req, services);
      const m = await activeManifest(services.db, tenant.id);
      const versions = await services.db
        .select({
          version: modelVersions.version,
          status: modelVersions.status,
          reason: modelVersions.reason,
          comparison: modelVersions.comparison,
          createdAt: modelVersions.createdAt,
          promotedAt: modelVersions.promotedAt,
        })
        .from(modelVersions)
        .where(eq(modelVersions.tenantId, tenant.id))
        .orderBy(desc(modelVersions.createdAt));
      return {
        active: {
          version: m.version,
          createdAt: m.createdAt,
          validation: m.validation,
          thresholds: m.thresholds,
          training: m.training,
        },
        versions,
      };
    });

    app.post('/tenants/:tenant/score', { config: COLLECTOR }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const jobId = await services.queue.send(scoreTenantJob, { tenantId: tenant.id, reason: 'requested' });
      return reply.status(202).send({ queued: jobId !== null, jobId });
    });

    /** The settings as they take effect: the sender is the one emails will use, defaults included. */
    const settingsView = (tenant: Tenant) => {
      const { sender: _stored, ...rest } = tenant.settings;
      return {
        timezone: tenant.timezone,
        locale: tenant.locale,
        currency: tenant.currency,
        ...rest,
        ...sendingSwitchesView(tenant),
        ...effectiveSender(tenant, services),
      };
    };

    app.get('/tenants/:tenant/settings', async (req) => {
      const tenant = await tenantOf(req, services);
      return settingsView(tenant);
    });

    /** Tenant settings the model and the emails read; a change of sensitivity re-scores. */
    app.patch('/tenants/:tenant/settings', async (req) => {
      const tenant = await tenantOf(req, services);
      const body = parseInput(settingsPatch, req.body, 'body');
      const { timezone, locale, sender, paymentDetails, ...rest } = body;
      const set: Record<string, unknown> = { ...rest };
      if (sender) set.sender = sender;
      if (paymentDetails) set.paymentDetails = paymentDetails;
      // Merged in SQL, so two editors saving different keys at once (sender, sensitivity) keep both changes.
      const merged = sql`(${tenants.settings} - ${sender === null ? 'sender' : ''}::text - ${paymentDetails === null ? 'paymentDetails' : ''}::text) || ${JSON.stringify(set)}::jsonb`;
      const updated = await services.db.transaction(async (tx) => {
        // Serializes switch changes: the transition (off → live, live → paused …) is decided on the locked row.
        const [before] = await tx.select().from(tenants).where(eq(tenants.id, tenant.id)).for('update');
        const [row] = await tx
          .update(tenants)
          .set({
            settings: merged,
            ...(timezone ? { timezone } : {}),
            ...(locale ? { locale } : {}),
            updatedAt: services.clock.now(),
          })
          .where(eq(tenants.id, tenant.id))
          .returning();
        if (rest.sensitivity !== undefined) {
          await services.queue.send(
            scoreTenantJob,
            { tenantId: tenant.id, reason: 'sensitivity changed' },
            { tx },
          );
        }
        await applySendingSwitches(services, tx, before!, row!);
        return row!;
      });
      return settingsView(updated);
    });
  };
