import { generateKeyPairSync } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildAuthorizeUrl,
  clientCredentialsToken,
  createPkce,
  exchangeCode,
  parseCallback,
  refreshTokenExpiresAt,
  refreshTokenHealth,
  refreshTokens,
  revokeToken,
} from '../../connectors/netsuite/oauth2';

const HOST = 'https://1234567-sb1.suitetalk.api.netsuite.com';
const TOKEN_URL = `${HOST}/services/rest/auth/oauth2/v1/token`;
const REVOKE_URL = `${HOST}/services/rest/auth/oauth2/v1/revoke`;
const client = { clientId: 'cid', clientSecret: 'csecret' };
const basic = `Basic ${Buffer.from('cid:csecret').toString('base64')}`;
const NOW = new Date('2026-04-15T12:00:00Z');

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

async function jwtExpiringIn(seconds: number): Promise<string> {
  const secret = new TextEncoder().encode('x'.repeat(32));
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(Math.floor(NOW.getTime() / 1000) + seconds)
    .sign(secret);
}

describe('NetSuite OAuth 2.0 authorization code', () => {
  it('builds the per-account authorize URL with PKCE S256 and rest_webservices', () => {
    const pkce = createPkce('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    // RFC 7636 Appendix B.
    expect(pkce.challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
    const url = new URL(
      buildAuthorizeUrl({
        authorizeUrl: 'https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl',
        clientId: 'cid',
        redirectUri: 'https://duely.example/connect/netsuite/callback',
        state: 's'.repeat(22),
        codeChallenge: pkce.challenge,
      }),
    );
    expect(url.origin + url.pathname).toBe(
      'https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl',
    );
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'cid',
      redirect_uri: 'https://duely.example/connect/netsuite/callback',
      scope: 'rest_webservices',
      state: 's'.repeat(22),
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
  });

  it('refuses a state outside 22..1024 characters and a missing challenge', () => {
    const base = {
      authorizeUrl: 'https://x.example/a',
      clientId: 'c',
      redirectUri: 'https://r.example',
      codeChallenge: 'c',
    };
    expect(() => buildAuthorizeUrl({ ...base, state: 's'.repeat(21) })).toThrow(/22-1024/);
    expect(() => buildAuthorizeUrl({ ...base, state: 's'.repeat(1025) })).toThrow(/22-1024/);
    expect(() => buildAuthorizeUrl({ ...base, state: 's'.repeat(1024) })).not.toThrow();
    expect(() => buildAuthorizeUrl({ ...base, codeChallenge: undefined, state: 's'.repeat(30) })).toThrow(
      /PKCE/,
    );
  });

  it('parses the callback: company comes back as the account id in realm form', () => {
    expect(parseCallback({ code: 'c', state: 's', role: '3', entity: '-5', company: '1234567_SB1' })).toEqual(
      {
        ok: true,
        code: 'c',
        state: 's',
        externalId: '1234567_SB1',
      },
    );
    expect(parseCallback({ code: 'c', state: 's', company: '1234567-sb1' })).toMatchObject({
      externalId: '1234567_SB1',
    });
    expect(parseCallback({ error: 'access_denied', state: 's' })).toEqual({
      ok: false,
      state: 's',
      error: 'access_denied',
      description: null,
    });
    expect(parseCallback({ code: 'c', state: 's', company: 'evil.com/x' })).toMatchObject({ ok: false });
  });

  it('exchanges the code with the verifier and reports the 7-day refresh expiry', async () => {
    const refresh = await jwtExpiringIn(7 * 86400);
    nock(HOST, { reqheaders: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' } })
      .post('/services/rest/auth/oauth2/v1/token', {
        grant_type: 'authorization_code',
        code: 'the-code',
        redirect_uri: 'https://duely.example/cb',
        code_verifier: 'v'.repeat(43),
      })
      .reply(200, { access_token: 'at', refresh_token: refresh, expires_in: '3600', token_type: 'Bearer' });
    const t = await exchangeCode({
      ...client,
      tokenUrl: TOKEN_URL,
      code: 'the-code',
      redirectUri: 'https://duely.example/cb',
      codeVerifier: 'v'.repeat(43),
      now: () => NOW,
    });
    expect(t).toMatchObject({
      accessToken: 'at',
      refreshToken: refresh,
      expiresIn: 3600,
      refreshTokenExpiresIn: 604800,
    });
    expect(refreshTokenExpiresAt(refresh)?.toISOString()).toBe('2026-04-22T12:00:00.000Z');
  });

  it('refuses to exchange without the verifier (no request made)', async () => {
    await expect(
      exchangeCode({ ...client, tokenUrl: TOKEN_URL, code: 'c', redirectUri: 'r' }),
    ).rejects.toMatchObject({
      code: 'validation',
    });
  });

  it('refresh keeps the same refresh token and reports what is left of its 7 days', async () => {
    const refresh = await jwtExpiringIn(2 * 86400);
    nock(HOST, { reqheaders: { authorization: basic } })
      .post('/services/rest/auth/oauth2/v1/token', { grant_type: 'refresh_token', refresh_token: refresh })
      .reply(200, { access_token: 'at2', expires_in: '3600', token_type: 'Bearer' });
    const t = await refreshTokens({ ...client, tokenUrl: TOKEN_URL, refreshToken: refresh, now: () => NOW });
    expect(t).toMatchObject({ accessToken: 'at2', refreshToken: refresh, refreshTokenExpiresIn: 2 * 86400 });
  });

  it('an expired refresh token is a typed invalid_grant that tells the admin to reconnect', async () => {
    nock(HOST).post('/services/rest/auth/oauth2/v1/token').reply(400, { error: 'invalid_grant' });
    const err = await refreshTokens({ ...client, tokenUrl: TOKEN_URL, refreshToken: 'old' }).catch((e) => e);
    expect(err).toMatchObject({
      code: 'invalid_grant',
      status: 400,
      retryable: false,
      providerCode: 'invalid_grant',
    });
    expect(err.userMessage).toMatch(/7 days/);
  });

  it('a 200 without an access token is not a token set', async () => {
    nock(HOST).post('/services/rest/auth/oauth2/v1/token').reply(200, { token_type: 'Bearer' });
    await expect(refreshTokens({ ...client, tokenUrl: TOKEN_URL, refreshToken: 'r' })).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
  });

  it('revokes with Basic auth and a form token', async () => {
    nock(HOST, { reqheaders: { authorization: basic } })
      .post('/services/rest/auth/oauth2/v1/revoke', 'token=rt')
      .reply(200, '');
    await revokeToken({ ...client, revokeUrl: REVOKE_URL, token: 'rt' });
    nock(HOST).post('/services/rest/auth/oauth2/v1/revoke').reply(401, { error: 'invalid_client' });
    await expect(revokeToken({ ...client, revokeUrl: REVOKE_URL, token: 'rt' })).rejects.toMatchObject({
      code: 'unauthorized',
    });
  });
});

describe('NetSuite OAuth 2.0 client credentials (M2M)', () => {
  it('posts a PS256 assertion with kid = certificate id, iss = client id, aud = token URL, scope', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    let form: URLSearchParams | null = null;
    nock(HOST)
      .post('/services/rest/auth/oauth2/v1/token', (body) => {
        form = new URLSearchParams(body as unknown as string);
        return true;
      })
      .reply(200, { access_token: 'm2m-at', expires_in: '3600', token_type: 'Bearer' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const t = await clientCredentialsToken({
      tokenUrl: TOKEN_URL,
      clientId: 'cid',
      certificateId: 'cert-123',
      privateKey: pem,
      now: () => NOW,
    });
    expect(t).toEqual({
      accessToken: 'm2m-at',
      refreshToken: '',
      tokenType: 'Bearer',
      expiresIn: 3600,
      refreshTokenExpiresIn: null,
      idToken: null,
    });
    const sent = form as unknown as URLSearchParams;
    expect(sent.get('grant_type')).toBe('client_credentials');
    expect(sent.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    const assertion = sent.get('client_assertion') ?? '';
    expect(decodeProtectedHeader(assertion)).toEqual({ typ: 'JWT', alg: 'PS256', kid: 'cert-123' });
    const { payload } = await jwtVerify(assertion, publicKey, {
      issuer: 'cid',
      audience: TOKEN_URL,
      currentDate: NOW,
      algorithms: ['PS256'],
    });
    expect(payload.scope).toBe('rest_webservices');
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBeLessThan(3600);
  });

  it('signs ES256 with a P-256 key and rejects an unreadable key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let assertion = '';
    nock(HOST)
      .post('/services/rest/auth/oauth2/v1/token', (body) => {
        assertion = new URLSearchParams(body as unknown as string).get('client_assertion') ?? '';
        return true;
      })
      .reply(200, { access_token: 'x' });
    await clientCredentialsToken({ tokenUrl: TOKEN_URL, clientId: 'c', certificateId: 'k', privateKey });
    expect(decodeProtectedHeader(assertion).alg).toBe('ES256');
    await expect(
      clientCredentialsToken({ tokenUrl: TOKEN_URL, clientId: 'c', certificateId: 'k', privateKey: 'nope' }),
    ).rejects.toMatchObject({ code: 'validation' });
  });
});

describe('refresh-token health (7-day lapse)', () => {
  it('is ok, then expiring within 48 hours, then expired', () => {
    const exp = new Date('2026-04-22T12:00:00Z');
    expect(refreshTokenHealth(exp, new Date('2026-04-15T12:00:00Z'))).toEqual({
      state: 'ok',
      expiresAt: exp,
    });
    expect(refreshTokenHealth(exp, new Date('2026-04-21T00:30:00Z'))).toEqual({
      state: 'expiring',
      expiresAt: exp,
      hoursLeft: 35,
    });
    expect(refreshTokenHealth(exp, new Date('2026-04-22T12:00:00Z'))).toEqual({
      state: 'expired',
      expiresAt: exp,
    });
    expect(refreshTokenHealth(null, NOW)).toEqual({ state: 'unknown' });
  });
});
