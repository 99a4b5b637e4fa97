/**
 * Which company (and, for "Sign in with Intuit", which user) a QuickBooks connect proved. Every callback needs a
 * verified ID token (we always ask for `openid`) whose `realmid` is the realm in the callback: the realmId query
 * parameter alone proves nothing — an attacker could strip `openid` from the authorize URL and swap realmId to file
 * another company under their tenant. A sign-in also reads the user's profile (userinfo), which must be about the
 * ID token's subject. The company's name (CompanyInfo.CompanyName) is read only when asked (a new tenant).
 */
import { ConnectorError } from '../errors';
import type { ConnectIdentity, ConnectRefusal, IdentifyOptions, RequestLimiter } from '../types';
import { QboClient } from './client';
import { type QuickbooksConfig, quickbooksEndpoints } from './oauth';
import { fetchUserInfo, type IdTokenClaims, type IntuitUser, verifyIdToken } from './openid';

const NOT_CONNECTED = 'QuickBooks was not connected';
const NOT_SIGNED_IN = 'You were not signed in';

const refuse = (status: number, title: string, message: string): ConnectRefusal => ({
  ok: false,
  status,
  title,
  message,
});

/** CompanyInfo.CompanyName with the new access token (names a new tenant after the company, not its id). */
export async function readCompanyName(
  config: QuickbooksConfig,
  realmId: string,
  accessToken: string,
  limiter?: RequestLimiter,
): Promise<string | null> {
  // A sign-in must not wait out throttles or retries: one attempt, a few seconds, else the realm id names it.
  const client = new QboClient({
    apiBaseUrl: quickbooksEndpoints(config).apiBaseUrl,
    realmId,
    getAccessToken: async () => accessToken,
    onUnauthorized: async () => {
      throw new ConnectorError({ code: 'unauthorized', message: 'the new access token was refused' });
    },
    maxServerRetries: 0,
    maxThrottleRetries: 0,
    requestTimeoutMs: 5_000,
    limiter,
  });
  const info = await client.read('CompanyInfo', realmId);
  const name = typeof info.CompanyName === 'string' ? info.CompanyName.trim() : '';
  return name || null;
}

export async function identifyQuickbooks(
  options: IdentifyOptions<QuickbooksConfig>,
): Promise<ConnectIdentity | ConnectRefusal> {
  const { config, tokens, signIn, logger: log } = options;
  const realmId = options.claimedExternalId;
  if (!realmId) return refuse(400, NOT_CONNECTED, 'QuickBooks did not say which company.');
  if (!tokens.idToken) {
    log.warn({ realmId, signIn }, 'callback without an ID token refused');
    return refuse(
      400,
      signIn ? NOT_SIGNED_IN : NOT_CONNECTED,
      'Intuit did not confirm who you are and which company you chose (no ID token). Please start again.',
    );
  }
  const endpoints = quickbooksEndpoints(config);
  let claims: IdTokenClaims;
  try {
    claims = await verifyIdToken({
      idToken: tokens.idToken,
      clientId: options.credentials.clientId,
      jwksUrl: endpoints.jwksUrl,
      signal: options.signal,
    });
  } catch (err) {
    log.warn({ err, realmId }, 'ID token refused');
    const retry = err instanceof ConnectorError && err.retryable;
    return refuse(
      retry ? 502 : 401,
      NOT_SIGNED_IN,
      retry
        ? 'Intuit could not be reached to confirm who you are. Please try again in a minute.'
        : 'Intuit could not confirm who you are. Please sign in with Intuit again.',
    );
  }
  if (claims.realmId !== realmId) {
    log.warn({ realmId, tokenRealm: claims.realmId }, 'ID token is for another company');
    return refuse(
      400,
      NOT_CONNECTED,
      'The company in the answer from Intuit does not match the company you signed in to.',
    );
  }
  let user: IntuitUser | null = null;
  if (signIn) {
    try {
      user = await fetchUserInfo({
        userInfoUrl: endpoints.userInfoUrl,
        accessToken: tokens.accessToken,
        signal: options.signal,
      });
    } catch (err) {
      // The ID token already proved who this is; the profile only adds a name and email.
      log.warn({ err }, 'Intuit userinfo failed; signing in without a profile');
      user = { sub: claims.sub, email: null, emailVerified: false, name: null };
    }
    if (user.sub !== claims.sub) {
      log.warn({}, 'userinfo is about another user than the ID token');
      return refuse(401, NOT_SIGNED_IN, 'Intuit answered about a different user. Please try again.');
    }
  }
  return {
    ok: true,
    externalId: realmId,
    user,
    displayName: () =>
      readCompanyName(config, realmId, tokens.accessToken, options.limiterFor?.(realmId)).catch(
        (err: unknown) => {
          log.warn({ err, realmId }, 'CompanyInfo read failed; naming the tenant after the realm');
          return null;
        },
      ),
  };
}
