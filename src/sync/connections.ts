/**
 * Per-process plumbing for connected ledgers: the token vault, one ConnectionTokens per Services (so refreshes are
 * single-flight inside the process; the database lock covers other processes), the provider's client credentials,
 * and an authenticated API client for a stored connection.
 */
import { connectors, isProvider } from '../../connectors';
import { ConnectionTokens } from '../auth/connection-tokens';
import { Vault } from '../auth/vault';
import type { Config } from '../config';
import type { connections } from '../db/schema';
import { AppError } from '../errors';
import type { Services } from '../services';
import { SharedRequestLimiter } from './rate-budget';

export type ConnectionRow = typeof connections.$inferSelect;

const tokensByServices = new WeakMap<Services, ConnectionTokens>();
const budgetsByServices = new WeakMap<Services, Map<string, SharedRequestLimiter>>();

/**
 * The company's request budget shared by every process on Postgres (one instance per process and company, so the
 * in-flight limit holds inside the process too); undefined on embedded PGlite, where the connector's in-process
 * limiter is the whole budget (one process).
 */
export function sharedLimiter(
  services: Services,
  conn: Pick<ConnectionRow, 'provider' | 'externalId'>,
): SharedRequestLimiter | undefined {
  if (services.dbh.kind !== 'postgres') return undefined;
  let byKey = budgetsByServices.get(services);
  if (!byKey) {
    byKey = new Map();
    budgetsByServices.set(services, byKey);
  }
  const key = `${conn.provider}:${conn.externalId}`;
  let limiter = byKey.get(key);
  if (!limiter) {
    limiter = new SharedRequestLimiter(services.db, key);
    byKey.set(key, limiter);
  }
  return limiter;
}

export function vaultFor(config: Pick<Config, 'APP_SECRET'>): Vault {
  return new Vault(config.APP_SECRET);
}

/** The Intuit app's credentials; a clear error when they are not configured. */
export function quickbooksCredentials(config: Config): { clientId: string; clientSecret: string } {
  if (!config.QUICKBOOKS_CLIENT_ID || !config.QUICKBOOKS_CLIENT_SECRET) {
    throw new AppError(
      'quickbooks_not_configured',
      'QuickBooks is not configured: set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET',
      503,
    );
  }
  return { clientId: config.QUICKBOOKS_CLIENT_ID, clientSecret: config.QUICKBOOKS_CLIENT_SECRET };
}

/**
 * The process's ConnectionTokens for these services (one instance, so concurrent callers share one refresh).
 * `fresh: true` builds a separate instance (tests simulating another process).
 */
export function connectionTokens(services: Services, opts: { fresh?: boolean } = {}): ConnectionTokens {
  const cached = opts.fresh ? undefined : tokensByServices.get(services);
  if (cached) return cached;
  const tokens = new ConnectionTokens(
    { dbh: services.dbh, clock: services.clock, logger: services.logger, vault: vaultFor(services.config) },
    async () => {
      const qb = connectors.quickbooks;
      const creds = quickbooksCredentials(services.config);
      const { tokenUrl } = qb.oauth.endpoints(services.config);
      return (refreshToken: string) => qb.oauth.refresh({ tokenUrl, ...creds, refreshToken });
    },
    async () => {
      const qb = connectors.quickbooks;
      const creds = quickbooksCredentials(services.config);
      const { revokeUrl } = qb.oauth.endpoints(services.config);
      return (token: string) => qb.oauth.revoke({ revokeUrl, ...creds, token });
    },
  );
  if (!opts.fresh) tokensByServices.set(services, tokens);
  return tokens;
}

/** An authenticated API client for a stored connection; tokens refresh through ConnectionTokens. */
export function connectionClient(
  services: Services,
  conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>,
) {
  if (!isProvider(conn.provider)) {
    throw new AppError(
      'unknown_provider',
      `connection ${conn.id} has unknown provider ${conn.provider}`,
      500,
    );
  }
  const connector = connectors[conn.provider];
  const tokens = connectionTokens(services);
  let last = '';
  const client = connector.createClient({
    config: services.config,
    externalId: conn.externalId,
    getAccessToken: async () => {
      last = await tokens.getAccessToken(conn.id);
      return last;
    },
    onUnauthorized: async () => {
      last = await tokens.onUnauthorized(conn.id, last);
      return last;
    },
    logger: services.logger.child({ module: 'connector', provider: conn.provider, connectionId: conn.id }),
    limiter: sharedLimiter(services, conn),
  });
  return { connector, client };
}
