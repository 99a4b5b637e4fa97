/**
 * Plumbing for connected ledgers: the process's ConnectionTokens and shared request limiters (built once by the
 * composition root and handed in as SyncDeps, so refreshes are single-flight inside the process; the database lock
 * covers other processes), the provider's client credentials, and an authenticated API client for a stored
 * connection. Provider-specific parts come from the registry by the
 * connection's `provider` column.
 */
import { type AnyConnector, connectorFor, isProvider } from '../../connectors';
import type { ClientCredentials, LimiterLookup, RequestLimiter } from '../../connectors/types';
import type { Config } from '../config';
import { type ConnectionRow, connectionIdentity } from '../db/queries/connections';
import { AppError } from '../errors';
import type { Infra } from '../infra';
import { Vault } from '../keys';
import { ConnectionTokens } from './connection-tokens';
import type { SyncDeps } from './ports';
import { budgetOf, SharedRequestLimiter } from './rate-budget';

export { ProcessLimiters } from './rate-budget';

export type { ConnectionRow };

/**
 * The process's limiter of one company (one instance per process and company in `services.limiters`, handed to every
 * client, live read, invoice-PDF read, probe and connect of it). On Postgres, for a connector that declares a
 * `requestBudget`, it is the budget shared by every process (the in-flight limit holds inside the process too); on
 * embedded PGlite (one process) it is the connector's own in-process limiter (`createLimiter`). Undefined for a
 * connector with neither (it makes no API calls).
 */
export function companyLimiter(
  services: Pick<SyncDeps, 'dbh' | 'db' | 'config' | 'limiters'>,
  conn: Pick<ConnectionRow, 'provider' | 'externalId'>,
): RequestLimiter | undefined {
  if (!isProvider(conn.provider)) return undefined;
  const connector = connectorFor(conn.provider);
  const key = `${conn.provider}:${conn.externalId}`;
  if (services.dbh.kind === 'postgres') {
    const declared = connector.requestBudget;
    const budget = typeof declared === 'function' ? declared(services.config) : declared;
    if (budget)
      return services.limiters.get(key, () => new SharedRequestLimiter(services.db, key, budgetOf(budget)));
  }
  const create = connector.createLimiter;
  if (!create) return undefined;
  return services.limiters.get(key, () => create(services.config));
}

/** The process's limiters of one provider's companies, for connector calls that find the company themselves. */
export function limiterLookup(
  services: Pick<SyncDeps, 'dbh' | 'db' | 'config' | 'limiters'>,
  provider: string,
): LimiterLookup {
  return (externalId) => companyLimiter(services, { provider, externalId });
}

export function vaultFor(config: Pick<Config, 'APP_SECRET'>): Vault {
  return new Vault(config.APP_SECRET);
}

/** The registered connector of `provider`; AppError 404 for a provider this server does not know. */
export function registeredConnector(provider: string): AnyConnector {
  if (!isProvider(provider)) throw new AppError('unknown_provider', `unknown provider ${provider}`, 404);
  return connectorFor(provider);
}

/** The connector's name in messages (its short name). */
export const shortNameOf = (c: AnyConnector): string => c.connect?.shortName ?? c.displayName;
/** A company source's name in page copy: its connector's short name, else the source as stored. */
export const sourceShortName = (source: string): string =>
  isProvider(source) ? shortNameOf(connectorFor(source)) : source;

/** The provider app's credentials; a clear 503 when they are not configured. */
export function connectorCredentials(provider: string, config: Config): ClientCredentials {
  const c = registeredConnector(provider);
  const creds = c.credentials?.(config) ?? null;
  if (!creds) {
    throw new AppError(
      `${provider}_not_configured`,
      `${shortNameOf(c)} is not configured${c.configHint ? `: ${c.configHint}` : ''}`,
      503,
    );
  }
  return creds;
}

/** The connector of a stored connection, for token calls (refresh, revoke) with its own credentials. */
async function tokenConnector(
  services: Pick<Infra, 'db' | 'config'>,
  connectionId: string,
): Promise<{ connector: AnyConnector; externalId: string }> {
  const row = await connectionIdentity(services.db, connectionId);
  if (!row) throw new AppError('not_found', `connection ${connectionId} not found`, 404);
  const connector = registeredConnector(row.provider);
  // An OAuth-only connector refreshes with the app's credentials (503 when missing); a connector with a
  // credential-form connect decides per stored credential in its own `refreshTokens`.
  if (!connector.connect?.methods.includes('credentials'))
    connectorCredentials(row.provider, services.config);
  return { connector, externalId: row.externalId };
}

/**
 * A ConnectionTokens over these deps: the root builds the process's one instance (so concurrent callers share one
 * refresh); tests build a second to simulate another process.
 */
export function createConnectionTokens(
  deps: Pick<Infra, 'db' | 'dbh' | 'clock' | 'logger' | 'config' | 'vault'>,
): ConnectionTokens {
  return new ConnectionTokens(
    { dbh: deps.dbh, clock: deps.clock, logger: deps.logger, vault: deps.vault },
    async (connectionId) => {
      const { connector, externalId } = await tokenConnector(deps, connectionId);
      if (!connector.refreshTokens) {
        throw new AppError('unsupported', `${connector.provider} connections have no tokens to refresh`, 500);
      }
      const refresh = connector.refreshTokens;
      return (refreshToken: string) => refresh({ config: deps.config, refreshToken, externalId });
    },
    async (connectionId) => {
      const { connector, externalId } = await tokenConnector(deps, connectionId);
      const revoke = connector.disconnect;
      return async (token: string) => {
        if (revoke) await revoke({ config: deps.config, refreshToken: token, externalId });
      };
    },
  );
}

/**
 * The process's ConnectionTokens (`deps.tokens`, one instance). `fresh: true` builds a separate instance (tests
 * simulating another process).
 */
export function connectionTokens(deps: SyncDeps, opts: { fresh?: boolean } = {}): ConnectionTokens {
  return opts.fresh ? createConnectionTokens(deps) : deps.tokens;
}

/** An authenticated API client for a stored connection; tokens refresh through ConnectionTokens. */
export function connectionClient(
  services: SyncDeps,
  conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>,
) {
  if (!isProvider(conn.provider)) {
    throw new AppError(
      'unknown_provider',
      `connection ${conn.id} has unknown provider ${conn.provider}`,
      500,
    );
  }
  // Through the contract only: the sync and the live read work the same for every registered connector.
  const connector = connectorFor(conn.provider);
  if (!connector.createClient) {
    throw new AppError('unsupported', `${conn.provider} connections have no API client`, 500);
  }
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
    limiter: companyLimiter(services, conn),
  });
  return { connector, client };
}
