/**
 * Intuit OAuth 2.0 (authorization code) for QuickBooks Online:
 * https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
 * Endpoints from Intuit's discovery document (https://developer.api.intuit.com/.well-known/openid_configuration/).
 *
 * The token calls use fetch directly, not intuit-oauth: its setAuthorizeURLs() mutates statics shared by every
 * client in the process (so two environments or a test sandbox would race), and we must see the HTTP status to
 * turn `{"error":"invalid_grant"}` into a typed error instead of a token set with empty fields.
 */
import { ConnectorError, codeFromStatus } from '../errors';
import type {
  AuthorizeUrlParams,
  CallbackResult,
  ClientCredentials,
  OAuthEndpoints,
  TokenRequestOptions,
  TokenSet,
} from '../types';

export type QuickbooksEnvironment = 'sandbox' | 'production';

/** The subset of the app config this connector reads (the caller parses the environment once). */
export interface QuickbooksConfig {
  QUICKBOOKS_CLIENT_ID?: string;
  QUICKBOOKS_CLIENT_SECRET?: string;
  QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN?: string;
  QUICKBOOKS_ENVIRONMENT?: QuickbooksEnvironment;
  QUICKBOOKS_AUTHORIZE_URL?: string;
  QUICKBOOKS_TOKEN_URL?: string;
  QUICKBOOKS_REVOKE_URL?: string;
  QUICKBOOKS_USERINFO_URL?: string;
  QUICKBOOKS_API_URL?: string;
  /** Where ID-token signing keys are published (Intuit's JWKS unless overridden, e.g. by the local sandbox). */
  QUICKBOOKS_JWKS_URL?: string;
  /** Minutes without a sync before a safety-net sync (config.ts; 60 when absent). */
  QUICKBOOKS_POLL_MINUTES?: number;
}

/** Where Intuit publishes the keys that sign its ID tokens (OpenID discovery `jwks_uri`, both environments). */
export const INTUIT_JWKS_URL = 'https://oauth.platform.intuit.com/op/v1/jwks';

export const QUICKBOOKS_SCOPES = ['com.intuit.quickbooks.accounting', 'openid', 'profile', 'email'] as const;
/** Intuit appends these to the redirect URI; realmId is the company id and is not in the token response. */
export const QUICKBOOKS_CALLBACK_PARAMS = ['code', 'state', 'realmId'] as const;

const INTUIT_ENDPOINTS: Record<QuickbooksEnvironment, OAuthEndpoints> = {
  production: {
    authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    userInfoUrl: 'https://accounts.platform.intuit.com/v1/openid_connect/userinfo',
    apiBaseUrl: 'https://quickbooks.api.intuit.com',
  },
  sandbox: {
    authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
    tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
    revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
    userInfoUrl: 'https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo',
    apiBaseUrl: 'https://sandbox-quickbooks.api.intuit.com',
  },
};

/** Intuit's endpoints for the environment (default sandbox), each overridable (our local sandbox, proxies). */
export function quickbooksEndpoints(config: QuickbooksConfig): OAuthEndpoints {
  const base = INTUIT_ENDPOINTS[config.QUICKBOOKS_ENVIRONMENT ?? 'sandbox'];
  return {
    authorizeUrl: config.QUICKBOOKS_AUTHORIZE_URL || base.authorizeUrl,
    tokenUrl: config.QUICKBOOKS_TOKEN_URL || base.tokenUrl,
    revokeUrl: config.QUICKBOOKS_REVOKE_URL || base.revokeUrl,
    userInfoUrl: config.QUICKBOOKS_USERINFO_URL || base.userInfoUrl,
    apiBaseUrl: config.QUICKBOOKS_API_URL || base.apiBaseUrl,
    jwksUrl: config.QUICKBOOKS_JWKS_URL || INTUIT_JWKS_URL,
  };
}

/** https://appcenter.intuit.com/connect/oauth2?client_id=..&response_type=code&scope=..&redirect_uri=..&state=.. */
export function buildAuthorizeUrl({
  authorizeUrl,
  clientId,
  redirectUri,
  state,
  scopes = QUICKBOOKS_SCOPES,
}: AuthorizeUrlParams): string {
  const url = new URL(authorizeUrl);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', scopes.join(' '));
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('state', state);
  return url.toString();
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;

/** Reads `?code&state&realmId` or Intuit's `?error=access_denied&state` from the redirect. */
export function parseCallback(query: Record<string, string | string[] | undefined>): CallbackResult {
  const state = one(query.state);
  const code = one(query.code);
  const error = one(query.error);
  if (error || !code || !state) {
    return { ok: false, state, error: error ?? 'invalid_request', description: one(query.error_description) };
  }
  return { ok: true, code, state, externalId: one(query.realmId) };
}

interface TokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  x_refresh_token_expires_in?: unknown;
  id_token?: unknown;
  error?: unknown;
  error_description?: unknown;
}

const basicAuth = ({ clientId, clientSecret }: ClientCredentials) =>
  `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

/**
 * One request to an Intuit identity endpoint (token, revoke, userinfo): the status and the JSON body (empty when the
 * answer is not JSON: callers classify by status). `what` names the endpoint in network and abort errors.
 */
export async function intuitRequest<T extends object>(
  url: string,
  init: RequestInit,
  options: { fetch?: typeof fetch; signal?: AbortSignal },
  what = 'Intuit OAuth',
): Promise<{ status: number; body: Partial<T> }> {
  let res: Response;
  let text: string;
  try {
    res = await (options.fetch ?? fetch)(url, { ...init, signal: options.signal });
    text = await res.text();
  } catch (e) {
    if (options.signal?.aborted)
      throw new ConnectorError({ code: 'aborted', message: `${what} request aborted`, cause: e });
    throw new ConnectorError({
      code: 'network',
      message: `${what} unreachable: ${(e as Error).message}`,
      cause: e,
    });
  }
  let body: Partial<T> = {};
  try {
    body = text ? (JSON.parse(text) as Partial<T>) : {};
  } catch {
    // Non-JSON error pages are classified by status.
  }
  return { status: res.status, body };
}

/** OAuth error field (RFC 6749 §5.2) first, status second. */
function tokenError(status: number, body: TokenResponse): ConnectorError {
  const providerCode = typeof body.error === 'string' ? body.error : null;
  const code =
    providerCode === 'invalid_grant'
      ? 'invalid_grant'
      : providerCode === 'invalid_client' || providerCode === 'unauthorized_client'
        ? 'unauthorized'
        : providerCode === 'invalid_request' ||
            providerCode === 'unsupported_grant_type' ||
            providerCode === 'invalid_scope'
          ? 'validation'
          : codeFromStatus(status);
  const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
  return new ConnectorError({
    code,
    status,
    providerCode,
    message: `Intuit token endpoint ${status} ${providerCode ?? ''}${description}`.trim(),
  });
}

/** POST tokenUrl (form body, client_secret_basic). A 200 without both tokens is an error, never a token set. */
async function tokenRequest(options: TokenRequestOptions, form: Record<string, string>): Promise<TokenSet> {
  const { status, body } = await intuitRequest<TokenResponse>(
    options.tokenUrl,
    {
      method: 'POST',
      headers: {
        Authorization: basicAuth(options),
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
    },
    options,
  );
  if (status !== 200 || body.error !== undefined) throw tokenError(status, body);
  if (
    typeof body.access_token !== 'string' ||
    !body.access_token ||
    typeof body.refresh_token !== 'string' ||
    !body.refresh_token
  ) {
    throw new ConnectorError({
      code: 'provider_unavailable',
      status,
      message: 'Intuit token endpoint answered without tokens',
    });
  }
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    tokenType: typeof body.token_type === 'string' ? body.token_type : 'bearer',
    expiresIn: typeof body.expires_in === 'number' ? body.expires_in : 3600,
    refreshTokenExpiresIn:
      typeof body.x_refresh_token_expires_in === 'number' ? body.x_refresh_token_expires_in : null,
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
  };
}

/** grant_type=authorization_code: the code from the callback, with the same redirect_uri as the authorize step. */
export function exchangeCode(
  options: TokenRequestOptions & { code: string; redirectUri: string },
): Promise<TokenSet> {
  return tokenRequest(options, {
    grant_type: 'authorization_code',
    code: options.code,
    redirect_uri: options.redirectUri,
  });
}

/**
 * grant_type=refresh_token. Intuit may rotate the refresh token: persist the returned pair atomically; the old
 * refresh token then fails with invalid_grant (so callers refresh under a per-realm lock and re-read first).
 */
export function refreshTokens(options: TokenRequestOptions & { refreshToken: string }): Promise<TokenSet> {
  return tokenRequest(options, { grant_type: 'refresh_token', refresh_token: options.refreshToken });
}

/** POST revokeUrl with JSON {"token": access or refresh token}; revoking the refresh token ends the connection. */
export async function revokeToken(
  options: ClientCredentials & {
    revokeUrl: string;
    token: string;
    signal?: AbortSignal;
    fetch?: typeof fetch;
  },
): Promise<void> {
  const { status, body } = await intuitRequest<TokenResponse>(
    options.revokeUrl,
    {
      method: 'POST',
      headers: {
        Authorization: basicAuth(options),
        Accept: 'application/json',
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ token: options.token }),
    },
    options,
  );
  if (status !== 200) throw tokenError(status, body);
}
