import { sql } from 'drizzle-orm';
import {
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, instant, updatedAt } from './columns';

/** Open invoices by risk band. */
export interface BandCounts {
  low: number;
  medium: number;
  high: number;
}

/** tenants.model_change: see there. */
export interface ModelChange {
  /** When the first run with the new model scored (ISO instant). */
  at: string;
  from: string;
  to: string;
  before: BandCounts;
  after: BandCounts;
}

export const tenants = pgTable('tenants', {
  id: uuid('id').primaryKey().defaultRandom(),
  /** URL-safe unique name used by the CLI (`--tenant acme`) and the API. */
  slug: text('slug').notNull().unique(),
  name: text('name').notNull(),
  /** Where the ledger comes from: a provider in connectors/index.ts, or 'csv'. */
  source: text('source').notNull(),
  timezone: text('timezone').notNull().default('UTC'),
  locale: text('locale').notNull().default('en-US'),
  currency: text('currency').notNull().default('USD'),
  settings: jsonb('settings').$type<Record<string, unknown>>().notNull().default({}),
  /**
   * The last time scoring switched models (risk/service.ts scoreTenant): from which version to which, and the open
   * invoices by risk band under each (the previous model's last run, the new one's first). Each model sets its own
   * band cuts, so the high-risk count can move by half with no invoice changing: Settings and the Dashboard say so.
   */
  modelChange: jsonb('model_change').$type<ModelChange>(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

export const connectionStatuses = ['active', 'reconnect_needed', 'disconnected'] as const;
export type ConnectionStatus = (typeof connectionStatuses)[number];

export const connections = pgTable(
  'connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    provider: text('provider').notNull(),
    /** The provider's company id (an Intuit realm id, an ERP account id). */
    externalId: text('external_id').notNull(),
    status: text('status').$type<ConnectionStatus>().notNull().default('active'),
    statusReason: text('status_reason'),
    /** AES-256-GCM sealed token set (src/auth/vault.ts); never logged, never returned by the API. */
    credentials: text('credentials'),
    accessExpiresAt: instant('access_expires_at'),
    refreshExpiresAt: instant('refresh_expires_at'),
    /** Bumped on every credentials write, so a refresher can tell whether it read a stale token. */
    credentialsVersion: integer('credentials_version').notNull().default(0),
    syncCursor: jsonb('sync_cursor').$type<Record<string, unknown>>(),
    lastSyncAt: instant('last_sync_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('connections_provider_external_uq').on(t.provider, t.externalId),
    index('connections_tenant_idx').on(t.tenantId),
  ],
);

export const syncRunKinds = ['full', 'incremental', 'import'] as const;
export type SyncRunKind = (typeof syncRunKinds)[number];
export type SyncRunStatus = 'running' | 'succeeded' | 'failed';
export interface SyncProgress {
  entities: Record<string, { pages: number; rows: number; done: boolean }>;
}

export const syncRuns = pgTable(
  'sync_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    connectionId: uuid('connection_id').references(() => connections.id, { onDelete: 'set null' }),
    kind: text('kind').$type<SyncRunKind>().notNull(),
    status: text('status').$type<SyncRunStatus>().notNull().default('running'),
    /** File name and sha256 for imports; window for incremental syncs. */
    source: jsonb('source').$type<Record<string, unknown>>().notNull().default({}),
    progress: jsonb('progress').$type<SyncProgress>().notNull().default({ entities: {} }),
    stats: jsonb('stats').$type<Record<string, number>>().notNull().default({}),
    error: text('error'),
    startedAt: instant('started_at').notNull().defaultNow(),
    finishedAt: instant('finished_at'),
    /** Refreshed while the run is alive; a `running` run with an old heartbeat belongs to a dead worker. */
    heartbeatAt: instant('heartbeat_at'),
  },
  (t) => [index('sync_runs_tenant_started_idx').on(t.tenantId, sql`${t.startedAt} desc`)],
);

/**
 * Ids a connector listed since a listing of `kind` started (connectors/types.ts SyncPage): one row per page and
 * kind holding the page's ids as an array, written with the page and its cursor, so a listing survives a crash;
 * when it completes, stored rows of that kind not in here are gone at the source. Cleared when a listing of the
 * kind starts again. An array per page, not a row per id: a 1,000-id page is one small insert instead of 1,000
 * index insertions (a row per id was ~20 % of a full sync's database time).
 */
export const syncSeenPages = pgTable(
  'sync_seen_pages',
  {
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => connections.id, { onDelete: 'cascade' }),
    kind: text('kind').notNull(),
    externalIds: text('external_ids').array().notNull(),
  },
  (t) => [index('sync_seen_pages_connection_kind_idx').on(t.connectionId, t.kind)],
);

/**
 * A provider's request budget per connected company, shared by every process on this database
 * (src/sync/rate-budget.ts): the start instants of the requests in the current window and a pause a 429 imposed.
 */
export const rateBudgets = pgTable('rate_budgets', {
  key: text('key').primaryKey(),
  /** Epoch milliseconds (database clock) of the requests started within the window. */
  starts: doublePrecision('starts').array().notNull().default(sql`'{}'::double precision[]`),
  pausedUntil: instant('paused_until'),
});

/** Admin/API tokens: only a SHA-256 of the token is stored. A null tenant means every tenant (the operator). */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  label: text('label').notNull(),
  tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
  lastUsedAt: instant('last_used_at'),
  revokedAt: instant('revoked_at'),
});
