/**
 * NetSuite as a registered connector: its credential-form connect (TBA, M2M), what it stores, and how each stored
 * credential refreshes (M2M mints a new token with the certificate id; TBA cannot, so a rejection means reconnect).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectorFor, isProvider } from '../../connectors';
import { parseNetsuiteConfig } from '../../connectors/netsuite';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';

const logger = { info() {}, warn() {}, error() {} };
let sandbox: NetsuiteSandbox;
const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  type: 'pkcs8',
  format: 'pem',
}) as string;

beforeAll(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 5, customers: 4 }) });
  await sandbox.start();
});
afterAll(async () => {
  await sandbox?.stop();
});

const config = () => parseNetsuiteConfig({ ...sandbox.env(), NETSUITE_M2M_PRIVATE_KEY: key });

describe('netsuite in the registry', () => {
  it('is registered with both connect methods, its form fields and permission checklist', () => {
    expect(isProvider('netsuite')).toBe(true);
    const c = connectorFor('netsuite' as never);
    expect(c.connect?.methods).toEqual(['oauth', 'credentials']);
    expect(c.connect?.credentialFields?.map((f) => f.name)).toEqual([
      'accountId',
      'type',
      'tokenId',
      'tokenSecret',
      'certificateId',
    ]);
    expect(c.connect?.permissions).toContain('Setup > REST Web Services (Full)');
    expect(c.poll?.everyMinutes(config())).toBe(15);
    const budget = c.requestBudget as (cfg: unknown) => { concurrency: number };
    expect(budget(parseNetsuiteConfig({ NETSUITE_CONCURRENCY: '5' })).concurrency).toBe(5);
  });

  it('TBA: proves the account, stores a non-expiring secret whose refresh is refused (reconnect needed)', async () => {
    const c = connectorFor('netsuite' as never);
    const result = await c.connect!.connectWithCredentials!({
      config: config(),
      fields: {
        accountId: '1234567-sb1',
        type: 'tba',
        tokenId: 'sandbox-token-id',
        tokenSecret: 'sandbox-token-secret',
      },
      logger,
    });
    if (!('tokens' in result)) throw new Error(`refused: ${JSON.stringify(result)}`);
    expect(result).toMatchObject({
      externalId: '1234567_SB1',
      displayName: 'Duely Demo Holdings Inc.',
      missingPermissions: [],
    });
    expect(result.tokens.accessToken).toMatch(/^netsuite-tba:/);
    expect(result.tokens.expiresIn).toBeGreaterThan(10 * 365 * 24 * 3600);
    await expect(
      c.refreshTokens!({
        config: config(),
        refreshToken: result.tokens.refreshToken,
        externalId: '1234567_SB1',
      }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
  });

  it('bad TBA secret: a 422 refusal saying INVALID_LOGIN and the Login Audit Trail', async () => {
    const result = await connectorFor('netsuite' as never).connect!.connectWithCredentials!({
      config: config(),
      fields: { accountId: '1234567_SB1', type: 'tba', tokenId: 'sandbox-token-id', tokenSecret: 'wrong' },
      logger,
    });
    expect(result).toMatchObject({ ok: false, status: 422, title: 'INVALID_LOGIN' });
    expect((result as { message: string }).message).toMatch(/Login Audit Trail/);
  });

  it('M2M: stores the certificate id and mints a fresh access token with it on refresh', async () => {
    const c = connectorFor('netsuite' as never);
    const result = await c.connect!.connectWithCredentials!({
      config: config(),
      fields: { accountId: '1234567_SB1', type: 'm2m', certificateId: 'sandbox-certificate' },
      logger,
    });
    if (!('tokens' in result)) throw new Error(`refused: ${JSON.stringify(result)}`);
    expect(result.tokens.refreshToken).toBe('netsuite-m2m:sandbox-certificate');
    expect(result.tokens.expiresIn).toBeLessThanOrEqual(3600);
    const fresh = await c.refreshTokens!({
      config: config(),
      refreshToken: result.tokens.refreshToken,
      externalId: '1234567_SB1',
    });
    expect(fresh.accessToken).toBeTruthy();
    expect(fresh.accessToken).not.toBe(result.tokens.accessToken);
    expect(fresh.refreshToken).toBe('netsuite-m2m:sandbox-certificate');
    await expect(
      c.refreshTokens!({
        config: config(),
        refreshToken: 'netsuite-m2m:unknown-cert',
        externalId: '1234567_SB1',
      }),
    ).rejects.toMatchObject({ code: 'invalid_grant' });
  });
});
