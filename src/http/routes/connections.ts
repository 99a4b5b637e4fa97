/**
 * Ledger connections of a tenant: status (incl. reconnect_needed), last sync and the running sync's progress;
 * trigger a sync; disconnect (revoke at the provider, clear the stored credentials).
 */
import type { FastifyPluginAsync } from 'fastify';
import { connectorFor, connectors, isProvider } from '../../../connectors';
import type { Services } from '../../app-services';
import {
  connectionOfTenant,
  connectionsOfTenant,
  latestRunsOfConnection,
  markDisconnected,
} from '../../db/queries/connections';
import { notFound } from '../../errors';
import { syncConnectionJob } from '../../jobs/sync-jobs';
import type { EnqueueSync } from '../../sync/connect-flow';
import type { StoredTokens } from '../../sync/connection-tokens';
import { isLive } from '../../sync/run-sync';
import { ADMIN, COLLECTOR, tenantOf } from '../auth';
import * as contract from '../contracts/connections';

export const connectionRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const enqueueSync: EnqueueSync = (connectionId, reason, tx) =>
      services.queue.send(syncConnectionJob, { connectionId, reason }, tx ? { tx } : undefined);

    async function connectionOf(tenantId: string, id: string) {
      if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound(`connection ${id}`);
      const row = await connectionOfTenant(services.db, tenantId, id);
      if (!row) throw notFound(`connection ${id}`);
      return row;
    }

    /**
     * How a connection in reconnect_needed is reconnected: a grant made with the connector's credential form
     * reopens that form (for the same account), an OAuth grant goes through /connect/:provider. A connection
     * disconnected in Duely is reconnected the same way (the same company renews it; its tenant takes no other): its
     * credentials are gone, so the connector's form when it has one (no type chosen), else its OAuth connect.
     */
    function reconnectOf(c: { status: string; provider: string; credentials: unknown }) {
      const none = { reconnectUrl: null, reconnectWith: null, reconnectType: null };
      const connect = isProvider(c.provider) ? connectorFor(c.provider).connect : undefined;
      if (c.status === 'disconnected') {
        if (connect?.methods.includes('credentials') && connect.connectWithCredentials)
          return { reconnectUrl: null, reconnectWith: 'credentials' as const, reconnectType: null };
        if (connect?.methods.includes('oauth'))
          return {
            reconnectUrl: `/connect/${c.provider}`,
            reconnectWith: 'oauth' as const,
            reconnectType: null,
          };
        return none;
      }
      if (c.status !== 'reconnect_needed') return none;
      let type: string | null = null;
      if (connect?.credentialTypeOf && c.credentials) {
        try {
          const stored = services.vault.open<StoredTokens>(c.credentials as never);
          type = connect.credentialTypeOf(stored.refreshToken);
        } catch {
          type = null;
        }
      }
      if (type === null && connect && !connect.methods.includes('oauth')) type = '';
      if (type !== null)
        return { reconnectUrl: null, reconnectWith: 'credentials' as const, reconnectType: type || null };
      return { reconnectUrl: `/connect/${c.provider}`, reconnectWith: 'oauth' as const, reconnectType: null };
    }

    /** The secret the company's own ping script signs with (WebhookSpec.companySecret); undefined when none. */
    function companySecretOf(provider: string, externalId: string): string | undefined {
      if (!isProvider(provider)) return undefined;
      const spec = connectorFor(provider).webhooks;
      return spec?.companySecret?.(services.config as never, externalId);
    }

    app.get('/tenants/:tenant/connections', { schema: contract.listConnections }, async (req) => {
      const tenant = await tenantOf(req, services);
      const rows = await connectionsOfTenant(services.db, tenant.id);
      const items = await Promise.all(
        rows.map(async (c) => {
          const runs = await latestRunsOfConnection(services.db, c.id, 5);
          // A run left `running` by a worker that died is not running: show it as interrupted (its retry resumes it).
          const now = services.clock.now();
          const running = runs.find((r) => isLive(r, now)) ?? null;
          const last = runs.find((r) => r !== running && (r.status !== 'running' || !isLive(r, now))) ?? null;
          const view = (r: (typeof runs)[number] | null) =>
            r && {
              id: r.id,
              kind: r.kind,
              status: r.status === 'running' && r !== running ? ('failed' as const) : r.status,
              startedAt: r.startedAt,
              finishedAt: r.finishedAt,
              progress: r.progress,
              stats: r.stats,
              error:
                r.status === 'running' && r !== running
                  ? 'Interrupted: the worker running this sync stopped. It resumes where it stopped within minutes.'
                  : r.error,
            };
          return {
            id: c.id,
            provider: c.provider,
            externalId: c.externalId,
            status: c.status,
            statusReason: c.statusReason,
            ...reconnectOf(c),
            lastSyncAt: c.lastSyncAt,
            /** When the stored grant lapses for good (a 7-day OAuth refresh token); null when it does not. */
            refreshExpiresAt: c.refreshExpiresAt,
            pingSecretAvailable: companySecretOf(c.provider, c.externalId) !== undefined,
            createdAt: c.createdAt,
            lastRun: view(last),
            runningSync: view(running),
          };
        }),
      );
      return { items };
    });

    /**
     * Connect a company with credentials (a provider whose connector has a credential form, e.g. a token pair):
     * {"provider", ...fields, "auth": {"type", ...fields}} → the connector proves them with the provider; the
     * credentials are sealed and the first sync is enqueued. Bad credentials → 422 with the provider's code and
     * where the admin looks. Admin only (a write route's default).
     */
    app.post('/tenants/:tenant/connections', { schema: contract.createConnection }, async (req, reply) => {
      const tenant = await tenantOf(req, services);
      const body = (req.body ?? {}) as Record<string, unknown>;
      const provider = typeof body.provider === 'string' ? body.provider : '';
      if (!isProvider(provider)) {
        return reply.status(400).send({
          error: {
            code: 'validation',
            message: `provider must be one of: ${Object.keys(connectors).join(', ')}`,
          },
        });
      }
      const fields: Record<string, string> = {};
      const auth = body.auth && typeof body.auth === 'object' ? (body.auth as Record<string, unknown>) : {};
      for (const [k, v] of [...Object.entries(body), ...Object.entries(auth)]) {
        if (k !== 'provider' && k !== 'auth' && typeof v === 'string') fields[k] = v;
      }
      const outcome = await services.sync.connect.withCredentials(enqueueSync, {
        provider,
        fields,
        tenantId: tenant.id,
      });
      if (!outcome.ok) {
        return reply.status(outcome.status).send({ error: { code: outcome.code, message: outcome.message } });
      }
      return reply.status(201).send({
        id: outcome.connectionId,
        provider: outcome.provider,
        externalId: outcome.externalId,
        status: 'active',
        reattached: outcome.reattached,
        missingPermissions: outcome.missingPermissions,
      });
    });

    app.post(
      '/tenants/:tenant/connections/:id/sync',
      { config: COLLECTOR, schema: contract.syncNow },
      async (req, reply) => {
        const tenant = await tenantOf(req, services);
        const conn = await connectionOf(tenant.id, (req.params as { id: string }).id);
        if (conn.status !== 'active') {
          return reply.status(409).send({
            error: {
              code: conn.status,
              message:
                conn.status === 'reconnect_needed'
                  ? 'The connection needs to be reconnected before it can sync.'
                  : 'The connection is disconnected.',
            },
          });
        }
        const body = (req.body ?? {}) as { full?: unknown };
        const jobId = await services.queue.send(syncConnectionJob, {
          connectionId: conn.id,
          reason: 'manual',
          ...(body.full === true ? { full: true } : {}),
        });
        // null: a sync of this connection is already queued; it will pick up the changes.
        return reply.status(202).send({ queued: true, jobId, coalesced: jobId === null });
      },
    );

    /**
     * The key this connection's company signs its change pings with (a script it deploys; derived per company
     * from the connector's configured secret, which never leaves the server). Admins only; 404 when the provider has none or the
     * server has no secret configured.
     */
    app.get(
      '/tenants/:tenant/connections/:id/ping-secret',
      { config: ADMIN, schema: contract.pingSecret },
      async (req, reply) => {
        const tenant = await tenantOf(req, services);
        const conn = await connectionOf(tenant.id, (req.params as { id: string }).id);
        const secret = companySecretOf(conn.provider, conn.externalId);
        if (secret === undefined) throw notFound(`a ping secret for connection ${conn.id}`);
        const spec = isProvider(conn.provider) ? connectorFor(conn.provider).webhooks : undefined;
        return reply.header('cache-control', 'no-store').send({
          secret,
          url: new URL(`/webhooks/${conn.provider}`, services.config.PUBLIC_URL).toString(),
          signatureHeader: spec?.signatureHeader ?? 'signature',
        });
      },
    );

    app.delete('/tenants/:tenant/connections/:id', { schema: contract.disconnect }, async (req) => {
      const tenant = await tenantOf(req, services);
      const conn = await connectionOf(tenant.id, (req.params as { id: string }).id);
      let revoked = false;
      let adminAction: string | null = null;
      const disconnect = isProvider(conn.provider) ? connectorFor(conn.provider).disconnect : undefined;
      if (conn.credentials && disconnect) {
        try {
          const stored = services.vault.open<StoredTokens>(conn.credentials);
          // The grant is revoked by the connection's own connector, with that provider's app credentials.
          const result = await disconnect({
            config: services.config,
            refreshToken: stored.refreshToken,
            externalId: conn.externalId,
          });
          // Some credentials cannot be revoked through an API: the admin is told what to do at the provider.
          revoked = result?.revoked ?? true;
          adminAction = result?.adminAction ?? null;
        } catch (err) {
          // Disconnecting must work even when the provider is down or the grant is already gone.
          req.log.warn({ err, connectionId: conn.id }, 'token revoke failed; disconnecting anyway');
        }
      }
      const now = services.clock.now();
      await markDisconnected(services.db, conn, now);
      return { id: conn.id, status: 'disconnected', revoked, ...(adminAction ? { adminAction } : {}) };
    });
  };
