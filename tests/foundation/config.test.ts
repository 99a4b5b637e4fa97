import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'duely-config-'));

describe('configuration', () => {
  it('needs nothing: defaults, embedded database, generated secret kept in DATA_DIR', () => {
    const dir = tmp();
    const c = loadConfig({ DATA_DIR: dir });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.PORT).toBe(3000);
    expect(c.PUBLIC_URL).toBe('http://127.0.0.1:3000');
    expect(c.secretGenerated).toBe(true);
    expect(c.APP_SECRET.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dir, 'secret.key');
    expect(readFileSync(file, 'utf8').trim()).toBe(c.APP_SECRET);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The same secret on the next start: sealed credentials stay readable.
    expect(loadConfig({ DATA_DIR: dir }).APP_SECRET).toBe(c.APP_SECRET);
  });

  it('uses APP_SECRET from the environment when set', () => {
    const c = loadConfig({ DATA_DIR: tmp(), APP_SECRET: 'x'.repeat(40) });
    expect(c.APP_SECRET).toBe('x'.repeat(40));
    expect(c.secretGenerated).toBe(false);
  });

  it('names every bad variable', () => {
    try {
      loadConfig({
        DATA_DIR: tmp(),
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        DUELY_NOW: '2013-02-30',
        APP_SECRET: 'short',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const vars = (err as ConfigError).issues.map((i) => i.variable).sort();
      expect(vars).toEqual(['APP_SECRET', 'DATABASE_URL', 'DUELY_NOW', 'PORT']);
      expect((err as Error).message).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    }
  });

  it('treats empty strings as unset (a blank line in .env does not break the start)', () => {
    const c = loadConfig({ DATA_DIR: tmp(), DATABASE_URL: '', RESEND_API_KEY: ' ', PUBLIC_URL: '' });
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c.RESEND_API_KEY).toBeUndefined();
  });

  it('accepts the QuickBooks settings that are part of the product contract', () => {
    const c = loadConfig({
      DATA_DIR: tmp(),
      QUICKBOOKS_CLIENT_ID: 'id',
      QUICKBOOKS_CLIENT_SECRET: 'secret',
      QUICKBOOKS_ENVIRONMENT: 'production',
      QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: 'v',
      QUICKBOOKS_API_URL: 'http://127.0.0.1:4000/v3/company/',
    });
    expect(c.QUICKBOOKS_ENVIRONMENT).toBe('production');
    expect(() => loadConfig({ DATA_DIR: tmp(), QUICKBOOKS_ENVIRONMENT: 'staging' })).toThrow(
      /QUICKBOOKS_ENVIRONMENT/,
    );
  });
});
