/**
 * Dunning API: policy, overrides, promises-to-pay, disputes, the outbox/message log with "why this message, now",
 * approvals (approve, skip, edit), the call list, "plan now", and a rendered preview of a sequence step.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import type { DbOrTx } from '../../db/client';
import {
  activePromises,
  cancelPromise,
  customerById,
  customerOfTenant,
  deleteOverride,
  eventsOfMessage,
  insertDispute,
  insertPolicyVersion,
  insertPromise,
  invoicesOfTenant,
  lockOpenDisputeOf,
  messageOfTenant,
  overrideOf,
  tenantDisputes,
  tenantOverrides,
  updateDispute,
  upsertOverride,
} from '../../db/queries/dunning-settings';
import type { dunningMessageEvents } from '../../db/schema';
import type { MessageRow } from '../../dunning/compose-email';
import { loadDunningConfig } from '../../dunning/dunning-config';
import { approvalVersion } from '../../dunning/engine';
import { debtorZone, localParts } from '../../dunning/local-time';
import { dunningSettingsSchema, parsePolicyForWrite, parseWith } from '../../dunning/policy';
import { reasonsNow, renderAsOf, UNSENT_STATUSES, viewedVersion } from '../../dunning/send-message';
import { parseDraftStep } from '../../dunning/step-preview';
import { completeTask } from '../../dunning/tasks';
import { teamCopy } from '../../dunning/unsubscribe-token';
import { AppError, notFound } from '../../errors';
import { actorName, COLLECTOR, principalOf, tenantOf, VIEWER } from '../auth';
import * as contract from '../contracts/dunning';
import { EMAIL_PREVIEW_CSP } from '../web';

/** The audit name of the person (or token) making the request. */
export function actor(req: FastifyRequest): string {
  return actorName(principalOf(req));
}

function invalid(where: string, errors: string[]): AppError {
  return new AppError('invalid_request', `Invalid ${where}: ${errors.join('; ')}`, 400, {
    details: errors.map((e) => {
      const i = e.indexOf(': ');
      return { field: i > 0 ? e.slice(0, i) : where, message: i > 0 ? e.slice(i + 2) : e };
    }),
  });
}

async function requireCustomer(db: DbOrTx, tenantId: string, id: string) {
  const c = await customerOfTenant(db, tenantId, id);
  if (!c) throw notFound(`customer ${id}`);
  return c;
}

async function requireInvoices(db: DbOrTx, tenantId: string, ids: string[]) {
  const rows = await invoicesOfTenant(db, tenantId, ids);
  if (rows.length !== new Set(ids).size)
    throw notFound(`invoice ${ids.find((i) => !rows.some((r) => r.id === i))}`);
  return rows;
}

/**
 * The log view of a message: everything the reviewer needs to see why it exists and what became of it. `reasons`:
 * its reason and approval reason as its email reads (reasonsNow: an unsent one's counted to the day it will be
 * rendered for); the stored ones without it.
 */
export function messageView(
  m: MessageRow,
  events: (typeof dunningMessageEvents.$inferSelect)[] = [],
  reasons: { reason: string; approvalReason: string | null } = m,
  /** The approvalVersion as the reviewer sees it now (viewedVersion); without the render day when not given. */
  version?: string,
) {
  const { html: _html, text: _text, ...rest } = m;
  return {
    ...rest,
    approvalVersion:
      version ??
      approvalVersion({ ...m, snapshot: m.snapshot as Parameters<typeof approvalVersion>[0]['snapshot'] }),
    reason: reasons.reason,
    approvalReason: reasons.approvalReason,
    why: {
      reason: reasons.reason,
      approvalReason: reasons.approvalReason,
      statusReason: m.statusReason,
      templateVersion: m.templateVersion,
      snapshot: m.snapshot,
    },
    events: events.map((e) => ({ type: e.type, at: e.at, detail: e.detail })),
  };
}

export const dunningRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { db } = services;
    const base = '/tenants/:tenant/dunning';

    // ---- policy -----------------------------------------------------------------------------------------------
    app.get(`${base}/policy`, { schema: contract.getPolicy }, async (req) => {
      const tenant = await tenantOf(req, services);
      const config = await loadDunningConfig(db, tenant);
      return config;
    });

    /** Replaces the policy and/or settings; validated, errors name the field ("sequences[1].steps[0].offsetDays: …"). */
    app.put(`${base}/policy`, { schema: contract.putPolicy }, async (req) => {
      const tenant = await tenantOf(req, services);
      const body = req.body;
      const current = await loadDunningConfig(db, tenant);
      const errors: string[] = [];
      const policy =
        body.policy === undefined
          ? { ok: true as const, value: current.policy }
          : parsePolicyForWrite(body.policy);
      if (!policy.ok) errors.push(...policy.errors.map((e) => `policy.${e}`));
      const settings =
        body.settings === undefined
          ? { ok: true as const, value: current.settings }
          : parseWith(dunningSettingsSchema, body.settings);
      if (!settings.ok) errors.push(...settings.errors.map((e) => `settings.${e}`));
      if (!policy.ok || !settings.ok) throw invalid('policy', errors);
      const version = await db.transaction(async (tx) => {
        const v = await insertPolicyVersion(tx, tenant.id, {
          policy: policy.value as unknown as Record<string, unknown>,
          settings: settings.value as unknown as Record<string, unknown>,
          createdBy: actor(req),
        });
        // Reminders already queued were planned under the old version: planned again under this one, in the same
        // transaction, so a stricter approval rule or threshold holds them before their send time.
        await services.dunning.replanPending(tx, tenant.id);
        return v;
      });
      return { version, policy: policy.value, settings: settings.value };
    });

    // ---- overrides --------------------------------------------------------------------------------------------
    app.get(`${base}/overrides`, { schema: contract.listOverrides }, async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: await tenantOverrides(db, tenant.id) };
    });

    /** Upsert: one override per customer and per invoice. */
    app.put(`${base}/overrides`, { config: COLLECTOR, schema: contract.putOverride }, async (req) => {
      const tenant = await tenantOf(req, services);
      const o = req.body;
      if (o.customerId) await requireCustomer(db, tenant.id, o.customerId);
      const customerId = o.invoiceId
        ? (await requireInvoices(db, tenant.id, [o.invoiceId]))[0]!.customerId
        : o.customerId;
      if (o.sequenceId) {
        const { policy } = await loadDunningConfig(db, tenant);
        if (!policy.sequences.some((s) => s.id === o.sequenceId))
          throw invalid('body', [`sequenceId: no sequence with id '${o.sequenceId}'`]);
      }
      const values = {
        pausedUntil: o.pausedUntil ?? null,
        excluded: o.excluded ?? false,
        sequenceId: o.sequenceId ?? null,
        contactEmails: o.contactEmails ?? null,
        note: o.note ?? null,
        updatedBy: actor(req),
        updatedAt: services.clock.now(),
      };
      // Manual recipients are the one way addresses not in the ledger get mail: audited with who set them.
      if (o.contactEmails)
        req.log.info(
          {
            tenantId: tenant.id,
            customerId: o.customerId,
            invoiceId: o.invoiceId,
            recipients: o.contactEmails.length,
            by: values.updatedBy,
          },
          'manual recipients set',
        );
      return db.transaction(async (tx) => {
        const target = { customerId: o.customerId, invoiceId: o.invoiceId };
        // What it held: an override that clears its contact or sequence re-routes as much as one that sets them.
        const before = await overrideOf(tx, tenant.id, target);
        const row = await upsertOverride(tx, tenant.id, target, values);
        // What will be sent changes with it, in this transaction (a pause withdraws what was planned, with its reason).
        // Another contact or sequence (set, changed or cleared) without a hold: the customer's reminders already
        // waiting are planned again (they would go to the old address); with a hold they are withdrawn now and
        // re-planned when it ends.
        const rerouted = o.contactEmails || o.sequenceId || before?.contactEmails || before?.sequenceId;
        if (rerouted && !o.pausedUntil && !o.excluded && customerId)
          await services.dunning.replanPending(tx, tenant.id, [customerId]);
        else await services.dunning.planIn(tx, tenant.id);
        return row;
      });
    });

    app.delete(
      `${base}/overrides/:id`,
      { config: COLLECTOR, schema: contract.deleteOverride },
      async (req, reply) => {
        const tenant = await tenantOf(req, services);
        const { id } = req.params;
        await db.transaction(async (tx) => {
          const gone = await deleteOverride(tx, tenant.id, id);
          if (!gone) throw notFound(`override ${id}`);
          // It named a contact or a sequence: what waits for that customer was planned with it and is planned again.
          const customerId = gone.invoiceId
            ? (await requireInvoices(tx, tenant.id, [gone.invoiceId]))[0]!.customerId
            : gone.customerId;
          if ((gone.contactEmails || gone.sequenceId) && customerId)
            await services.dunning.replanPending(tx, tenant.id, [customerId]);
          else await services.dunning.planIn(tx, tenant.id);
        });
        return reply.status(204).send(null);
      },
    );

    // ---- promises to pay --------------------------------------------------------------------------------------
    app.get(`${base}/promises`, { schema: contract.listPromises }, async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: await activePromises(db, tenant.id) };
    });

    app.post(`${base}/promises`, { config: COLLECTOR, schema: contract.postPromise }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const p = req.body;
      await requireCustomer(db, tenant.id, p.customerId);
      const invs = await requireInvoices(db, tenant.id, p.invoiceIds);
      const foreign = invs.find((i) => i.customerId !== p.customerId);
      if (foreign)
        throw invalid('body', [
          `invoiceIds: invoice ${foreign.number ?? foreign.externalId} belongs to another customer`,
        ]);
      const row = await db.transaction(async (tx) => {
        const r = await insertPromise(tx, { tenantId: tenant.id, ...p });
        await services.dunning.planIn(tx, tenant.id);
        return r;
      });
      return reply.status(201).send(row);
    });

    app.delete(
      `${base}/promises/:id`,
      { config: COLLECTOR, schema: contract.deletePromise },
      async (req, reply) => {
        const tenant = await tenantOf(req, services);
        const { id } = req.params;
        await db.transaction(async (tx) => {
          if (!(await cancelPromise(tx, tenant.id, id, services.clock.now())))
            throw notFound(`promise ${id}`);
          await services.dunning.planIn(tx, tenant.id);
        });
        return reply.status(204).send(null);
      },
    );

    // ---- disputes ---------------------------------------------------------------------------------------------
    app.get(`${base}/disputes`, { schema: contract.listDisputes }, async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: await tenantDisputes(db, tenant.id) };
    });

    app.post(`${base}/disputes`, { config: COLLECTOR, schema: contract.postDispute }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const d = req.body;
      const [inv] = await requireInvoices(db, tenant.id, [d.invoiceId]);
      const openedOn = d.openedOn ?? localParts(services.clock.now(), tenant.timezone).date;
      const row = await db.transaction(async (tx) => {
        // One open dispute an invoice: a second would stay open when the one on screen is resolved.
        const open = await lockOpenDisputeOf(tx, tenant.id, d.invoiceId);
        if (open)
          throw new AppError(
            'already_disputed',
            `Invoice ${inv!.number ?? inv!.externalId} already has an open dispute (${open.id}): change or resolve that one`,
            409,
          );
        const r = await insertDispute(tx, {
          tenantId: tenant.id,
          invoiceId: d.invoiceId,
          openedOn,
          until: d.until,
          reason: d.reason ?? null,
        });
        await services.dunning.planIn(tx, tenant.id);
        return r;
      });
      return reply.status(201).send(row);
    });

    /** Resolve (or change the pause date of) a dispute. */
    app.patch(`${base}/disputes/:id`, { config: COLLECTOR, schema: contract.patchDispute }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = req.params;
      const body = req.body;
      return db.transaction(async (tx) => {
        const row = await updateDispute(tx, tenant.id, id, {
          ...(body.until !== undefined ? { until: body.until } : {}),
          ...(body.resolved !== undefined ? { resolvedAt: body.resolved ? services.clock.now() : null } : {}),
        });
        if (!row) throw notFound(`dispute ${id}`);
        await services.dunning.planIn(tx, tenant.id);
        return row;
      });
    });

    // ---- messages: outbox, log, approvals ---------------------------------------------------------------------
    // GET …/messages (the outbox and log as a list): src/http/routes/lists.ts.

    async function messageOf(req: FastifyRequest) {
      const tenant = await tenantOf(req, services);
      const { id } = req.params as { id: string };
      const m = await messageOfTenant(db, tenant.id, id);
      if (!m) throw notFound(`message ${id}`);
      return { tenant, m };
    }

    /** The message's view with its reasons as its email reads today (reasonsNow). */
    async function viewNow(
      tenant: { timezone: string | null },
      m: MessageRow,
      events?: (typeof dunningMessageEvents.$inferSelect)[],
    ) {
      const c = await customerById(db, m.customerId);
      const zone = debtorZone(c, tenant);
      const now = services.clock.now();
      return messageView(m, events, reasonsNow(m, zone, now), viewedVersion(m, zone, now));
    }

    app.get(`${base}/messages/:id`, { schema: contract.getMessage }, async (req) => {
      const { tenant, m } = await messageOf(req);
      return viewNow(tenant, m, await eventsOfMessage(db, m.id));
    });

    /**
     * The email as sent (stored), or as it will be sent (rendered from the snapshot with any edits, as of its planned
     * send time, as send-message.ts renders it: a reviewer on Saturday sees Monday's "days overdue" and date).
     */
    app.get(`${base}/messages/:id/rendered`, { schema: contract.renderedMessage }, async (req, reply) => {
      const { tenant, m } = await messageOf(req);
      const q = req.query;
      let email: { subject: string; html: string; text: string; templateVersion: string | null };
      const c = await customerById(db, m.customerId);
      // Unsent: rendered as the send will render it (a stored body for a day that has passed is rendered again).
      const asOf = UNSENT_STATUSES.has(m.status)
        ? renderAsOf(m, debtorZone(c, tenant), services.clock.now())
        : null;
      if (m.html && m.text && m.subject && !asOf) {
        email = { subject: m.subject, html: m.html, text: m.text, templateVersion: m.templateVersion };
      } else {
        email = await services.dunning.composeEmail(m, tenant, c!, asOf ?? m.sendAt);
      }
      email = teamCopy(email, services.config.PUBLIC_URL, services.config.APP_SECRET, m.id);
      if (q.format === 'html')
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', EMAIL_PREVIEW_CSP)
          .send(email.html);
      if (q.format === 'text') return reply.type('text/plain; charset=utf-8').send(email.text);
      return { id: m.id, to: m.to, status: m.status, ...email };
    });

    app.post(
      `${base}/messages/:id/approve`,
      { config: COLLECTOR, schema: contract.approveMessage },
      async (req) => {
        const { tenant, m } = await messageOf(req);
        const approved = await services.dunning.approve(tenant.id, m.id, actor(req), req.body?.version);
        return viewNow(tenant, approved);
      },
    );

    app.post(
      `${base}/messages/:id/skip`,
      { config: COLLECTOR, schema: contract.skipMessage },
      async (req) => {
        const { tenant, m } = await messageOf(req);
        const body = req.body;
        return viewNow(tenant, await services.dunning.skip(tenant.id, m.id, actor(req), body?.reason));
      },
    );

    app.patch(`${base}/messages/:id`, { config: COLLECTOR, schema: contract.editMessage }, async (req) => {
      const { tenant, m } = await messageOf(req);
      const body = req.body;
      return viewNow(tenant, await services.dunning.edit(tenant.id, m.id, actor(req), body));
    });

    // ---- planning ---------------------------------------------------------------------------------------------
    /** Runs the planner now; returns what it wrote and every customer's decision. */
    app.post(`${base}/plan`, { config: COLLECTOR, schema: contract.plan }, async (req) => {
      const tenant = await tenantOf(req, services);
      const r = await services.dunning.plan(tenant.id);
      return {
        planned: r.inserted,
        cancelled: r.cancelled,
        receipts: r.receipts,
        decisions: r.decisions as unknown as Record<string, unknown>[],
      };
    });

    /** The sequence editor's preview: a saved step rendered for a real invoice, as the debtor would see it. */
    app.get(`${base}/preview`, { schema: contract.previewSaved }, async (req) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
      const config = await loadDunningConfig(db, tenant);
      const seq = config.policy.sequences.find((s) => s.id === q.sequence);
      if (!seq) throw notFound(`sequence ${q.sequence}`);
      const step = seq.steps[q.step];
      if (!step) throw notFound(`step ${q.step} of sequence ${q.sequence}`);
      const preview = await services.dunning.previewStep(tenant, {
        invoiceId: q.invoice,
        sequence: seq,
        stepIndex: q.step,
        step,
        timezone: config.settings.timezone,
      });
      return { ...preview, source: 'saved' as const };
    });

    /**
     * The same preview for an unsaved step from the editor: `draft` is checked by the policy's own step rules
     * (errors name the field, "draft.tone: …") and nothing is stored.
     */
    app.post(`${base}/preview`, { config: VIEWER, schema: contract.previewDraft }, async (req) => {
      const tenant = await tenantOf(req, services);
      const body = req.body;
      const draft = parseDraftStep(body.draft, 'draft');
      if (!draft.ok) throw invalid('body', draft.errors);
      const config = await loadDunningConfig(db, tenant);
      const saved = config.policy.sequences.find((s) => s.id === body.sequence);
      const preview = await services.dunning.previewStep(tenant, {
        invoiceId: body.invoice,
        // A sequence not saved yet previews under its id.
        sequence: { id: body.sequence, name: saved?.name ?? body.sequence },
        stepIndex: body.step,
        step: draft.value,
        timezone: config.settings.timezone,
      });
      return { ...preview, source: 'draft' as const };
    });

    /** The Dashboard's first-run checklist: sending on or off, what would be sent, what is left before go-live. */
    app.get(`${base}/go-live`, { schema: contract.goLive }, async (req) => {
      const tenant = await tenantOf(req, services);
      return services.dunning.goLiveStatus(db, tenant);
    });

    /** The dashboard's "Sending today": today's sends in the tenant's timezone, held and already-sent counts. */
    app.get(`${base}/today`, { schema: contract.today }, async (req) => {
      const tenant = await tenantOf(req, services);
      const q = req.query;
      return services.dunning.sendingToday(tenant, q.limit);
    });

    // ---- tasks (call list) ------------------------------------------------------------------------------------
    // GET …/tasks (the call list): src/http/routes/lists.ts.

    app.post(`${base}/tasks/:id/done`, { config: COLLECTOR, schema: contract.taskDone }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = req.params;
      const body = req.body;
      const ok = await completeTask(db, tenant.id, id, actor(req), body?.note ?? null, services.clock.now());
      if (!ok) throw notFound(`open task ${id}`);
      return { id, status: 'done' as const };
    });
  };
