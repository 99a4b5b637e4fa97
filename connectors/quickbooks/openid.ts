/**
 * "Sign in with Intuit" (OpenID Connect on the same authorization-code flow as the QuickBooks connection):
 * https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/openid-connect
 *
 * The ID token is verified with jose: issuer, audience (our client id), expiry, and the RS256 signature against
 * the keys Intuit publishes (JWKS, fetched through `fetch` from the configured address, so a test sandbox and
 * production never share state). Only RS256 is accepted (no `alg: none`, no HMAC with a public key). The claims we
 * use are then read from the verified token: `sub` (the Intuit user) and `realmid` (the company the user signed in
 * to). Profile fields come from the userinfo endpoint with the access token.
 */
import { createLocalJWKSet, decodeJwt, errors as joseErrors, type JSONWebKeySet, jwtVerify } from 'jose';
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

const refused = (message: string, cause?: unknown) =>
  new ConnectorError({
    code: 'unauthorized',
    message: `ID token refused: ${message}`,
    userMessage: 'Intuit could not confirm who you are. Please sign in again.',
    cause,
  });

/**
 * Verifies an Intuit ID token and returns its claims; throws ConnectorError('unauthorized') for a forged, expired or
 * foreign token and ConnectorError('network'/'provider_unavailable') when the JWKS cannot be read.
 * The cheap claim checks (issuer, audience, expiry) run before the JWKS is fetched, so a foreign token costs no
 * request; the signature check then verifies all of them again over the signed bytes.
 */
export async function verifyIdToken(options: {
  idToken: string;
  clientId: string;
  /** Unused (ID tokens are signed with Intuit's keys, not the client secret); kept for callers. */
  clientSecret?: string;
  /** Unused (both environments share one issuer and JWKS); kept for callers. */
  environment?: 'sandbox' | 'production';
  jwksUrl?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}): Promise<IdTokenClaims> {
  if (options.idToken.split('.').length !== 3) {
    throw new ConnectorError({ code: 'unauthorized', message: 'the ID token is not a JWT' });
  }
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    unverified = decodeJwt(options.idToken);
  } catch (e) {
    throw refused('not a decodable JWT', e);
  }
  if (unverified.iss !== INTUIT_ISSUER) throw refused('invalid issuer');
  const aud = Array.isArray(unverified.aud) ? unverified.aud : [unverified.aud];
  if (!aud.includes(options.clientId)) throw refused('invalid audience');
  if (typeof unverified.exp !== 'number' || unverified.exp < Date.now() / 1000) throw refused('expired');

  const { status, body } = await intuitRequest<JSONWebKeySet>(
    options.jwksUrl ?? INTUIT_JWKS_URL,
    { headers: { Accept: 'application/json' } },
    options,
    'Intuit JWKS',
  );
  if (status !== 200 || !Array.isArray(body.keys)) {
    const code = status === 200 ? 'provider_unavailable' : codeFromStatus(status);
    throw new ConnectorError({
      code: code === 'unauthorized' ? 'provider_unavailable' : code,
      status,
      message: `Intuit JWKS answered ${status}`,
    });
  }
  let claims: Awaited<ReturnType<typeof jwtVerify>>['payload'];
  try {
    ({ payload: claims } = await jwtVerify(options.idToken, createLocalJWKSet(body as JSONWebKeySet), {
      issuer: INTUIT_ISSUER,
      audience: options.clientId,
      algorithms: ['RS256'],
    }));
  } catch (e) {
    throw refused(e instanceof joseErrors.JOSEError ? e.code : String(e), e);
  }
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
