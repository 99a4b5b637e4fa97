import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { netsuite } from '../../connectors/netsuite';
import { decodeTbaSecret } from '../../connectors/netsuite/client';
import { parseNetsuiteConfig } from '../../connectors/netsuite/config';
import {
  connectWithM2m,
  connectWithTba,
  disconnect,
  NETSUITE_PERMISSIONS,
} from '../../connectors/netsuite/connect';
import { errorBody, invalidLogin, REST, SUITEQL, suiteqlPage } from './fixtures';

const config = parseNetsuiteConfig({
  NETSUITE_CONSUMER_KEY: 'ck',
  NETSUITE_CONSUMER_SECRET: 'cs',
  NETSUITE_CLIENT_ID: 'cid',
  NETSUITE_CLIENT_SECRET: 'csecret',
});

afterEach(() => {
  nock.cleanAll();
});

function answer(handler: (q: string) => [number, unknown]) {
  let q = '';
  nock(REST)
    .persist()
    .post(SUITEQL, (body: { q: string }) => {
      q = body.q;
      return true;
    })
    .query(true)
    .reply(() => handler(q));
}

describe('NetSuite connect (TBA) and probe', () => {
  it('probes the account: parent subsidiary names the tenant, missing permissions are named', async () => {
    answer((q) => {
      if (q.includes('FROM DUAL')) return [200, suiteqlPage([{ now: '2026-04-15 10:00:00' }])];
      if (q.includes('FROM subsidiary s'))
        return [
          200,
          suiteqlPage([
            { id: '1', name: 'Acme Holdings', currency: 'USD' },
            { id: '2', name: 'Acme KK', parent: '1', currency: 'JPY' },
          ]),
        ];
      if (q.includes('DeletedRecord'))
        return [403, errorBody(403, 'INSUFFICIENT_PERMISSION', 'Permission Violation')];
      if (q.includes("'CustCred'"))
        return [400, errorBody(400, 'INVALID_PARAMETER', 'Record not found or no permission')];
      return [200, suiteqlPage([{ id: '1' }])];
    });
    const r = await connectWithTba({
      config,
      accountId: '1234567-sb1',
      tokenId: 't',
      tokenSecret: 's',
      sleep: async () => {},
    });
    expect(r).toMatchObject({
      externalId: '1234567_SB1',
      companyName: 'Acme Holdings',
      clock: '2026-04-15 10:00:00',
      authType: 'tba',
      missingPermissions: ['Transactions > Credit Memo (View)', 'Setup > Deleted Records (Full)'],
    });
    expect(r.subsidiaries).toEqual([
      { id: '1', name: 'Acme Holdings', parentId: null, currency: 'USD' },
      { id: '2', name: 'Acme KK', parentId: '1', currency: 'JPY' },
    ]);
    expect(decodeTbaSecret(r.secret)).toEqual({ tokenId: 't', tokenSecret: 's' });
    expect(NETSUITE_PERMISSIONS.map((p) => p.permission)).toContain('REST Web Services');
  });

  it('bad token: 422-worthy unauthorized with INVALID_LOGIN and the Login Audit Trail', async () => {
    answer(() => [401, invalidLogin()]);
    const err = await connectWithTba({
      config,
      accountId: '1234567_sb1',
      tokenId: 't',
      tokenSecret: 'bad',
    }).catch((e) => e);
    expect(err).toMatchObject({ code: 'unauthorized', providerCode: 'INVALID_LOGIN' });
    expect(err.userMessage).toContain('Login Audit Trail');
    // A wrong account id is refused with the same INVALID_LOGIN, and leaves no attempt in that account's trail.
    expect(err.userMessage).toMatch(/account id 1234567_SB1/);
    expect(err.userMessage).toMatch(/Company Information/);
  });

  it('refuses without Duely consumer credentials and with a malformed account id (no request)', async () => {
    await expect(
      connectWithTba({
        config: parseNetsuiteConfig({}),
        accountId: '1234567',
        tokenId: 't',
        tokenSecret: 's',
      }),
    ).rejects.toMatchObject({
      code: 'validation',
      // `duely netsuite connect` prints this: the operator learns what to set, not only that something is missing.
      userMessage: expect.stringMatching(/NETSUITE_CONSUMER_KEY and NETSUITE_CONSUMER_SECRET/),
    });
    await expect(connectWithM2m({ config, accountId: '1234567', certificateId: 'c' })).rejects.toMatchObject({
      code: 'validation',
      userMessage: expect.stringMatching(/NETSUITE_CLIENT_ID and NETSUITE_M2M_PRIVATE_KEY/),
    });
    await expect(
      connectWithTba({ config, accountId: 'evil.example.com/', tokenId: 't', tokenSecret: 's' }),
    ).rejects.toMatchObject({ code: 'validation' });
  });

  it('createClient signs a stored TBA secret and sends a stored bearer token as is', async () => {
    const headers: string[] = [];
    nock(REST)
      .persist()
      .post(SUITEQL)
      .query(true)
      .matchHeader('authorization', (v) => {
        headers.push(v ?? '');
        return true;
      })
      .reply(200, suiteqlPage([]));
    const make = (token: string) =>
      netsuite.createClient({
        config,
        externalId: '1234567_SB1',
        getAccessToken: async () => token,
        onUnauthorized: async () => token,
      });
    await make('netsuite-tba:{"tokenId":"tid","tokenSecret":"ts"}').suiteql('SELECT 1', { limit: 1 });
    await make('bearer-abc').suiteql('SELECT 1', { limit: 1 });
    expect(headers[0]).toMatch(/^OAuth realm="1234567_SB1",oauth_consumer_key="ck",oauth_token="tid"/);
    expect(headers[1]).toBe('Bearer bearer-abc');
  });
});

describe('NetSuite disconnect', () => {
  it('revokes an OAuth 2.0 refresh token', async () => {
    nock(REST).post('/services/rest/auth/oauth2/v1/revoke', 'token=rt').reply(200, '');
    expect(await disconnect({ config, accountId: '1234567_SB1', authType: 'oauth2', token: 'rt' })).toEqual({
      revoked: true,
    });
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('tells the admin where to revoke a TBA token (no API for it)', async () => {
    const r = await disconnect({ config, accountId: '1234567_SB1', authType: 'tba' });
    expect(r).toMatchObject({ revoked: false, adminAction: expect.stringContaining('Access Tokens') });
  });
});
