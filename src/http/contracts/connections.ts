/**
 * Ledger connections (src/http/routes/connections.ts) and what this server can connect
 * (src/http/routes/integrations.ts). The generic browser routes (/connect/:provider/*, /webhooks/:provider) are
 * not part of /api/v1 and answer HTML pages or redirects, so they have no contract here.
 */
import { z } from 'zod';
import { connectionStatuses, syncRunKinds } from '../../db/schema/tenants';
import type { ConnectorAvailability, QuickbooksAvailability } from '../../demo-company';
import { covers, coversDeep, errorResponses, instant, tenantParams, uuid } from './common';

/** A sync run as the connections list shows it: a run left `running` by a dead worker shows as failed. */
export const connectionRun = z.object({
  id: uuid,
  kind: z.enum(syncRunKinds),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: instant,
  finishedAt: instant.nullable(),
  /** Per entity kind: pages and rows read so far, done; `total` where the connector knows it. */
  progress: z.object({
    entities: z.record(
      z.string(),
      z.object({ pages: z.number(), rows: z.number(), done: z.boolean(), total: z.number().optional() }),
    ),
  }),
  stats: z.record(z.string(), z.number()),
  error: z.string().nullable(),
});

export const connectionView = z.object({
  id: uuid,
  provider: z.string(),
  externalId: z.string(),
  status: z.enum(connectionStatuses),
  statusReason: z.string().nullable(),
  /**
   * Where the browser reconnects (status reconnect_needed or disconnected, through OAuth); null otherwise, and for
   * a connection reconnected with a credential form (see `reconnectWith`).
   */
  reconnectUrl: z.string().nullable(),
  /**
   * How a connection in reconnect_needed, or disconnected in Duely, is reconnected: `oauth` (follow reconnectUrl)
   * or `credentials` (re-enter the credential form of type `reconnectType` — null: any — for account `externalId`:
   * POST …/connections re-activates this same connection). Null when nothing is to reconnect.
   */
  reconnectWith: z.enum(['oauth', 'credentials']).nullable().optional(),
  reconnectType: z.string().nullable().optional(),
  lastSyncAt: instant.nullable(),
  /** When the stored grant lapses for good (a 7-day OAuth refresh token); null when it does not. */
  refreshExpiresAt: instant.nullable(),
  /**
   * True when the company may sign its own change pings (a script it deploys in its ledger) and the server has the secret to
   * derive its key from: an admin reads it with GET …/connections/:id/ping-secret.
   */
  pingSecretAvailable: z.boolean(),
  createdAt: instant,
  lastRun: connectionRun.nullable(),
  runningSync: connectionRun.nullable(),
});

const connectionParams = tenantParams.extend({ id: z.string().min(1).max(200) });

export const listConnections = {
  params: tenantParams,
  response: { 200: z.object({ items: z.array(connectionView) }), ...errorResponses },
} as const;

/**
 * {"provider", ...fields, "auth": {"type", ...fields}}: the connector's credential form (GET /api/v1/integrations
 * lists its fields). String fields are read; an unknown provider is a 400 naming the registered ones.
 */
export const connectBody = z
  .looseObject({
    provider: z
      .unknown()
      .optional()
      .meta({ description: 'a registered provider (GET /api/v1/integrations lists them)' }),
    auth: z
      .unknown()
      .optional()
      .meta({ description: 'the credential fields, with `type` when the form has one' }),
  })
  .nullish();

export const connectionCreated = z.object({
  id: uuid,
  provider: z.string(),
  externalId: z.string(),
  status: z.literal('active'),
  /** True when this re-activated the tenant's existing connection to the account (a reconnect), false when new. */
  reattached: z.boolean(),
  /** Permissions the provider reports missing from the granted role (the connection is made anyway). */
  missingPermissions: z.array(z.string()),
});

export const createConnection = {
  params: tenantParams,
  body: connectBody,
  response: { 201: connectionCreated, ...errorResponses },
} as const;

export const syncNow = {
  params: connectionParams,
  body: z
    .looseObject({
      full: z.unknown().optional().meta({ description: 'true: a full sync instead of incremental' }),
    })
    .nullish(),
  response: {
    202: z.object({
      queued: z.literal(true),
      /** null when a sync of this connection was already queued (it picks up the changes). */
      jobId: z.string().nullable(),
      coalesced: z.boolean(),
    }),
    ...errorResponses,
  },
} as const;

export const pingSecret = {
  params: connectionParams,
  response: {
    200: z.object({
      /** The key this company's script signs with (HMAC-SHA256, see the provider's ping documentation). */
      secret: z.string(),
      /** Where the script posts. */
      url: z.string(),
      signatureHeader: z.string(),
    }),
    ...errorResponses,
  },
} as const;

export const disconnectResult = z.object({
  id: uuid,
  status: z.literal('disconnected'),
  /** false: the provider could not be told (down, or the grant already gone); disconnected anyway. */
  revoked: z.boolean(),
  /** What the admin does at the provider when no API can revoke the credential (e.g. a token-based credential). */
  adminAction: z.string().optional(),
});

export const disconnect = {
  params: connectionParams,
  response: { 200: disconnectResult, ...errorResponses },
} as const;

const credentialField = z.object({
  name: z.string(),
  label: z.string(),
  secret: z.boolean().optional(),
  forTypes: z.array(z.string()).readonly().optional(),
  choices: z.array(z.string()).readonly().optional(),
  optional: z.boolean().optional(),
});

export const connectorAvailability = covers<ConnectorAvailability>()(
  z.object({
    provider: z.string(),
    displayName: z.string(),
    mode: z.enum(['live', 'demo', 'unconfigured']),
    /** 'oauth': the browser flow at connectUrl; 'credentials': the form (POST …/connections). */
    methods: z.array(z.enum(['oauth', 'credentials'])),
    connectUrl: z.string().nullable(),
    credentialFields: z.array(credentialField),
    permissions: z.array(z.string()),
    /** Whether the connector polls (no webhooks) and how often, in minutes. */
    pollMinutes: z.number().nullable(),
    note: z.string().nullable(),
  }),
);

/** The built-in demo company, on the provider that runs it (src/demo-company.ts). */
const demoCompany = covers<NonNullable<QuickbooksAvailability['demo']>>()(
  z.object({ realmId: z.string(), customers: z.number(), invoices: z.number() }),
);

/** Keyed by provider; the provider that runs the built-in demo company adds it (`demo`). */
export const integrations = coversDeep<
  Record<string, ConnectorAvailability & { demo?: QuickbooksAvailability['demo'] }>
>()(z.record(z.string(), connectorAvailability.extend({ demo: demoCompany.nullable().optional() })));

export const listIntegrations = {
  response: { 200: integrations, ...errorResponses },
} as const;
