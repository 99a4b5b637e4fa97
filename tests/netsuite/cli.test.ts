/**
 * `duely netsuite connect|probe` (= `duely connect|probe netsuite`), generic over credential-form connectors:
 * flags from the connector's fields, the tenant created when missing, the first sync queued, INVALID_LOGIN shown.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetsuiteCompany, NetsuiteSandbox } from '../../sandboxes/netsuite';
import { runCli } from '../helpers/cli';

let sandbox: NetsuiteSandbox;
const saved = { ...process.env };

beforeAll(async () => {
  sandbox = new NetsuiteSandbox({ company: NetsuiteCompany.generate({ seed: 3, customers: 4 }) });
  await sandbox.start();
  delete process.env.DATABASE_URL;
  Object.assign(process.env, sandbox.env(), {
    DATA_DIR: mkdtempSync(path.join(tmpdir(), 'duely-cli-')),
    APP_SECRET: 'test-secret-0123456789abcdefghijklmnopqrstuvwxyz',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'test',
  });
});
afterAll(async () => {
  // In place: assigning a copy to process.env would leave whatever runs after in this process a plain object (values
  // no longer coerced to strings) instead of the real environment.
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  await sandbox?.stop();
});

describe('duely netsuite connect|probe', () => {
  it('bad token secret: exit 1 naming INVALID_LOGIN and the Login Audit Trail', async () => {
    const r = await runCli([
      'netsuite',
      'connect',
      '--tenant',
      'Acme NS',
      '--account',
      '1234567_SB1',
      '--token-id',
      'sandbox-token-id',
      '--token-secret',
      'wrong',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/INVALID_LOGIN/);
    expect(r.err).toMatch(/Login Audit Trail/);
    // Nothing was created for refused credentials.
    expect((await runCli(['probe', '--tenant', 'acme-ns'])).err).toMatch(/tenant acme-ns not found/);
  });

  it('connects with TBA (creating the tenant), then probes the stored connection', async () => {
    const r = await runCli([
      'netsuite',
      'connect',
      '--tenant',
      'Acme NS',
      '--account',
      '1234567_SB1',
      '--token-id',
      'sandbox-token-id',
      '--token-secret',
      'sandbox-token-secret',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Connected NetSuite 1234567_SB1 to tenant acme-ns/);
    const p = await runCli(['netsuite', 'probe', '--tenant', 'acme-ns']);
    expect(p.code).toBe(0);
    expect(JSON.parse(p.out)).toMatchObject({
      provider: 'netsuite',
      tenant: 'acme-ns',
      externalId: '1234567_SB1',
      displayName: 'Duely Demo Holdings Inc.',
      missingPermissions: [],
    });
    // The generic spelling works as well.
    expect((await runCli(['probe', 'netsuite', '--tenant', 'acme-ns'])).code).toBe(0);
    // The same account again into the same tenant (typed as its URLs spell it): renewed, not refused as
    // "another company's books".
    const again = await runCli([
      'connect',
      'netsuite',
      '--tenant',
      'acme-ns',
      '--account',
      '1234567-sb1',
      '--token-id',
      'sandbox-token-id',
      '--token-secret',
      'sandbox-token-secret',
    ]);
    expect(again.err).toBe('');
    expect(again.out).toMatch(/Connected NetSuite 1234567_SB1 to tenant acme-ns/);
  });

  it('a provider without a credential form is a usage error', async () => {
    const r = await runCli(['connect', 'quickbooks', '--tenant', 'x']);
    expect(r.code).toBe(2);
  });
});
