/**
 * NetSuite OAuth 2.0, both grants (NetSuite will accept no new TBA integrations from 2027.1).
 *
 * Authorization code + PKCE (Oracle help section_158081944642 "Step One GET Request to the Authorization
 * Endpoint", section_160855590788 "Step Two POST Request to the Token Endpoint"):
 *   GET https://<account>.app.netsuite.com/app/login/oauth2/authorize.nl?response_type=code&client_id&redirect_uri
 *       &scope=rest_webservices&state(22..1024 chars)&code_challenge&code_challenge_method=S256
 *   -> redirect_uri?code&state&role&entity&company=<account id>
 *   POST https://<account>.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token (Basic client auth,
 *       form grant_type=authorization_code&code&redirect_uri&code_verifier)
 *   Access tokens live 60 minutes, refresh tokens 7 days from the code exchange; a refresh returns a new access
 *   token only. After 7 days the admin must connect again: `refreshTokenExpiresAt` lets the app warn before.
 *
 * Client credentials (M2M), for unattended syncs (Oracle help section_162755359851 "POST Request to the Token
 * Endpoint and the Access Token Response", section_162790605110 "The Request Token Structure"):
 *   POST token endpoint, form grant_type=client_credentials
 *       &client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=<JWT>
 *   JWT header {typ: "JWT", alg: PS256|PS384|PS512|ES256|ES384|ES512, kid: <certificate id from the M2M mapping>}
 *   payload {iss: <client id>, scope: "rest_webservices" (comma-separated list), aud: <token endpoint>,
 *            iat, exp (less than 60 minutes after iat)}. RSA keys sign PS256 (RS256 is not accepted), EC P-256 ES256.
 */
import { createHash, createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { ConnectorError, codeFromStatus } from '../errors';
import type {
  AuthorizeUrlParams,
  CallbackResult,
  ClientCredentials,
  TokenRequestOptions,
  TokenSet,
} from '../types';
import { realmAccountId } from './config';

export const NETSUITE_SCOPES = ['rest_webservices'] as const;
/** NetSuite appends these to the redirect URI; `company` is the account id. */
export const NETSUITE_CALLBACK_PARAMS = ['code', 'state', 'role', 'entity', 'company'] as const;
/** Oracle: refresh tokens are valid for 7 days; access tokens for 60 minutes. */
export const NETSUITE_REFRESH_TOKEN_LIFETIME_S = 7 * 24 * 3600;
export const NETSUITE_ACCESS_TOKEN_LIFETIME_S = 3600;
export const STATE_MIN = 22;
export const STATE_MAX = 1024;

export interface Pkce {
  verifier: string;
  challenge: string;
  method: 'S256';
}

/** RFC 7636: a 43-char base64url verifier (32 random bytes) and its S256 challenge. */
export function createPkce(verifier = randomBytes(32).toString('base64url')): Pkce {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) {
    throw new ConnectorError({
      code: 'validation',
      message: 'PKCE verifier must be 43-128 unreserved characters',
    });
  }
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url'), method: 'S256' };
}

export interface NetsuiteAuthorizeParams extends AuthorizeUrlParams {
  /** S256 challenge of the verifier kept with the state (required: NetSuite checks it at the exchange). */
  codeChallenge?: string;
}

/** The authorize URL; `authorizeUrl` is per account (or system.netsuite.com when the account is unknown). */
export function buildAuthorizeUrl({
  authorizeUrl,
  clientId,
  redirectUri,
  state,
  scopes = NETSUITE_SCOPES,
  codeChallenge,
}: NetsuiteAuthorizeParams): string {
  if (state.length < STATE_MIN || state.length > STATE_MAX) {
    throw new ConnectorError({
      code: 'validation',
      message: `NetSuite requires a state of ${STATE_MIN}-${STATE_MAX} characters (got ${state.length})`,
    });
  }
  if (!codeChallenge) {
    throw new ConnectorError({
      code: 'validation',
      message: 'NetSuite authorize URL needs a PKCE code challenge',
    });
  }
  const url = new URL(authorizeUrl);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', scopes.join(' '));
  url.searchParams.set('state', state);
  url.searchParams.set('code_challenge', codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  return url.toString();
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? null;

/** `?code&state&role&entity&company` or `?error=access_denied&state`; the account id comes back in realm form. */
export function parseCallback(query: Record<string, string | string[] | undefined>): CallbackResult {
  const state = one(query.state);
  const code = one(query.code);
  const error = one(query.error);
  if (error || !code || !state) {
    return { ok: false, state, error: error ?? 'invalid_request', description: one(query.error_description) };
  }
  const company = one(query.company);
  let externalId: string | null = null;
  try {
    externalId = company ? realmAccountId(company) : null;
  } catch {
    return {
      ok: false,
      state,
      error: 'invalid_request',
      description: 'company is not a NetSuite account id',
    };
  }
  return { ok: true, code, state, externalId };
}

interface TokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  id_token?: unknown;
  error?: unknown;
  error_description?: unknown;
}

/** One request to a NetSuite identity endpoint: status and JSON body (empty when not JSON). */
async function identityRequest(
  url: string,
  init: RequestInit,
  options: { fetch?: typeof fetch; signal?: AbortSignal },
): Promise<{ status: number; body: TokenResponse }> {
  let res: Response;
  let text: string;
  try {
    res = await (options.fetch ?? fetch)(url, { ...init, signal: options.signal });
    text = await res.text();
  } catch (e) {
    if (options.signal?.aborted)
      throw new ConnectorError({ code: 'aborted', message: 'NetSuite OAuth request aborted', cause: e });
    throw new ConnectorError({
      code: 'network',
      message: `NetSuite OAuth unreachable: ${(e as Error).message}`,
      cause: e,
    });
  }
  let body: TokenResponse = {};
  try {
    body = text ? (JSON.parse(text) as TokenResponse) : {};
  } catch {
    // Classified by status.
  }
  return { status: res.status, body: typeof body === 'object' && body !== null ? body : {} };
}

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
    message: `NetSuite token endpoint ${status} ${providerCode ?? ''}${description}`.trim(),
    userMessage:
      code === 'invalid_grant'
        ? 'NetSuite access has expired (refresh tokens last 7 days) or was revoked. Please reconnect NetSuite.'
        : undefined,
  });
}

const basicAuth = ({ clientId, clientSecret }: ClientCredentials) =>
  `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;

/** NetSuite sends expires_in as a string ("3600") in places; accept both. */
function seconds(v: unknown, fallback: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : fallback;
}

/**
 * When a refresh token lapses: NetSuite refresh tokens are JWTs whose `exp` is the end of the 7-day window
 * (Oracle help section_158255317571). Null when the token is opaque (e.g. a stand-in's).
 */
export function refreshTokenExpiresAt(refreshToken: string): Date | null {
  try {
    const { exp } = decodeJwt(refreshToken);
    return typeof exp === 'number' ? new Date(exp * 1000) : null;
  } catch {
    return null;
  }
}

async function tokenRequest(
  options: { tokenUrl: string; signal?: AbortSignal; fetch?: typeof fetch },
  form: Record<string, string>,
  auth: string | null,
): Promise<{ status: number; body: TokenResponse }> {
  const { status, body } = await identityRequest(
    options.tokenUrl,
    {
      method: 'POST',
      headers: {
        ...(auth ? { Authorization: auth } : {}),
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form).toString(),
    },
    options,
  );
  if (status !== 200 || body.error !== undefined) throw tokenError(status, body);
  if (typeof body.access_token !== 'string' || !body.access_token) {
    throw new ConnectorError({
      code: 'provider_unavailable',
      status,
      message: 'NetSuite token endpoint answered without an access token',
    });
  }
  return { status, body };
}

/** grant_type=authorization_code with the PKCE verifier. The refresh token lapses 7 days from now. */
export async function exchangeCode(
  options: TokenRequestOptions & {
    code: string;
    redirectUri: string;
    codeVerifier?: string;
    now?: () => Date;
  },
): Promise<TokenSet> {
  if (!options.codeVerifier) {
    throw new ConnectorError({
      code: 'validation',
      message: 'NetSuite code exchange needs the PKCE code verifier',
    });
  }
  const { status, body } = await tokenRequest(
    options,
    {
      grant_type: 'authorization_code',
      code: options.code,
      redirect_uri: options.redirectUri,
      code_verifier: options.codeVerifier,
    },
    basicAuth(options),
  );
  if (typeof body.refresh_token !== 'string' || !body.refresh_token) {
    throw new ConnectorError({
      code: 'provider_unavailable',
      status,
      message: 'NetSuite code exchange without a refresh token',
    });
  }
  const now = (options.now ?? (() => new Date()))().getTime();
  const exp = refreshTokenExpiresAt(body.refresh_token)?.getTime();
  return {
    accessToken: body.access_token as string,
    refreshToken: body.refresh_token,
    tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
    expiresIn: seconds(body.expires_in, NETSUITE_ACCESS_TOKEN_LIFETIME_S),
    refreshTokenExpiresIn:
      exp !== undefined ? Math.max(0, Math.floor((exp - now) / 1000)) : NETSUITE_REFRESH_TOKEN_LIFETIME_S,
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
  };
}

/**
 * grant_type=refresh_token. NetSuite does not rotate the refresh token: the answer carries a new access token
 * only, so the same refresh token is returned with what is left of its 7 days (from its `exp`; null if opaque:
 * the caller keeps the expiry it stored at the exchange). After that the admin must connect again.
 */
export async function refreshTokens(
  options: TokenRequestOptions & { refreshToken: string; now?: () => Date },
): Promise<TokenSet> {
  const { body } = await tokenRequest(
    options,
    { grant_type: 'refresh_token', refresh_token: options.refreshToken },
    basicAuth(options),
  );
  const refreshToken =
    typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : options.refreshToken;
  const exp = refreshTokenExpiresAt(refreshToken)?.getTime();
  const now = (options.now ?? (() => new Date()))().getTime();
  return {
    accessToken: body.access_token as string,
    refreshToken,
    tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
    expiresIn: seconds(body.expires_in, NETSUITE_ACCESS_TOKEN_LIFETIME_S),
    refreshTokenExpiresIn: exp !== undefined ? Math.max(0, Math.floor((exp - now) / 1000)) : null,
    idToken: typeof body.id_token === 'string' ? body.id_token : null,
  };
}

/** POST revoke endpoint (Basic client auth, form token=<refresh or access token>). */
export async function revokeToken(
  options: ClientCredentials & {
    revokeUrl: string;
    token: string;
    signal?: AbortSignal;
    fetch?: typeof fetch;
  },
): Promise<void> {
  const { status, body } = await identityRequest(
    options.revokeUrl,
    {
      method: 'POST',
      headers: {
        Authorization: basicAuth(options),
        Accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: options.token }).toString(),
    },
    options,
  );
  if (status !== 200) throw tokenError(status, body);
}

export type M2mAlgorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

export interface M2mOptions {
  tokenUrl: string;
  clientId: string;
  /** Certificate ID NetSuite shows after mapping the certificate to the integration (the JWT `kid`). */
  certificateId: string;
  /** PEM private key of that certificate (NETSUITE_M2M_PRIVATE_KEY). */
  privateKey: string | KeyObject;
  algorithm?: M2mAlgorithm;
  scopes?: readonly string[];
  now?: () => Date;
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

/** PS256 for RSA keys, ES256/384/512 by the EC curve. */
function algorithmFor(key: KeyObject): M2mAlgorithm {
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'PS256';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'P-256') return 'ES256';
    if (curve === 'secp384r1' || curve === 'P-384') return 'ES384';
    if (curve === 'secp521r1' || curve === 'P-521') return 'ES512';
  }
  throw new ConnectorError({
    code: 'validation',
    message: `NetSuite M2M needs an RSA or EC (P-256/384/521) key, got ${key.asymmetricKeyType}`,
  });
}

/** The signed client assertion (valid 5 minutes: NetSuite refuses exp more than 60 minutes after iat). */
export async function m2mAssertion(options: M2mOptions): Promise<string> {
  let key: KeyObject;
  try {
    key = typeof options.privateKey === 'string' ? createPrivateKey(options.privateKey) : options.privateKey;
  } catch (e) {
    throw new ConnectorError({
      code: 'validation',
      message: 'NETSUITE_M2M_PRIVATE_KEY is not a readable private key',
      cause: e,
    });
  }
  const alg = options.algorithm ?? algorithmFor(key);
  const iat = Math.floor((options.now ?? (() => new Date()))().getTime() / 1000);
  return new SignJWT({ scope: (options.scopes ?? NETSUITE_SCOPES).join(',') })
    .setProtectedHeader({ typ: 'JWT', alg, kid: options.certificateId })
    .setIssuer(options.clientId)
    .setAudience(options.tokenUrl)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(key);
}

/**
 * grant_type=client_credentials with a certificate-signed assertion. There is no refresh token: when the access
 * token (60 minutes) lapses, ask again (`refreshToken` is empty, `refreshTokenExpiresIn` null).
 */
export async function clientCredentialsToken(options: M2mOptions): Promise<TokenSet> {
  const assertion = await m2mAssertion(options);
  const { body } = await tokenRequest(
    options,
    {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    },
    null,
  );
  return {
    accessToken: body.access_token as string,
    refreshToken: '',
    tokenType: typeof body.token_type === 'string' ? body.token_type : 'Bearer',
    expiresIn: seconds(body.expires_in, NETSUITE_ACCESS_TOKEN_LIFETIME_S),
    refreshTokenExpiresIn: null,
    idToken: null,
  };
}

export type RefreshTokenHealth =
  | { state: 'ok'; expiresAt: Date }
  | { state: 'expiring'; expiresAt: Date; hoursLeft: number }
  | { state: 'expired'; expiresAt: Date }
  | { state: 'unknown' };

/**
 * Where an authorization-code connection stands against its 7-day refresh token: the Connections page warns from
 * `warnHours` (default 48) before the lapse, and after it the connection needs the admin to reconnect (unattended
 * syncs should use TBA or M2M instead). `expiresAt` is the stored expiry (or `refreshTokenExpiresAt(token)`).
 */
export function refreshTokenHealth(expiresAt: Date | null, now: Date, warnHours = 48): RefreshTokenHealth {
  if (!expiresAt || Number.isNaN(expiresAt.getTime())) return { state: 'unknown' };
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return { state: 'expired', expiresAt };
  if (left <= warnHours * 3600_000) {
    return { state: 'expiring', expiresAt, hoursLeft: Math.floor(left / 3600_000) };
  }
  return { state: 'ok', expiresAt };
}
