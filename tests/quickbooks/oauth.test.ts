import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildAuthorizeUrl,
  exchangeCode,
  parseCallback,
  quickbooksEndpoints,
  refreshTokens,
  revokeToken,
} from '../../connectors/quickbooks/oauth';

const TOKEN_HOST = 'https://oauth.platform.intuit.com';
const TOKEN_PATH = '/oauth2/v1/tokens/bearer';
const creds = { clientId: 'client-1', clientSecret: 'secret-1', tokenUrl: `${TOKEN_HOST}${TOKEN_PATH}` };
const basic = `Basic ${Buffer.from('client-1:secret-1').toString('base64')}`;

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('QuickBooks OAuth endpoints', () => {
  it('resolves Intuit endpoints per environment', () => {
    expect(quickbooksEndpoints({ QUICKBOOKS_ENVIRONMENT: 'production' })).toEqual({
      authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
      tokenUrl: 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer',
      revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
      userInfoUrl: 'https://accounts.platform.intuit.com/v1/openid_connect/userinfo',
      apiBaseUrl: 'https://quickbooks.api.intuit.com',
      jwksUrl: 'https://oauth.platform.intuit.com/op/v1/jwks',
    });
    const sandbox = quickbooksEndpoints({ QUICKBOOKS_ENVIRONMENT: 'sandbox' });
    expect(sandbox.apiBaseUrl).toBe('https://sandbox-quickbooks.api.intuit.com');
    expect(sandbox.userInfoUrl).toBe(
      'https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo',
    );
  });

  it('lets config values override every URL', () => {
    const e = quickbooksEndpoints({
      QUICKBOOKS_ENVIRONMENT: 'production',
      QUICKBOOKS_AUTHORIZE_URL: 'http://127.0.0.1:1/connect/oauth2',
      QUICKBOOKS_TOKEN_URL: 'http://127.0.0.1:1/token',
      QUICKBOOKS_REVOKE_URL: 'http://127.0.0.1:1/revoke',
      QUICKBOOKS_API_URL: 'http://127.0.0.1:1',
      QUICKBOOKS_JWKS_URL: 'http://127.0.0.1:1/jwks',
    });
    expect(e).toMatchObject({
      jwksUrl: 'http://127.0.0.1:1/jwks',
      authorizeUrl: 'http://127.0.0.1:1/connect/oauth2',
      tokenUrl: 'http://127.0.0.1:1/token',
      revokeUrl: 'http://127.0.0.1:1/revoke',
      apiBaseUrl: 'http://127.0.0.1:1',
    });
  });

  it('builds the authorize URL with the four scopes, state and redirect', () => {
    const url = new URL(
      buildAuthorizeUrl({
        authorizeUrl: 'https://appcenter.intuit.com/connect/oauth2',
        clientId: 'client-1',
        redirectUri: 'https://app.example/cb',
        state: 'st-1',
      }),
    );
    expect(url.origin + url.pathname).toBe('https://appcenter.intuit.com/connect/oauth2');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'client-1',
      response_type: 'code',
      scope: 'com.intuit.quickbooks.accounting openid profile email',
      redirect_uri: 'https://app.example/cb',
      state: 'st-1',
    });
  });

  it('parses the callback, realmId included, and user denial', () => {
    expect(parseCallback({ code: 'c', state: 's', realmId: '123' })).toEqual({
      ok: true,
      code: 'c',
      state: 's',
      externalId: '123',
    });
    expect(parseCallback({ error: 'access_denied', state: 's' })).toEqual({
      ok: false,
      state: 's',
      error: 'access_denied',
      description: null,
    });
    expect(parseCallback({ state: 's' })).toMatchObject({ ok: false, error: 'invalid_request' });
  });
});

describe('QuickBooks token endpoint', () => {
  const tokenBody = {
    access_token: 'at-1',
    refresh_token: 'rt-1',
    token_type: 'bearer',
    expires_in: 3600,
    x_refresh_token_expires_in: 8726400,
    id_token: 'id-1',
  };

  it('exchanges the code with client_secret_basic and a form body', async () => {
    nock(TOKEN_HOST, {
      reqheaders: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    })
      .post(
        TOKEN_PATH,
        'grant_type=authorization_code&code=code-1&redirect_uri=https%3A%2F%2Fapp.example%2Fcb',
      )
      .reply(200, tokenBody);
    await expect(
      exchangeCode({ ...creds, code: 'code-1', redirectUri: 'https://app.example/cb' }),
    ).resolves.toEqual({
      accessToken: 'at-1',
      refreshToken: 'rt-1',
      tokenType: 'bearer',
      expiresIn: 3600,
      refreshTokenExpiresIn: 8726400,
      idToken: 'id-1',
    });
  });

  it('refreshes with grant_type=refresh_token and returns the rotated pair', async () => {
    nock(TOKEN_HOST)
      .post(TOKEN_PATH, 'grant_type=refresh_token&refresh_token=rt-1')
      .reply(200, { ...tokenBody, access_token: 'at-2', refresh_token: 'rt-2' });
    await expect(refreshTokens({ ...creds, refreshToken: 'rt-1' })).resolves.toMatchObject({
      accessToken: 'at-2',
      refreshToken: 'rt-2',
    });
  });

  it('turns {"error":"invalid_grant"} (HTTP 400) into a typed non-retryable error, never empty tokens', async () => {
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(400, { error: 'invalid_grant' });
    await expect(refreshTokens({ ...creds, refreshToken: 'stale' })).rejects.toMatchObject({
      code: 'invalid_grant',
      status: 400,
      retryable: false,
      providerCode: 'invalid_grant',
    });
    nock(TOKEN_HOST)
      .post(TOKEN_PATH)
      .reply(400, { error: 'invalid_grant', error_description: 'Token invalid' });
    await expect(refreshTokens({ ...creds, refreshToken: 'stale' })).rejects.toMatchObject({
      code: 'invalid_grant',
    });
  });

  it('rejects a 200 without tokens and classifies client and server errors', async () => {
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(200, {});
    await expect(refreshTokens({ ...creds, refreshToken: 'x' })).rejects.toMatchObject({
      code: 'provider_unavailable',
    });
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(401, { error: 'invalid_client' });
    await expect(refreshTokens({ ...creds, refreshToken: 'x' })).rejects.toMatchObject({
      code: 'unauthorized',
      retryable: false,
    });
    nock(TOKEN_HOST).post(TOKEN_PATH).reply(503, 'upstream down');
    await expect(refreshTokens({ ...creds, refreshToken: 'x' })).rejects.toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
    });
  });

  it('revokes with a JSON body', async () => {
    nock('https://developer.api.intuit.com', {
      reqheaders: { authorization: basic, 'content-type': 'application/json' },
    })
      .post('/v2/oauth2/tokens/revoke', { token: 'rt-1' })
      .reply(200, '');
    await expect(
      revokeToken({
        clientId: 'client-1',
        clientSecret: 'secret-1',
        revokeUrl: 'https://developer.api.intuit.com/v2/oauth2/tokens/revoke',
        token: 'rt-1',
      }),
    ).resolves.toBeUndefined();
  });
});
