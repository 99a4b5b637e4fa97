/**
 * The connector contract that QuickBooks, NetSuite and CSV satisfy. A connector is data plus pure functions and
 * async iterators: it receives an authenticated client and never sees tokens, the database or the HTTP server.
 */
import type { z } from 'zod';
import type {
  CanonicalCreditMemo,
  CanonicalCustomer,
  CanonicalDeletion,
  CanonicalInvoice,
  CanonicalPayment,
  Instant,
} from './canonical';

export type { ConnectorError, ConnectorErrorCode } from './errors';

/** Minimal structured logger (pino-compatible). */
export interface ConnectorLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ConnectorContext<Client> {
  /** Authenticated API client; it refreshes tokens through callbacks the caller supplied. */
  client: Client;
  /** The provider's id of the connected company (QuickBooks realmId, NetSuite account id). */
  externalId: string;
  logger: ConnectorLogger;
  signal: AbortSignal;
}

/** The four canonical record kinds a sync produces. */
export type EntityKind = 'customers' | 'invoices' | 'payments' | 'creditMemos';

/**
 * What a listing (SyncPage `seen`) can list: a record kind, or journal entries, whose ids are those of the source
 * entries behind the credits on account they produce (CanonicalCreditMemo.journalEntry), not of the credits.
 */
export type ListingKind = EntityKind | 'journalEntries';

/**
 * A journal entry the page read whole (or found deleted: no version, the tombstone's time): its credits on account
 * are exactly the page's creditMemos naming it in `journalEntry`; the stored credits of the entry the page does not
 * carry (a customer's lines removed, the entry deleted) are deleted, unless the stored row is newer.
 */
export interface CanonicalJournalEntryRead {
  externalId: string;
  sourceUpdatedAt?: Instant | null;
  sourceVersion?: number | null;
}

export interface CanonicalRecords {
  customers: CanonicalCustomer[];
  invoices: CanonicalInvoice[];
  payments: CanonicalPayment[];
  creditMemos: CanonicalCreditMemo[];
}

/**
 * One unit of sync work. The caller writes `records` and `deletions` in one transaction together with `cursor`;
 * resuming from that cursor after a crash continues with the next page and never skips one.
 *
 * Deletions a source cannot report (a full read only lists what exists; a cut change feed may drop tombstones) are
 * found by a *listing*: the connector lists every id of a kind, page by page, and says when it started and ended.
 * The caller keeps the ids seen since the listing started (durably, with the cursor) and, when it completes, marks
 * every stored record of that kind which was not seen and has not changed at the source since `asOf` as deleted.
 * Records changed at or after `asOf` are left to the incremental feed, which starts no later than `asOf`.
 */
export interface SyncPage<Cursor> extends CanonicalRecords {
  deletions: Record<EntityKind, CanonicalDeletion[]>;
  /** Journal entries read (or deleted) by this page, see CanonicalJournalEntryRead. */
  journalEntries?: CanonicalJournalEntryRead[];
  cursor: Cursor;
  /** Ids of records that exist at the source, listed by this page (with or without their records above). */
  seen?: Partial<Record<ListingKind, string[]>>;
  /** Listings that start with this page: ids seen by an earlier, unfinished listing of these kinds are forgotten. */
  listingStarts?: ListingKind[];
  /** Listings that are complete with this page (after its `seen` ids are recorded): reconcile these kinds. */
  listingComplete?: { kinds: ListingKind[]; asOf: Instant };
}

export interface SyncOptions {
  /** The caller's clock (the connector never reads Date.now for decisions). */
  now: () => Date;
  /** How records are mapped: the company's home currency for records that name none. */
  map?: { homeCurrency: string };
  /** Records per page (a connector caps it at its provider's maximum); tests and benches make it small. */
  pageSize?: number;
  /** Records per change-feed answer at which the connector assumes the answer was cut (tests make it small). */
  cdcLimit?: number;
}

export interface SyncSpec<Client, Cursor> {
  /**
   * Pages from `cursor` onwards (`null` = start a full sync). A full sync ends with a page whose cursor is the
   * incremental one. Throws ConnectorError `resync_required` when an incremental cursor can no longer be served;
   * the caller then restarts with `null`.
   */
  pages(
    ctx: ConnectorContext<Client>,
    cursor: Cursor | null,
    options: SyncOptions,
  ): AsyncIterable<SyncPage<Cursor>>;
}

export interface OAuthEndpoints {
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  userInfoUrl: string;
  /** OpenID Connect signing keys (JWKS), for providers that sign users in. */
  jwksUrl?: string;
  /** Base URL of the provider's data API for this environment. */
  apiBaseUrl: string;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  tokenType: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Seconds until the refresh token expires (rolling), when the provider says. */
  refreshTokenExpiresIn: number | null;
  idToken: string | null;
}

export interface AuthorizeUrlParams {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  state: string;
  scopes?: readonly string[];
  /** PKCE S256 challenge (when the spec says `pkce`). */
  codeChallenge?: string;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface TokenRequestOptions extends ClientCredentials {
  tokenUrl: string;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** Parsed OAuth redirect: `externalId` is the provider's company id when it travels in the callback. */
export type CallbackResult =
  | { ok: true; code: string; state: string; externalId: string | null }
  | { ok: false; state: string | null; error: string; description: string | null };

export interface OAuthSpec<Config> {
  scopes: readonly string[];
  /** Query parameters the provider appends to the redirect URI. */
  callbackParams: readonly string[];
  /**
   * The provider's endpoints. Providers with per-company hosts (NetSuite accounts) take the company id when it is
   * known: the `?account=` of a connect, the callback's company, a stored connection's external id.
   */
  endpoints(config: Config, externalId?: string): OAuthEndpoints;
  /** The provider requires PKCE (S256): the caller keeps a verifier with the state and sends it at the exchange. */
  pkce?: boolean;
  buildAuthorizeUrl(params: AuthorizeUrlParams): string;
  parseCallback(query: Record<string, string | string[] | undefined>): CallbackResult;
  exchangeCode(
    options: TokenRequestOptions & { code: string; redirectUri: string; codeVerifier?: string },
  ): Promise<TokenSet>;
  refresh(options: TokenRequestOptions & { refreshToken: string }): Promise<TokenSet>;
  revoke(
    options: ClientCredentials & {
      revokeUrl: string;
      token: string;
      signal?: AbortSignal;
      fetch?: typeof fetch;
    },
  ): Promise<void>;
}

/** A change notification reduced to what sync needs: which record of which company changed. */
export interface WebhookEvent {
  externalId: string;
  /** Provider entity name as sent ("Invoice", "Payment", or anything else: unknown entities are kept). */
  entity: string;
  id: string;
  operation: string;
  /** ISO instant when parseable, the raw value otherwise. */
  lastUpdated: Instant | null;
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;

export interface WebhookSpec<Config = unknown> {
  /** Verifies the delivery's signature over the exact raw body bytes. */
  verify(rawBody: Buffer | string, headers: WebhookHeaders, secret: string): boolean;
  /**
   * Throws ConnectorError `validation` on a body that is not a known notification format. Each event names the
   * company it is about (`externalId`): the caller routes it to the connection (provider, externalId).
   */
  parse(rawBody: Buffer | string): WebhookEvent[];
  /**
   * The signing secret from the configuration (undefined: not configured, every delivery is refused). `verify`
   * gets it; a connector with `companySecret` derives the company's own key from it inside `verify`.
   */
  secret?(config: Config): string | undefined;
  /**
   * For notifications sent by code the company deploys itself (a NetSuite SuiteScript): the secret that company
   * signs with, derived from the configured one; shown to the company's admins (GET …/connections/:id/ping-secret).
   * Absent: the provider signs (Intuit) and the company never holds a secret.
   */
  companySecret?(config: Config, externalId: string): string | undefined;
  /** Names the setting and the signature header in logs and the 401 answer (e.g. the variable's name). */
  secretName?: string;
  signatureHeader?: string;
  /** Content types delivered (kept raw for the signature); JSON when absent. */
  contentTypes?: readonly string[];
}

/**
 * The request budget of one connected company (a QuickBooks realm, a NetSuite account), shared by every client of
 * it: on Postgres by every process (src/sync/rate-budget.ts), in-process otherwise.
 */
export interface RequestLimiter {
  /** Runs `task` once the budget allows another request (and no pause is in force). */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** The provider said "slow down" (429 + Retry-After): no request of this company starts for `ms`. */
  pause(ms: number): Promise<void>;
}

/** What a connector needs to build its API client for one connected company. */
export interface ClientFactoryOptions<Config> {
  config: Config;
  externalId: string;
  getAccessToken(): Promise<string>;
  /** Called once on a 401: refresh (under the caller's lock) and return the new access token. */
  onUnauthorized(): Promise<string>;
  /** Receives retry and throttle warnings. */
  logger?: ConnectorLogger;
  /**
   * The company's request limiter. The composition root always passes its one per company (src/sync/rate-budget.ts
   * `ProcessLimiters`: shared across processes on Postgres, the connector's `createLimiter` otherwise), so every call
   * to one company in one process shares it. Absent only in standalone use (tests, benches): the client then gets a
   * limiter of its own.
   */
  limiter?: RequestLimiter;
}

/**
 * The process's limiter of one connected company, by its provider id (the root keeps one per company); undefined
 * when the connector has none (the call then gets a limiter of its own).
 */
export type LimiterLookup = (externalId: string) => RequestLimiter | undefined;

/** The person who consented at the provider, for providers that sign users in (OpenID Connect). */
export interface ConnectedUser {
  /** The provider's stable user id. */
  sub: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** Who and which company a connect proved, from the provider's own answer (never from the redirect's query alone). */
export interface ConnectIdentity {
  ok: true;
  /** The provider-proven company id (QuickBooks realmId, NetSuite account id): with the provider, the tenant's key. */
  externalId: string;
  /** The signed-in user, when `signIn` was asked and the provider signs users in; null otherwise. */
  user: ConnectedUser | null;
  /** The company's display name (names a new tenant). Called only for a new company; may make one API call. */
  displayName(): Promise<string | null>;
}

/** A connect the caller must refuse: shown to the browser as a page with this status, title and text. */
export interface ConnectRefusal {
  ok: false;
  status: number;
  title: string;
  message: string;
}

export interface IdentifyOptions<Config> {
  config: Config;
  /** The connector's app credentials (from `credentials(config)`). */
  credentials: ClientCredentials;
  /** Tokens from the code exchange (the ID token, when the provider sends one, proves the company). */
  tokens: TokenSet;
  /** The company id that travelled in the redirect (CallbackResult.externalId): a claim, to be proven. */
  claimedExternalId: string | null;
  /** A sign-in: the provider's user profile is needed to open a session. */
  signIn: boolean;
  logger: ConnectorLogger;
  signal?: AbortSignal;
  /** The process's limiter of the company, for the calls that prove it (a limiter of their own when absent). */
  limiterFor?: LimiterLookup;
}

/** Stored credentials a credential-form connect produced (NetSuite token-based auth, M2M), sealed by the caller. */
export interface CredentialConnectResult {
  externalId: string;
  displayName: string | null;
  /**
   * Opaque to the caller; sealed in the vault and handed back to `createClient` through the token callbacks. A
   * credential that is not an OAuth refresh token (a TBA token pair, an M2M certificate id) is stored the same way:
   * `refreshToken` holds what the connector's `refreshTokens` needs to mint a new access token (or a marker it
   * refuses with `invalid_grant`, which marks the connection reconnect_needed).
   */
  tokens: TokenSet;
  /** Permissions the provider's role lacks (shown to the admin who connected). */
  missingPermissions?: string[];
}

/** One field of a credential-form connect (API body keys, CLI flags --kebab-case, the web form). */
export interface CredentialField {
  name: string;
  label: string;
  /** Never echoed or logged. */
  secret?: boolean;
  /** Needed only for these `type` values (when the form has a `type` choice). */
  forTypes?: readonly string[];
  /** Fixed choices (e.g. the `type` of credential). */
  choices?: readonly string[];
  optional?: boolean;
}

/**
 * How a user connects a company of this provider, and the browser pages around it (generic routes
 * /connect/:provider, /connect/:provider/callback, /connect/:provider/launch, /connect/:provider/disconnect).
 */
export interface ConnectSpec<Config> {
  /** `oauth`: redirect to the provider and back (needs `oauth` + `oauth.identify`); `credentials`: a form. */
  methods: readonly ('oauth' | 'credentials')[];
  /** The short name in page copy ("QuickBooks was not connected"); `displayName` when absent. */
  shortName?: string;
  /** The OAuth redirect names the company (QuickBooks realmId): a redirect without it is refused before the exchange. */
  externalIdInCallback?: boolean;
  /** Name of the cookie that binds the OAuth state to the browser (default `duely_<provider>_oauth`). */
  stateCookie?: string;
  /** Sign in with the provider (OpenID): the path of its sign-in entry and how the session records it. */
  signIn?: { path: string; sessionMethod: 'intuit_openid'; buttonLabel: string; launchText: string };
  /** The provider opens the app from inside its UI (a "Launch URL"): GET /connect/:provider/launch. */
  launch?: boolean;
  /** The page the provider sends users to after they disconnected there (GET /connect/:provider/disconnect). */
  disconnectedPage?: { title: string; text: string };
  /** Which credential `type` choices this configuration supports (all of them when absent). */
  credentialTypes?(config: Config): readonly string[];
  /** The credential form's fields (`connectWithCredentials` receives them by `name`). */
  credentialFields?: readonly CredentialField[];
  /**
   * Which credential `type` a stored grant was made with (its refresh token as `connectWithCredentials` stored it),
   * or null for an OAuth grant: a connection to reconnect then reopens the credential form, not the OAuth flow.
   */
  credentialTypeOf?(refreshToken: string): string | null;
  /** What an admin grants Duely's role at the provider (a checklist shown beside the credential form). */
  permissions?: readonly string[];
  /**
   * Checks a stored connection with the provider (`duely <provider> probe`): which company, and the permissions
   * its role lacks. Throws the connector's typed error when the credentials are refused.
   */
  probe?(
    client: unknown,
    signal?: AbortSignal,
  ): Promise<{
    externalId: string;
    displayName: string | null;
    missingPermissions: string[];
    details?: object;
  }>;
  /** Credential-form connect (NetSuite TBA/M2M): validates the fields with the provider, proves the company. */
  connectWithCredentials?(options: {
    config: Config;
    fields: Record<string, string>;
    logger: ConnectorLogger;
    signal?: AbortSignal;
    /** The process's limiter of the company, for the probe (a limiter of its own when absent). */
    limiterFor?: LimiterLookup;
  }): Promise<CredentialConnectResult | ConnectRefusal>;
}

/** Live read by id (the pre-send re-check): the records as they are at the source now. */
export interface LiveReadSpec<Client> {
  /** Invoices by the provider's ids; ids the source no longer has come back in `deleted`. */
  invoices(
    ctx: ConnectorContext<Client>,
    externalIds: readonly string[],
    options: { homeCurrency: string },
  ): Promise<{ invoices: CanonicalInvoice[]; deleted: CanonicalDeletion[] }>;
}

/**
 * A source of canonical records. API connectors (QuickBooks, NetSuite) have all parts; a file source (CSV) has no
 * OAuth, client factory or webhooks. Declare connectors with `satisfies Connector<...>` so the registry keeps
 * each one's concrete (non-optional) parts.
 *
 * Everything provider-specific lives here, so a new provider is its folder plus one line in connectors/index.ts:
 * its environment variables (`configSchema`, merged into the app's config), its app credentials, how users connect
 * (`connect` + `oauth.identify`), token refresh and disconnect with its own credentials, the live read and the
 * webhook secret.
 */
export interface Connector<Config, Client, Cursor> {
  provider: string;
  displayName: string;
  /** Origins of the provider's UI that may frame Duely (its apps page): the default FRAME_ANCESTORS includes them. */
  frameAncestors?: readonly string[];
  /** The connector's environment variables (zod object); src/config.ts merges every registered connector's. */
  configSchema?: z.ZodObject<z.ZodRawShape>;
  /** The app's credentials at the provider, or null when not configured (connect answers 503 with `configHint`). */
  credentials?(config: Config): ClientCredentials | null;
  /** What to set when `credentials` is null ("set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET"). */
  configHint?: string;
  oauth?: OAuthSpec<Config> & {
    /** Proves the company (and the user, for a sign-in) from the code exchange's answer. */
    identify?(options: IdentifyOptions<Config>): Promise<ConnectIdentity | ConnectRefusal>;
  };
  connect?: ConnectSpec<Config>;
  /** Refreshes a stored connection's tokens with the connector's own credentials. */
  refreshTokens?(options: {
    config: Config;
    refreshToken: string;
    /** The connection's company id (providers with per-company token endpoints). */
    externalId: string;
    signal?: AbortSignal;
  }): Promise<TokenSet>;
  /**
   * Revokes a stored connection's grant at the provider with the connector's own credentials (disconnect). A
   * credential no API can revoke (a NetSuite TBA token) answers `{revoked: false, adminAction}`: what the admin does
   * at the provider.
   */
  disconnect?(options: {
    config: Config;
    refreshToken: string;
    externalId: string;
    signal?: AbortSignal;
    // biome-ignore lint/suspicious/noConfusingVoidType: a connector that always revokes returns nothing (Promise<void>)
  }): Promise<void | { revoked: false; adminAction: string | null }>;
  createClient?(options: ClientFactoryOptions<Config>): Client;
  /**
   * A new in-process limiter for one connected company with the connector's limits (QuickBooks: concurrency and a
   * per-minute budget; NetSuite: concurrency only). The composition root builds one per company and process and
   * hands it to every client, invoice-PDF read, probe and connect of that company; connectors keep no limiters.
   */
  createLimiter?(config: Config): RequestLimiter;
  /** Requests one connected company may make (shared across processes on Postgres, src/sync/rate-budget.ts). */
  requestBudget?: RequestBudget | ((config: Config) => RequestBudget);
  /**
   * The worker enqueues a sync of each active connection whose last sync is `everyMinutes` old: the change feed of a
   * source without webhooks, and the safety net of one whose webhooks can be missed.
   */
  poll?: { everyMinutes(config: Config): number };
  sync: SyncSpec<Client, Cursor>;
  read?: LiveReadSpec<Client>;
  /** The invoice as the host renders it (its own invoice form), read live for the debtor's download link. */
  invoicePdf?(invoiceExternalId: string, options: InvoicePdfOptions<Config>): Promise<InvoicePdf>;
  /** Whether `invoicePdf` can serve under this configuration (e.g. a script it needs is configured); always when absent. */
  invoicePdfAvailable?(config: Config): boolean;
  webhooks?: WebhookSpec<Config>;
}

export interface RequestBudget {
  concurrency: number;
  perMinute: number;
}

/** What a live invoice-document read needs: the connection's credentials and request budget. */
export interface InvoicePdfOptions<Config>
  extends Pick<
    ClientFactoryOptions<Config>,
    'config' | 'externalId' | 'getAccessToken' | 'onUnauthorized' | 'limiter'
  > {
  signal?: AbortSignal;
  fetch?: typeof fetch;
  /** Gives up after this long (default 30 s). */
  timeoutMs?: number;
}

export interface InvoicePdf {
  /** The PDF bytes as they arrive. */
  body: ReadableStream<Uint8Array>;
  /** Content-Length when the host sent one. */
  length: number | null;
}
