/**
 * Dunning API: policy, overrides, promises-to-pay, disputes, the outbox/message log with "why this message, now",
 * approvals (approve, skip, edit), the call list, "plan now", and a rendered preview of a sequence step.
 */
import { and, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type DbOrTx, rowsOf } from '../../db/client';
import {
  customers,
  disputes,
  dunningMessageEvents,
  dunningMessages,
  dunningOverrides,
  dunningPolicies,
  invoices,
  promisesToPay,
} from '../../db/schema';
import { approveMessage, editMessage, skipMessage } from '../../dunning/approvals';
import { composeEmail, type MessageRow } from '../../dunning/compose-email';
import { loadDunningConfig } from '../../dunning/dunning-config';
import { planTenant, planTenantIn } from '../../dunning/engine';
import { goLiveStatus } from '../../dunning/go-live';
import { localParts } from '../../dunning/local-time';
import { emailAddressSchema, headerTextSchema } from '../../dunning/header-safe';
import { dunningSettingsSchema, MAX_CONTACT_EMAILS, parsePolicy, parseWith } from '../../dunning/policy';
import { sendingToday } from '../../dunning/sending-today';
import { parseDraftStep, previewStep } from '../../dunning/step-preview';
import { completeTask } from '../../dunning/tasks';
import { AppError, notFound } from '../../errors';
import type { Services } from '../../services';
import { actorName, COLLECTOR, principalOf, tenantOf, VIEWER } from '../auth';
import { parseInput } from '../validate';
import { EMAIL_PREVIEW_CSP } from '../web';

const isoDate = z.iso.date();
const uuid = z.uuid();

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

const overrideBody = z
  .object({
    customerId: uuid.optional(),
    invoiceId: uuid.optional(),
    pausedUntil: isoDate.nullable().optional(),
    excluded: z.boolean().optional(),
    sequenceId: z.string().min(1).max(64).nullable().optional(),
    contactEmails: z.array(emailAddressSchema()).min(1).max(MAX_CONTACT_EMAILS).nullable().optional(),
    note: z.string().max(2000).nullable().optional(),
  })
  .refine((o) => (o.customerId === undefined) !== (o.invoiceId === undefined), {
    message: 'give exactly one of customerId or invoiceId',
    path: ['customerId'],
  });

const promiseBody = z.object({
  customerId: uuid,
  invoiceIds: z.array(uuid).min(1),
  promisedDate: isoDate,
  amountMinor: z.int().positive().optional(),
  graceDays: z.int().min(0).max(14).default(2),
  note: z.string().max(2000).optional(),
});

const disputeBody = z.object({
  invoiceId: uuid,
  openedOn: isoDate.optional(),
  until: isoDate.nullable().default(null),
  reason: z.string().max(2000).optional(),
});

const editBody = z
  .object({
    subject: headerTextSchema(200, 'the subject').nullable().optional(),
    intro: z.string().trim().min(1).max(2000).nullable().optional(),
  })
  .refine((e) => e.subject !== undefined || e.intro !== undefined, { message: 'give subject or intro' });

async function requireCustomer(db: DbOrTx, tenantId: string, id: string) {
  const [c] = await db
    .select()
    .from(customers)
    .where(and(eq(customers.id, id), eq(customers.tenantId, tenantId)));
  if (!c) throw notFound(`customer ${id}`);
  return c;
}

async function requireInvoices(db: DbOrTx, tenantId: string, ids: string[]) {
  const rows = await db
    .select()
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, ids)));
  if (rows.length !== new Set(ids).size)
    throw notFound(`invoice ${ids.find((i) => !rows.some((r) => r.id === i))}`);
  return rows;
}

/** The log view of a message: everything the reviewer needs to see why it exists and what became of it. */
export function messageView(m: MessageRow, events: (typeof dunningMessageEvents.$inferSelect)[] = []) {
  const { html: _html, text: _text, ...rest } = m;
  return {
    ...rest,
    why: {
      reason: m.reason,
      approvalReason: m.approvalReason,
      statusReason: m.statusReason,
      templateVersion: m.templateVersion,
      snapshot: m.snapshot,
    },
    events: events.map((e) => ({ type: e.type, at: e.at, detail: e.detail })),
  };
}

export const dunningRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const { db } = services;
    const base = '/tenants/:tenant/dunning';

    // ---- policy -----------------------------------------------------------------------------------------------
    app.get(`${base}/policy`, async (req) => {
      const tenant = await tenantOf(req, services);
      const config = await loadDunningConfig(db, tenant);
      return config;
    });

    /** Replaces the policy and/or settings; validated, errors name the field ("sequences[1].steps[0].offsetDays: …"). */
    app.put(`${base}/policy`, async (req) => {
      const tenant = await tenantOf(req, services);
      const body = parseInput(
        z.object({ policy: z.unknown().optional(), settings: z.unknown().optional() }),
        req.body,
        'body',
      );
      const current = await loadDunningConfig(db, tenant);
      const errors: string[] = [];
      const policy =
        body.policy === undefined ? { ok: true as const, value: current.policy } : parsePolicy(body.policy);
      if (!policy.ok) errors.push(...policy.errors.map((e) => `policy.${e}`));
      const settings =
        body.settings === undefined
          ? { ok: true as const, value: current.settings }
          : parseWith(dunningSettingsSchema, body.settings);
      if (!settings.ok) errors.push(...settings.errors.map((e) => `settings.${e}`));
      if (!policy.ok || !settings.ok) throw invalid('policy', errors);
      const version = await db.transaction(async (tx) => {
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtextextended(${`dunning-policy:${tenant.id}`}, 0))`,
        );
        const [{ v } = { v: 0 }] = rowsOf<{ v: number }>(
          await tx.execute(
            sql`select coalesce(max(version), 0)::int as v from dunning_policies where tenant_id = ${tenant.id}::uuid`,
          ),
        );
        await tx.insert(dunningPolicies).values({
          tenantId: tenant.id,
          version: v + 1,
          policy: policy.value as unknown as Record<string, unknown>,
          settings: settings.value as unknown as Record<string, unknown>,
          createdBy: actor(req),
        });
        return v + 1;
      });
      return { version, policy: policy.value, settings: settings.value };
    });

    // ---- overrides --------------------------------------------------------------------------------------------
    app.get(`${base}/overrides`, async (req) => {
      const tenant = await tenantOf(req, services);
      return {
        items: await db.select().from(dunningOverrides).where(eq(dunningOverrides.tenantId, tenant.id)),
      };
    });

    /** Upsert: one override per customer and per invoice. */
    app.put(`${base}/overrides`, { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const o = parseInput(overrideBody, req.body, 'body');
      if (o.customerId) await requireCustomer(db, tenant.id, o.customerId);
      if (o.invoiceId) await requireInvoices(db, tenant.id, [o.invoiceId]);
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
      const target = o.customerId
        ? eq(dunningOverrides.customerId, o.customerId)
        : eq(dunningOverrides.invoiceId, o.invoiceId!);
      return db.transaction(async (tx) => {
        const [existing] = await tx
          .select({ id: dunningOverrides.id })
          .from(dunningOverrides)
          .where(and(eq(dunningOverrides.tenantId, tenant.id), target))
          .for('update');
        const [row] = existing
          ? await tx
              .update(dunningOverrides)
              .set(values)
              .where(eq(dunningOverrides.id, existing.id))
              .returning()
          : await tx
              .insert(dunningOverrides)
              .values({
                tenantId: tenant.id,
                customerId: o.customerId ?? null,
                invoiceId: o.invoiceId ?? null,
                ...values,
              })
              .returning();
        // What will be sent changes with it, in this transaction (a pause withdraws what was planned).
        await planTenantIn(services, tx, tenant.id);
        return row;
      });
    });

    app.delete(`${base}/overrides/:id`, { config: COLLECTOR }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(z.object({ id: uuid }), req.params, 'path');
      await db.transaction(async (tx) => {
        const rows = await tx
          .delete(dunningOverrides)
          .where(and(eq(dunningOverrides.id, id), eq(dunningOverrides.tenantId, tenant.id)))
          .returning({ id: dunningOverrides.id });
        if (rows.length === 0) throw notFound(`override ${id}`);
        await planTenantIn(services, tx, tenant.id);
      });
      return reply.status(204).send();
    });

    // ---- promises to pay --------------------------------------------------------------------------------------
    app.get(`${base}/promises`, async (req) => {
      const tenant = await tenantOf(req, services);
      return {
        items: await db
          .select()
          .from(promisesToPay)
          .where(and(eq(promisesToPay.tenantId, tenant.id), isNull(promisesToPay.cancelledAt)))
          .orderBy(promisesToPay.promisedDate),
      };
    });

    app.post(`${base}/promises`, { config: COLLECTOR }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const p = parseInput(promiseBody, req.body, 'body');
      await requireCustomer(db, tenant.id, p.customerId);
      const invs = await requireInvoices(db, tenant.id, p.invoiceIds);
      const foreign = invs.find((i) => i.customerId !== p.customerId);
      if (foreign)
        throw invalid('body', [
          `invoiceIds: invoice ${foreign.number ?? foreign.externalId} belongs to another customer`,
        ]);
      const row = await db.transaction(async (tx) => {
        const [r] = await tx
          .insert(promisesToPay)
          .values({ tenantId: tenant.id, ...p })
          .returning();
        await planTenantIn(services, tx, tenant.id);
        return r;
      });
      return reply.status(201).send(row);
    });

    app.delete(`${base}/promises/:id`, { config: COLLECTOR }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(z.object({ id: uuid }), req.params, 'path');
      await db.transaction(async (tx) => {
        const rows = await tx
          .update(promisesToPay)
          .set({ cancelledAt: services.clock.now() })
          .where(
            and(
              eq(promisesToPay.id, id),
              eq(promisesToPay.tenantId, tenant.id),
              isNull(promisesToPay.cancelledAt),
            ),
          )
          .returning({ id: promisesToPay.id });
        if (rows.length === 0) throw notFound(`promise ${id}`);
        await planTenantIn(services, tx, tenant.id);
      });
      return reply.status(204).send();
    });

    // ---- disputes ---------------------------------------------------------------------------------------------
    app.get(`${base}/disputes`, async (req) => {
      const tenant = await tenantOf(req, services);
      return {
        items: await db
          .select()
          .from(disputes)
          .where(eq(disputes.tenantId, tenant.id))
          .orderBy(desc(disputes.createdAt)),
      };
    });

    app.post(`${base}/disputes`, { config: COLLECTOR }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const d = parseInput(disputeBody, req.body, 'body');
      await requireInvoices(db, tenant.id, [d.invoiceId]);
      const openedOn = d.openedOn ?? localParts(services.clock.now(), tenant.timezone).date;
      const row = await db.transaction(async (tx) => {
        const [r] = await tx
          .insert(disputes)
          .values({
            tenantId: tenant.id,
            invoiceId: d.invoiceId,
            openedOn,
            until: d.until,
            reason: d.reason ?? null,
          })
          .returning();
        await planTenantIn(services, tx, tenant.id);
        return r;
      });
      return reply.status(201).send(row);
    });

    /** Resolve (or change the pause date of) a dispute. */
    app.patch(`${base}/disputes/:id`, { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(z.object({ id: uuid }), req.params, 'path');
      const body = parseInput(
        z.object({ resolved: z.boolean().optional(), until: isoDate.nullable().optional() }),
        req.body,
        'body',
      );
      return db.transaction(async (tx) => {
        const [row] = await tx
          .update(disputes)
          .set({
            ...(body.until !== undefined ? { until: body.until } : {}),
            ...(body.resolved !== undefined
              ? { resolvedAt: body.resolved ? services.clock.now() : null }
              : {}),
          })
          .where(and(eq(disputes.id, id), eq(disputes.tenantId, tenant.id)))
          .returning();
        if (!row) throw notFound(`dispute ${id}`);
        await planTenantIn(services, tx, tenant.id);
        return row;
      });
    });

    // ---- messages: outbox, log, approvals ---------------------------------------------------------------------
    // GET …/messages (the outbox and log as a list): src/http/routes/lists.ts.

    async function messageOf(req: FastifyRequest) {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(z.object({ id: z.string().min(1).max(64) }), req.params, 'path');
      const [m] = await db
        .select()
        .from(dunningMessages)
        .where(and(eq(dunningMessages.id, id), eq(dunningMessages.tenantId, tenant.id)));
      if (!m) throw notFound(`message ${id}`);
      return { tenant, m };
    }

    app.get(`${base}/messages/:id`, async (req) => {
      const { m } = await messageOf(req);
      const events = await db
        .select()
        .from(dunningMessageEvents)
        .where(eq(dunningMessageEvents.messageId, m.id))
        .orderBy(dunningMessageEvents.at);
      return messageView(m, events);
    });

    /** The email as sent (stored), or as it would be sent now (rendered from the snapshot with any edits). */
    app.get(`${base}/messages/:id/rendered`, async (req, reply) => {
      const { tenant, m } = await messageOf(req);
      const q = parseInput(
        z.object({ format: z.enum(['json', 'html', 'text']).default('json') }),
        req.query,
        'querystring',
      );
      let email: { subject: string; html: string; text: string; templateVersion: string | null };
      if (m.html && m.text && m.subject) {
        email = { subject: m.subject, html: m.html, text: m.text, templateVersion: m.templateVersion };
      } else {
        const [c] = await db.select().from(customers).where(eq(customers.id, m.customerId));
        email = await composeEmail(services, m, tenant, c!, services.clock.now());
      }
      if (q.format === 'html')
        return reply
          .type('text/html; charset=utf-8')
          .header('content-security-policy', EMAIL_PREVIEW_CSP)
          .send(email.html);
      if (q.format === 'text') return reply.type('text/plain; charset=utf-8').send(email.text);
      return { id: m.id, to: m.to, status: m.status, ...email };
    });

    app.post(`${base}/messages/:id/approve`, { config: COLLECTOR }, async (req) => {
      const { tenant, m } = await messageOf(req);
      return messageView(await approveMessage(services, tenant.id, m.id, actor(req)));
    });

    app.post(`${base}/messages/:id/skip`, { config: COLLECTOR }, async (req) => {
      const { tenant, m } = await messageOf(req);
      const body = parseInput(
        z.object({ reason: z.string().max(500).optional() }).optional(),
        req.body ?? undefined,
        'body',
      );
      return messageView(await skipMessage(services, tenant.id, m.id, actor(req), body?.reason));
    });

    app.patch(`${base}/messages/:id`, { config: COLLECTOR }, async (req) => {
      const { tenant, m } = await messageOf(req);
      const body = parseInput(editBody, req.body, 'body');
      return messageView(await editMessage(services, tenant.id, m.id, actor(req), body));
    });

    // ---- planning ---------------------------------------------------------------------------------------------
    /** Runs the planner now; returns what it wrote and every customer's decision. */
    app.post(`${base}/plan`, { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const r = await planTenant(services, tenant.id);
      return { planned: r.inserted, cancelled: r.cancelled, receipts: r.receipts, decisions: r.decisions };
    });

    /** The sequence editor's preview: a saved step rendered for a real invoice, as the debtor would see it. */
    app.get(`${base}/preview`, async (req) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(
        z.object({
          invoice: uuid,
          sequence: z.string().min(1).max(64),
          step: z.coerce.number().int().min(0).max(11),
        }),
        req.query,
        'querystring',
      );
      const config = await loadDunningConfig(db, tenant);
      const seq = config.policy.sequences.find((s) => s.id === q.sequence);
      if (!seq) throw notFound(`sequence ${q.sequence}`);
      const step = seq.steps[q.step];
      if (!step) throw notFound(`step ${q.step} of sequence ${q.sequence}`);
      const preview = await previewStep(services, tenant, {
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
    app.post(`${base}/preview`, { config: VIEWER }, async (req) => {
      const tenant = await tenantOf(req, services);
      const body = parseInput(
        z.object({
          invoice: uuid,
          sequence: z.string().min(1).max(64),
          step: z.int().min(0).max(11),
          draft: z.unknown(),
        }),
        req.body,
        'body',
      );
      const draft = parseDraftStep(body.draft, 'draft');
      if (!draft.ok) throw invalid('body', draft.errors);
      const config = await loadDunningConfig(db, tenant);
      const saved = config.policy.sequences.find((s) => s.id === body.sequence);
      const preview = await previewStep(services, tenant, {
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
    app.get(`${base}/go-live`, async (req) => {
      const tenant = await tenantOf(req, services);
      return goLiveStatus(services, db, tenant);
    });

    /** The dashboard's "Sending today": today's sends in the tenant's timezone, held and already-sent counts. */
    app.get(`${base}/today`, async (req) => {
      const tenant = await tenantOf(req, services);
      const q = parseInput(
        z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        req.query,
        'querystring',
      );
      return sendingToday(services, tenant, q.limit);
    });

    // ---- tasks (call list) ------------------------------------------------------------------------------------
    // GET …/tasks (the call list): src/http/routes/lists.ts.

    app.post(`${base}/tasks/:id/done`, { config: COLLECTOR }, async (req) => {
      const tenant = await tenantOf(req, services);
      const { id } = parseInput(z.object({ id: uuid }), req.params, 'path');
      const body = parseInput(
        z.object({ note: z.string().max(2000).optional() }).optional(),
        req.body ?? undefined,
        'body',
      );
      const ok = await completeTask(db, tenant.id, id, actor(req), body?.note ?? null, services.clock.now());
      if (!ok) throw notFound(`open task ${id}`);
      return { id, status: 'done' };
    });
  };
