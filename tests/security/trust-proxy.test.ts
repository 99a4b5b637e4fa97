/**
 * X-Forwarded-* headers count only when TRUST_PROXY names the proxy. Without it, a client cannot claim another
 * host or protocol (the sign-in form's same-origin check) or another address (rate-limit keys).
 */
import type { FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config';
import { suiteTestApp } from '../helpers/app';

// Built before the tests (hook timeout): two fresh databases take a while on a busy machine.
const direct = suiteTestApp({ queue: false, token: false }, 120_000);
const proxied = suiteTestApp({ env: { TRUST_PROXY: '127.0.0.1' }, queue: false, token: false }, 120_000);

/** A cross-site sign-in form that claims, through X-Forwarded-*, to come from the host it posts to. */
async function forgedLogin(app: FastifyInstance) {
  return app.inject({
    method: 'POST',
    url: '/login',
    headers: {
      origin: 'https://evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '203.0.113.7',
      'content-type': 'application/x-www-form-urlencoded',
    },
    payload: 'token=dll_x.y',
  });
}

describe('TRUST_PROXY', () => {
  it('is off by default: forwarded headers from a client change nothing', async () => {
    const r = await forgedLogin(direct.app);
    expect(r.statusCode).toBe(403);
    expect(r.body).toContain('The form came from another site');
  });

  it('when the proxy is trusted, its forwarded host and protocol are used', async () => {
    // inject() connects from 127.0.0.1, the trusted proxy here; the forged origin now matches the forwarded host.
    const r = await forgedLogin(proxied.app);
    expect(r.body).not.toContain('The form came from another site');
  });

  it('parses booleans, hop counts and address lists', () => {
    const base = { APP_SECRET: 'x'.repeat(32), DATA_DIR: '/tmp/duely-trust-proxy' };
    expect(loadConfig(base).TRUST_PROXY).toBe(false);
    expect(loadConfig({ ...base, TRUST_PROXY: 'true' }).TRUST_PROXY).toBe(true);
    expect(loadConfig({ ...base, TRUST_PROXY: '2' }).TRUST_PROXY).toBe(2);
    expect(loadConfig({ ...base, TRUST_PROXY: '127.0.0.1, 10.0.0.0/8' }).TRUST_PROXY).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
    ]);
  });
});
