/**
 * The provider-independent part of connecting a company (the HTTP side is src/http/routes/connect.ts):
 * - the OAuth callback address of a provider;
 * - after the connector proved the company (`oauth.identify`): store its tokens sealed, and create — named after the
 *   company — or re-attach the tenant of (provider, externalId), all in one transaction with the initial sync's job;
 * - a webhook's events routed to the active connections of the companies they name.
 * Enqueueing is a port (`enqueueSync`) the caller wires, so this module does not depend on the job system.
 */
import { connectorFor, type Provider } from '../../connectors';
import type { TokenSet, WebhookEvent } from '../../connectors/types';
import { advisoryXactLock } from '../db/advisory-lock';
import { activeConnectionsByExternalIds, connectionByExternalId } from '../db/queries/connection-lookup';
import { connectionsOfTenant, insertConnection, reattachConnection } from '../db/queries/connections';
import { lockCsvImports, releaseImportedRows } from '../db/queries/csv-import';
import { closeTasksOfDeletedCustomers } from '../db/queries/dunning-admin';
import { cancelReceiptsOfDeletedInvoices, cancelSettledReminders } from '../db/queries/dunning-plan';
import { createTenant, setTenantSource, tenantById } from '../db/queries/tenants';
import { toStoredTokens } from './connection-tokens';
import { limiterLookup, registeredConnector, shortNameOf, sourceShortName } from './connections';
import type { EnqueueSync, SyncDeps } from './ports';

/** Where the provider sends the browser back: registered at the provider, so it must never change. */
export const callbackUrl = (publicUrl: string, provider: string) =>
  `${publicUrl}/connect/${provider}/callback`;

export type { EnqueueSync };

export interface ConnectedCompany {
  tenantId: string;
  tenantSlug: string;
  connectionId: string;
  reattached: boolean;
}

/**
 * Why a company was not attached to the bound tenant: that tenant already holds another company's books (a
 * connection to it, in any state). One tenant holds one company: the ledger is keyed by
 * (tenant, the provider's id), and those ids ("58", "130": counters) repeat from company to company, so a second
 * company's rows would be written over the first's — one company's invoices under the other's customer and email.
 */
export interface TenantHoldsOtherBooks {
  refused: 'tenant_holds_other_books';
  /** The company the tenant holds. */
  holds: { provider: string; externalId: string };
}

/** What a refusal tells the admin (the connect page and the credential form's 409). */
export function otherBooksMessage(r: TenantHoldsOtherBooks): string {
  const { provider, externalId } = r.holds;
  const name = sourceShortName(provider);
  return (
    `This Duely company already holds the books of ${name} company ${externalId}, and one Duely company holds one company's books ` +
    '(their records would mix). To add another company, sign out of Duely and connect it: it gets a Duely company of its own.'
  );
}

/**
 * Stores the tokens of the proven company and attaches it: to its existing connection (reconnect), else to the
 * tenant the browser was signed in to (`boundTenant`) when that tenant holds no other books, else to a new tenant
 * named `companyName`. Null when the company is already connected to another tenant than the bound one.
 */
export async function attachCompany(
  services: SyncDeps,
  enqueueSync: EnqueueSync,
  opts: {
    provider: Provider;
    externalId: string;
    tokens: TokenSet;
    boundTenant: string | null;
    companyName: string | null;
  },
): Promise<ConnectedCompany | TenantHoldsOtherBooks | null> {
  const { provider, externalId, boundTenant } = opts;
  const now = services.clock.now();
  const stored = toStoredTokens(opts.tokens, now);
  const sealed = services.vault.seal(stored);
  const tokenColumns = {
    credentials: sealed,
    accessExpiresAt: new Date(stored.accessExpiresAt),
    refreshExpiresAt: stored.refreshExpiresAt ? new Date(stored.refreshExpiresAt) : null,
    status: 'active' as const,
    statusReason: null,
    updatedAt: now,
  };
  return services.db.transaction(async (tx) => {
    // Two connects of one company at once (a double click, two tabs, the CLI beside the browser): the second sees
    // the first's connection and renews it; without this lock, when neither was bound to a tenant, both created one
    // and the second failed on the company's unique key (a 500). Then two connects to one tenant at once: the second
    // sees the first's connection. Always in this order (company, then tenant): no two connects can deadlock.
    await advisoryXactLock(tx, `attach-company:${provider}:${externalId}`);
    if (boundTenant) {
      await advisoryXactLock(tx, `attach-tenant:${boundTenant}`);
      // A CSV upload into it runs before or after this connect, never across it (lockCsvImports).
      await lockCsvImports(tx, boundTenant);
    }
    const existing = await connectionByExternalId(tx, provider, externalId);
    if (existing && boundTenant && existing.tenantId !== boundTenant) return null;
    if (existing) {
      const connectionId = await reattachConnection(
        tx,
        existing.id,
        tokenColumns,
        existing.credentialsVersion + 1,
      );
      const t = await tenantById(tx, existing.tenantId);
      await enqueueSync(connectionId, 'reconnect', tx);
      return {
        tenantId: existing.tenantId,
        tenantSlug: t?.slug ?? '',
        connectionId,
        reattached: true,
      };
    }
    const bound = boundTenant ? await tenantById(tx, boundTenant) : null;
    if (bound) {
      const [held] = await connectionsOfTenant(tx, bound.id);
      if (held)
        return {
          refused: 'tenant_holds_other_books' as const,
          holds: { provider: held.provider, externalId: held.externalId },
        };
      // A CSV company with no connection yet connects its ledger: its books move to a live connection, a flow Duely
      // supports (README, Sync, "Deletions"). Any company after that one is refused by the check above; its source
      // is the provider from now on, so it takes no more CSV uploads (their ids would land on the ledger's) and its
      // figures are no longer as of an old export's day.
      if (bound.source === 'csv') {
        await setTenantSource(tx, bound.id, provider, now);
        // Its imported rows give way to the ledger's: their ids leave the ledger's (a ledger record under an id the
        // file also used is a row of its own, never the file debtor's) and they are marked deleted now, not at the
        // first full listing, which may never end (tests/sync/csv-then-ledger.test.ts,
        // tests/security/csv-ids-meet-ledger.test.ts, tests/sync/csv-first-sync-cut.test.ts).
        await releaseImportedRows(tx, bound.id, now);
        // What waits for the file's debtors asks for invoices the books no longer hold: withdrawn now, as the next plan
        // would, not left in Approvals and on the Dashboard ("held until a new upload" of a company that takes none)
        // until a first sync page or the daily plan; and a receipt for one of them, which its send would otherwise skip
        // as a payment reversed (tests/sync/csv-connect-pending.test.ts).
        await cancelSettledReminders(tx, bound.id, now);
        await cancelReceiptsOfDeletedInvoices(tx, bound.id, now);
        // And the Call list's tasks about them (a call hand-off, a bounce or opt-out to review): their debtor is no
        // longer one of the company's; the ledger's customer gets its own.
        await closeTasksOfDeletedCustomers(tx, bound.id, now);
      }
    }
    // The company's identity is (provider, externalId), looked up above; its name only labels a new tenant.
    const tenant =
      bound ??
      (await createTenant(
        tx,
        opts.companyName ?? `${shortNameOf(connectorFor(provider))} ${externalId}`,
        provider,
      ));
    const connectionId = await insertConnection(tx, {
      tenantId: tenant.id,
      provider,
      externalId,
      ...tokenColumns,
      credentialsVersion: 1,
    });
    await enqueueSync(connectionId, 'connect', tx);
    return { tenantId: tenant.id, tenantSlug: tenant.slug, connectionId, reattached: false };
  });
}

/**
 * Routes a verified webhook's events to the active connections of the companies they name, and enqueues one sync
 * per connection (the queue coalesces bursts and duplicates). Companies Duely does not know (or whose connection
 * is not active) are returned as `unknown` and ignored.
 */
export async function routeWebhookEvents(
  services: SyncDeps,
  enqueueSync: EnqueueSync,
  provider: Provider,
  events: readonly WebhookEvent[],
): Promise<{ enqueued: number; unknown: string[] }> {
  const companies = [...new Set(events.map((e) => e.externalId))];
  const known = await activeConnectionsByExternalIds(services.db, provider, companies);
  const unknown = companies.filter((r) => !known.some((k) => k.externalId === r));
  await Promise.all(known.map((k) => enqueueSync(k.id, 'webhook')));
  return { enqueued: known.length, unknown };
}

/** The answer of a credential-form connect: the connection, or the provider's refusal (bad credentials → 422). */
export type CredentialConnectOutcome =
  | {
      ok: true;
      connectionId: string;
      tenantId: string;
      tenantSlug: string;
      provider: Provider;
      externalId: string;
      reattached: boolean;
      missingPermissions: string[];
    }
  | { ok: false; status: number; code: string; message: string };

/**
 * Connects a company with credentials an admin typed (a token pair, a certificate id): the connector proves them
 * with the provider (`connect.connectWithCredentials`), then the tokens are sealed and attached as for an OAuth
 * connect — to `tenantId` when given, else to a new tenant named after the company — with the first sync enqueued.
 */
export async function connectWithCredentials(
  services: SyncDeps,
  enqueueSync: EnqueueSync,
  opts: {
    provider: string;
    fields: Record<string, string>;
    tenantId: string | null;
    /** The name of the tenant created when `tenantId` is null (default: the company's name at the provider). */
    newTenantName?: string;
    signal?: AbortSignal;
  },
): Promise<CredentialConnectOutcome> {
  const connector = registeredConnector(opts.provider);
  const connect = connector.connect?.connectWithCredentials;
  if (!connect || !connector.connect?.methods.includes('credentials')) {
    return {
      ok: false,
      status: 400,
      code: 'unsupported',
      message: `${shortNameOf(connector)} connects through its own sign-in page: open /connect/${connector.provider}.`,
    };
  }
  const result = await connect({
    config: services.config,
    fields: opts.fields,
    logger: services.logger.child({ module: 'connect', provider: connector.provider }),
    signal: opts.signal,
    limiterFor: limiterLookup(services, connector.provider),
  });
  if ('ok' in result && result.ok === false) {
    return { ok: false, status: result.status, code: result.title, message: result.message };
  }
  const proven = result as Exclude<typeof result, { ok: false }>;
  const provider = connector.provider as Provider;
  const attached = await attachCompany(services, enqueueSync, {
    provider,
    externalId: proven.externalId,
    tokens: proven.tokens,
    boundTenant: opts.tenantId,
    companyName: opts.newTenantName ?? proven.displayName,
  });
  if (!attached) {
    return {
      ok: false,
      status: 409,
      code: 'already_connected',
      message: `This ${shortNameOf(connector)} company is already connected to another Duely account.`,
    };
  }
  if ('refused' in attached) {
    return { ok: false, status: 409, code: attached.refused, message: otherBooksMessage(attached) };
  }
  return {
    ok: true,
    connectionId: attached.connectionId,
    tenantId: attached.tenantId,
    tenantSlug: attached.tenantSlug,
    provider,
    externalId: proven.externalId,
    reattached: attached.reattached,
    missingPermissions: proven.missingPermissions ?? [],
  };
}
