import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import { findCustomer } from '../../db/queries/ledger';
import { modelChangeOf } from '../../db/queries/risk';
import {
  customerPredictionReasons,
  customerRiskList,
  customerRiskRow,
  invoiceWithPrediction,
  lockTenant,
  predictionList,
  tenantModelVersions,
  updateTenantSettings,
} from '../../db/queries/risk-views';
import type { Tenant } from '../../db/queries/tenants';
import { sendingSwitchesView } from '../../dunning/go-live';
import { notFound } from '../../errors';
import { scoreTenantJob } from '../../jobs/risk-jobs';
import { customerReasons, customerRiskHistory } from '../../risk/customer-risk-history';
import { COLLECTOR, tenantOf } from '../auth';
import * as contract from '../contracts/risk';

export const riskRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    /** Open invoices with their latest prediction, riskiest first. */
    app.get('/tenants/:tenant/predictions', { schema: contract.listPredictions }, async (req) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
      const rows = await predictionList(services.db, tenant.id, q);
      return { items: rows, limit: q.limit, offset: q.offset };
    });

    app.get(
      '/tenants/:tenant/invoices/:invoice/prediction',
      { schema: contract.invoicePrediction },
      async (req) => {
        const tenant = await tenantOf(req, services);
        const ref = req.params.invoice;
        const row = await invoiceWithPrediction(services.db, tenant.id, ref);
        if (!row) throw notFound(`invoice ${ref}`);
        if (!row.prediction)
          throw notFound(`prediction for invoice ${ref} (it is not open, or not scored yet)`);
        return { invoiceExternalId: row.externalId, ...row.prediction };
      },
    );

    app.get(
      '/tenants/:tenant/customers/:customer/risk',
      { schema: contract.getCustomerRisk },
      async (req) => {
        const tenant = await tenantOf(req, services);
        const ref = req.params.customer;
        const customer = await findCustomer(services.db, tenant.id, ref);
        if (!customer) throw notFound(`customer ${ref}`);
        const risk = await customerRiskRow(services.db, customer.id);
        // Not scored yet (no invoice history, or no scoring run since the import) is an answer, not a missing
        // resource: the same shape with nulls, so the Customer page asks without a failed request. 404 = no customer.
        if (!risk) {
          return {
            customerExternalId: customer.externalId,
            customerId: customer.id,
            tenantId: tenant.id,
            scored: false,
            score: null,
            habitScore: null,
            openDebtScore: null,
            openDebtReason: null,
            pLate: null,
            pSevere: null,
            expectedDaysLate: null,
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
        // Band on the customer cut-offs at the tenant's sensitivity, from the account's score (the worse of the
        // habit and the open debt's collection risk); reasons: the doubtful open debt first, when there is some,
        // then those of the customer's scored open invoices.
        const bandOf = await services.risk.bandsFor(tenant);
        const predictions = await customerPredictionReasons(services.db, tenant.id, customer.id);
        return {
          customerExternalId: customer.externalId,
          ...risk,
          scored: true,
          band: bandOf(risk.score / 100),
          history: customerRiskHistory(risk),
          reasons: customerReasons(predictions, 5, risk.openDebtReason),
        };
      },
    );

    /** Customers by risk score, with the slowing-payer alert. */
    app.get('/tenants/:tenant/customer-risk', { schema: contract.listCustomerRisk }, async (req) => {
      const tenant = await tenantOf(req, services);
      const rows = await customerRiskList(services.db, tenant.id);
      return {
        items: rows.map((r) => ({ ...r.risk, customerExternalId: r.externalId, customerName: r.name })),
      };
    });

    /** The model registry: the active model (tenant's own or the shipped default) and every tenant version. */
    app.get('/tenants/:tenant/models', { schema: contract.models }, async (req) => {
      const tenant = await tenantOf(req, services);
      const m = await services.risk.activeManifest(tenant.id);
      const versions = await tenantModelVersions(services.db, tenant.id);
      const change = await modelChangeOf(services.db, tenant.id);
      return {
        active: {
          version: m.version,
          createdAt: m.createdAt,
          scoring: m.scoring ?? 'model',
          validation: m.validation as Record<string, unknown> | null,
          thresholds: m.thresholds,
          training: m.training as unknown as Record<string, unknown>,
        },
        change,
        versions,
      };
    });

    app.post('/tenants/:tenant/score', { config: COLLECTOR, schema: contract.score }, async (req, reply) => {
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
        ...services.dunning.effectiveSender(tenant),
      };
    };

    app.get('/tenants/:tenant/settings', { schema: contract.getSettings }, async (req) => {
      const tenant = await tenantOf(req, services);
      return settingsView(tenant);
    });

    /** Tenant settings the model and the emails read; a change of sensitivity re-scores. */
    app.patch('/tenants/:tenant/settings', { schema: contract.patchSettings }, async (req) => {
      const tenant = await tenantOf(req, services);
      const body = req.body;
      const { timezone, locale, sender, paymentDetails, ...rest } = body;
      const set: Record<string, unknown> = { ...rest };
      if (sender) set.sender = sender;
      if (paymentDetails) set.paymentDetails = paymentDetails;
      // null removes a key (back to the defaults).
      const drop = [
        ...(sender === null ? ['sender'] : []),
        ...(paymentDetails === null ? ['paymentDetails'] : []),
      ];
      const updated = await services.db.transaction(async (tx) => {
        // Serializes switch changes: the transition (off → live, live → paused …) is decided on the locked row.
        const before = await lockTenant(tx, tenant.id);
        const row = await updateTenantSettings(tx, tenant.id, {
          set,
          drop,
          timezone,
          locale,
          now: services.clock.now(),
        });
        if (rest.sensitivity !== undefined) {
          await services.queue.send(
            scoreTenantJob,
            { tenantId: tenant.id, reason: 'sensitivity changed' },
            { tx },
          );
        }
        await services.dunning.applySendingSwitches(tx, before, row);
        return row;
      });
      return settingsView(updated);
    });
  };
