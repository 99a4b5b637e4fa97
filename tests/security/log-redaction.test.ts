/**
 * Secrets never reach a log line, at any level: one-time sign-in links, OAuth codes and state, unsubscribe tags,
 * bearer tokens, session cookies and CSRF tokens. The app logs at trace into a buffer, the test sends requests
 * carrying secrets it made up (and a real API token), then scans every captured line for them.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger, redactUrl } from '../../src/logger';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    done();
  },
});

let app: FastifyInstance;
let apiToken: string;

const testApp = suiteTestApp({ logger: createLogger('trace', sink), token: 'operator' });
beforeAll(async () => {
  app = testApp.app;
  apiToken = testApp.token;
}, 120_000);

describe('log redaction', () => {
  it('keeps sign-in tokens, OAuth codes, unsubscribe tags, bearer tokens and cookies out of trace logs', async () => {
    const secrets = {
      login: 'dll_SIGNINSECRET0001.SIGNATURE0001',
      code: 'OAUTHCODESECRET0002',
      state: 'OAUTHSTATESECRET0003',
      tag: 'UNSUBSCRIBETAGSECRET0004',
      cookie: 'dll_COOKIESECRET0005.SIG0005',
      csrf: 'CSRFSECRET0006',
      bearer: 'duely_BEARERSECRET0007',
      // An invoice PDF link opens the debtor's invoice for 90 days to whoever has it: a bearer secret like the tag.
      pdf: 'dm_0123456789abcdef01234567.0123456789abcdef0123456789abcdef.tbq8x0.PDFLINKTAGSECRET0008',
    };
    await app.inject({ url: `/login?token=${secrets.login}` });
    await app.inject({
      url: `/connect/quickbooks/callback?code=${secrets.code}&state=${secrets.state}&realmId=123`,
    });
    await app.inject({ url: `/u/${secrets.tag}` });
    await app.inject({ url: `/invoice-pdf/${secrets.pdf}` });
    await app.inject({
      method: 'POST',
      url: `/u/${secrets.tag}`,
      payload: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    await app.inject({
      url: '/api/v1/tenants',
      headers: { cookie: `duely_session=${secrets.cookie}`, 'x-csrf-token': secrets.csrf },
    });
    await app.inject({ url: '/api/v1/tenants', headers: { authorization: `Bearer ${secrets.bearer}` } });
    // A multipart upload with a real token and a cookie: @fastify/multipart logs its busboy options (the request
    // headers) at trace.
    const boundary = 'xBOUNDARYx';
    const body =
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="l.csv"\r\nContent-Type: text/csv\r\n\r\n` +
      `${csv([['ACME', 'A1', '2013-05-02', '2013-06-01', '100.00', 'USD', '', 'email', 'US']])}\r\n--${boundary}--\r\n`;
    const up = await app.inject({
      method: 'POST',
      url: '/api/v1/tenants/logco/imports',
      headers: {
        authorization: `Bearer ${apiToken}`,
        cookie: `duely_session=${secrets.cookie}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      payload: body,
    });
    expect(up.statusCode).toBe(201);

    const all = lines.join('\n');
    // The capture works: requests were logged, with their redacted URLs, and multipart's trace line is there.
    expect(all).toContain('incoming request');
    expect(all).toContain('/login?token=[redacted]');
    expect(all).toContain('/u/[redacted]');
    expect(all).toContain('/invoice-pdf/[redacted]');
    expect(all).toContain('Providing options to busboy');
    for (const [name, value] of Object.entries({ ...secrets, apiToken })) {
      expect(all.includes(value), `${name} appears in the logs`).toBe(false);
    }
    // Not a secret: kept for debugging.
    expect(all).toContain('realmId=123');
  });

  it('redactUrl keeps the path and harmless parameters', () => {
    expect(redactUrl('/connect/quickbooks/callback?code=abc&state=def&realmId=9')).toBe(
      '/connect/quickbooks/callback?code=[redacted]&state=[redacted]&realmId=9',
    );
    expect(redactUrl('/api/v1/tenants/acme/invoices?limit=2&cursor=MjAx')).toBe(
      '/api/v1/tenants/acme/invoices?limit=2&cursor=MjAx',
    );
    expect(redactUrl('/u/abc.def')).toBe('/u/[redacted]');
    expect(redactUrl('/invoice-pdf/dm_1.2.3.tag')).toBe('/invoice-pdf/[redacted]');
    expect(redactUrl('/login?id_token=x&access_token=y')).toBe(
      '/login?id_token=[redacted]&access_token=[redacted]',
    );
  });
});
