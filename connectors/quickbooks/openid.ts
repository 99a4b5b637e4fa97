/**
 * "Sign in with Intuit" (OpenID Connect on the same authorization-code flow as the QuickBooks connection):
 * https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/openid-connect
 *
 * The ID token is checked by intuit-oauth's `validateIdToken`: issuer, audience (our client id), expiry, and the
 * RS256 signature against Intuit's JWKS (jsonwebtoken, which refuses `alg: none` and HMAC with an RSA key). Its JWKS
 * address is a static shared by every client, so we point one client instance at the configured JWKS instead of
 * mutating the static (a test sandbox and production must not race). The claims we use are then read from the
 * verified token: `sub` (the Intuit user) and `realmid` (the company the user signed in to). Profile fields come
 * from the userinfo endpoint with the access token.
 */
import OAuthClient from 'intuit-oauth';
import { ConnectorError, codeFromStatus } from '../errors';
import { INTUIT_JWKS_URL, intuitRequest } from './oauth';

export const INTUIT_ISSUER = 'https://oauth.platform.intuit.com/op/v1';

export interface IdTokenClaims {
  /** The Intuit user id, stable across companies. */
  sub: string;
  /** The QuickBooks company (realm) the user signed in to, when the accounting scope was granted. */
  realmId: string | null;
  issuedAt: number;
  expiresAt: number;
}

export interface IntuitUser {
  sub: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

type KeyLookup = (idToken: string, kid: string, request: { url: string }) => Promise<unknown>;

function decodePayload(idToken: string): Record<string, unknown> {
  const part = idToken.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/**
 * Verifies an Intuit ID token and returns its claims; throws ConnectorError('unauthorized') for a forged, expired or
 * foreign token and ConnectorError('network'/'provider_unavailable') when the JWKS cannot be read.
 */
export async function verifyIdToken(options: {
  idToken: string;
  clientId: string;
  clientSecret: string;
  environment: 'sandbox' | 'production';
  jwksUrl?: string;
}): Promise<IdTokenClaims> {
  if (options.idToken.split('.').length !== 3) {
    throw new ConnectorError({ code: 'unauthorized', message: 'the ID token is not a JWT' });
  }
  const client = new OAuthClient({
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    environment: options.environment,
    redirectUri: 'urn:unused',
    logging: false,
  });
  const jwksUrl = options.jwksUrl ?? INTUIT_JWKS_URL;
  const instance = client as unknown as { getKeyFromJWKsURI: KeyLookup };
  const lookup = instance.getKeyFromJWKsURI.bind(client);
  instance.getKeyFromJWKsURI = (idToken, kid, request) => lookup(idToken, kid, { ...request, url: jwksUrl });
  client.setToken({ id_token: options.idToken } as Parameters<typeof client.setToken>[0]);
  let valid: boolean;
  try {
    valid = await client.validateIdToken();
  } catch (e) {
    const err = e as { message?: string; response?: { status?: number }; code?: string };
    const status = err.response?.status;
    if (status) {
      throw new ConnectorError({
        code: codeFromStatus(status) === 'unauthorized' ? 'provider_unavailable' : codeFromStatus(status),
        status,
        message: `Intuit JWKS answered ${status}`,
        cause: e,
      });
    }
    if (err.code && /^E[A-Z]+$/.test(err.code)) {
      throw new ConnectorError({
        code: 'network',
        message: `Intuit JWKS unreachable: ${err.message}`,
        cause: e,
      });
    }
    throw new ConnectorError({
      code: 'unauthorized',
      message: `ID token refused: ${err.message ?? String(e)}`,
      userMessage: 'Intuit could not confirm who you are. Please sign in again.',
      cause: e,
    });
  }
  if (!valid) throw new ConnectorError({ code: 'unauthorized', message: 'ID token refused' });
  const claims = decodePayload(options.idToken);
  if (typeof claims.sub !== 'string' || claims.sub === '') {
    throw new ConnectorError({ code: 'unauthorized', message: 'ID token without a subject' });
  }
  return {
    sub: claims.sub,
    realmId: typeof claims.realmid === 'string' && claims.realmid !== '' ? claims.realmid : null,
    issuedAt: typeof claims.iat === 'number' ? claims.iat : 0,
    expiresAt: typeof claims.exp === 'number' ? claims.exp : 0,
  };
}

/** GET userinfo with the access token: the user's name and email (scopes profile and email). */
export async function fetchUserInfo(options: {
  userInfoUrl: string;
  accessToken: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}): Promise<IntuitUser> {
  const { status, body } = await intuitRequest<Record<string, unknown>>(
    options.userInfoUrl,
    { headers: { Authorization: `Bearer ${options.accessToken}`, Accept: 'application/json' } },
    options,
    'Intuit userinfo',
  );
  if (status !== 200 || typeof body.sub !== 'string') {
    throw new ConnectorError({
      code: status === 200 ? 'provider_unavailable' : codeFromStatus(status),
      status,
      message: `Intuit userinfo answered ${status}`,
    });
  }
  const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
  const name = [str(body.givenName), str(body.familyName)].filter(Boolean).join(' ');
  return {
    sub: body.sub,
    email: str(body.email),
    emailVerified: body.emailVerified === true,
    name: name || null,
  };
}
