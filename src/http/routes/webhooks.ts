/**
 * POST /webhooks/:provider: change notifications from a connected ledger. The connector verifies the signature
 * over the exact raw body with its configured secret (Intuit: `intuit-signature`, HMAC with
 * QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN) and parses the events; each names its company, and one sync is enqueued per
 * active connection of (provider, company). Unknown providers, or ones without webhooks, answer 404.
 */
import type { FastifyPluginAsync } from 'fastify';
import { connectorFor, isProvider, registeredConnectors } from '../../../connectors';
import type { WebhookEvent } from '../../../connectors/types';
import { syncConnectionJob } from '../../jobs/sync-jobs';
import type { Services } from '../../app-services';
import type { EnqueueSync } from '../../sync/connect-flow';
import { shortNameOf } from '../../sync/connections';
import { PUBLIC } from '../auth';

export const providerWebhookRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const enqueueSync: EnqueueSync = (connectionId, reason, tx) =>
      services.queue.send(syncConnectionJob, { connectionId, reason }, tx ? { tx } : undefined);
    const contentTypes = [
      ...new Set([
        'application/json',
        ...registeredConnectors.flatMap((c) => c.webhooks?.contentTypes ?? []),
      ]),
    ];
    await app.register(async (hooks) => {
      // Signatures cover the exact bytes received: keep the body raw in this route's own context.
      hooks.addContentTypeParser(contentTypes, { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      hooks.post('/webhooks/:provider', { config: PUBLIC }, async (req, reply) => {
        const provider = (req.params as { provider: string }).provider;
        const c = isProvider(provider) ? connectorFor(provider) : null;
        const spec = c?.webhooks;
        if (!c || !spec || !isProvider(provider)) {
          return reply.status(404).send({ error: { code: 'not_found', message: 'no such webhook' } });
        }
        const short = shortNameOf(c);
        const raw = Buffer.isBuffer(req.body)
          ? req.body
          : Buffer.from(typeof req.body === 'string' ? req.body : '');
        const secret = spec.secret?.(services.config);
        if (!secret) req.log.warn(`${short} webhook refused: ${spec.secretName ?? 'its secret'} is not set`);
        if (!secret || !spec.verify(raw, req.headers, secret)) {
          return reply.status(401).send({
            error: { code: 'bad_signature', message: `invalid ${spec.signatureHeader ?? 'signature'}` },
          });
        }
        let events: WebhookEvent[];
        try {
          events = spec.parse(raw);
        } catch (err) {
          req.log.warn({ err }, `${short} webhook body not understood`);
          return reply
            .status(400)
            .send({ error: { code: 'bad_payload', message: 'unknown notification format' } });
        }
        // Enqueue only (providers want an answer within seconds); the stately queue coalesces bursts and duplicates.
        const { enqueued, unknown } = await services.sync.connect.routeWebhook(enqueueSync, provider, events);
        if (unknown.length > 0)
          req.log.info({ companies: unknown }, `${short} webhook for unknown or inactive companies ignored`);
        return reply.status(200).send({ events: events.length, enqueued, ignored: unknown.length });
      });
    });
  };
