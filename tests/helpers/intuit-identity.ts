/**
 * An Intuit identity provider for tests: an RSA key, its JWKS, and RS256 ID tokens with Intuit's claims
 * (iss, aud[], sub, realmid, iat, exp), plus nock interceptors for the JWKS, userinfo and CompanyInfo on Intuit's
 * real hosts (sandbox environment, the default).
 */
import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import nock from 'nock';
import { INTUIT_ISSUER } from '../../connectors/quickbooks/openid';

export interface IdClaims {
  iss?: string;
  aud?: string[];
  sub?: string;
  realmid?: string;
  iat?: number;
  exp?: number;
}

export function signRs256(key: KeyObject, kid: string, claims: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'RS256', kid, typ: 'JWT' })}.${part(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key).toString('base64url')}`;
}

export function intuitIdentity(clientId: string) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'test-kid-1';
  const jwk = publicKey.export({ format: 'jwk' });
  const jwks = { keys: [{ kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: jwk.n, e: jwk.e }] };
  /** A valid ID token for `sub` in `realmid` unless claims say otherwise; `key` signs with another key. */
  const idToken = (claims: IdClaims, opts: { key?: KeyObject } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return signRs256(opts.key ?? privateKey, kid, {
      iss: INTUIT_ISSUER,
      aud: [clientId],
      iat: now,
      exp: now + 3600,
      ...claims,
    });
  };
  return {
    jwks,
    idToken,
    nockJwks: () => nock('https://oauth.platform.intuit.com').get('/op/v1/jwks').reply(200, jwks),
    nockUserInfo: (user: {
      sub: string;
      email: string;
      givenName?: string;
      familyName?: string;
      emailVerified?: boolean;
    }) =>
      nock('https://sandbox-accounts.platform.intuit.com')
        .get('/v1/openid_connect/userinfo')
        .reply(200, { emailVerified: true, ...user }),
    nockCompanyInfo: (realmId: string, companyName: string) =>
      nock('https://sandbox-quickbooks.api.intuit.com')
        .get(`/v3/company/${realmId}/companyinfo/${realmId}`)
        .query(true)
        .reply(200, {
          CompanyInfo: { Id: realmId, CompanyName: companyName },
          time: new Date().toISOString(),
        }),
  };
}
