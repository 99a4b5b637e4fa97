/**
 * One request must not hurt the server: validators bound the length of a value before any pattern reads it,
 * JSON bodies are small (413 above HTTP_BODY_LIMIT) except the authenticated CSV upload, and a client that sends
 * its body slowly has its socket closed after HTTP_REQUEST_TIMEOUT_MS.
 */

import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { fillMergeFields, MERGE_FIELDS, type MergeField, mergeFieldErrors } from '../../emails/merge-fields';
import { encodeCursor } from '../../src/db/queries/lists';
import { ensureTenant } from '../../src/db/queries/tenants';
import { PHONE_PATTERN, senderSettingsSchema } from '../../src/dunning/sender-settings';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let tenantId: string;
let operator: { authorization: string };

const sender = {
  companyName: 'Acme Receivables Ltd',
  replyTo: 'ar@acme.example',
  address: ['1 Ledger Lane'],
  phone: '+1 (555) 010-0200',
};

const noValues = Object.fromEntries(Object.keys(MERGE_FIELDS).map((k) => [k, ''])) as Record<
  MergeField,
  string
>;

const t = suiteTestApp({ token: 'operator' }, 120_000);
beforeAll(async () => {
  ({ services: s, app, auth: operator } = t);
  tenantId = (await ensureTenant(s.db, 'Acme', 'csv')).id;
});
afterEach(() => vi.restoreAllMocks());

/** Every string a RegExp was asked to read while `fn` ran. */
/**
 * Every string a pattern was asked to read while `fn` ran. A lone character class (zod's own surrogate count for
 * `.max`) reads each character once whatever the input, so it is left out.
 */
function regexInputsDuring(fn: () => void): string[] {
  const seen: string[] = [];
  const test = RegExp.prototype.test;
  const exec = RegExp.prototype.exec;
  const linear = (r: RegExp) => /^\[[^\]]*\]$/.source !== r.source && /^\[[^\]]*\]$/.test(r.source);
  vi.spyOn(RegExp.prototype, 'test').mockImplementation(function (this: RegExp, input: string) {
    if (!linear(this)) seen.push(String(input));
    return test.call(this, input);
  });
  vi.spyOn(RegExp.prototype, 'exec').mockImplementation(function (this: RegExp, input: string) {
    if (!linear(this)) seen.push(String(input));
    return exec.call(this, input);
  });
  try {
    fn();
  } finally {
    vi.restoreAllMocks();
  }
  return seen;
}

describe('validators bound lengths before patterns', () => {
  const huge = '1'.padEnd(96 * 1024, ' ');

  it('a 94 KiB phone number answers 400 naming the field, and /health still answers', async () => {
    const r = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${tenantId}/settings`,
      headers: operator,
      payload: { sender: { ...sender, phone: `1${' '.repeat(94 * 1024)}!` } },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details).toEqual([
      { field: 'sender.phone', message: 'the phone number is longer than 40 characters' },
    ]);
    expect((await app.inject('/health')).statusCode).toBe(200);
  });

  it('no pattern of the sender schema ever reads an over-long value', () => {
    for (const field of ['companyName', 'replyTo', 'phone'] as const) {
      let result: ReturnType<typeof senderSettingsSchema.safeParse> | undefined;
      const inputs = regexInputsDuring(() => {
        result = senderSettingsSchema.safeParse({ ...sender, [field]: `x${huge}x` });
      });
      expect(result?.success, field).toBe(false);
      expect(Math.max(0, ...inputs.map((i) => i.length)), field).toBeLessThanOrEqual(254);
    }
    const inputs = regexInputsDuring(() => {
      senderSettingsSchema.safeParse({ ...sender, address: [`x${huge}`, `y${huge}`] });
    });
    expect(Math.max(0, ...inputs.map((i) => i.length))).toBeLessThanOrEqual(254);
  });

  it('the phone pattern still accepts real numbers and extensions, and has no overlapping repeats', () => {
    for (const ok of ['+1 (555) 010-0200', '555-1234 x12', '555 1234 ext. 12', '030/1234567'])
      expect(PHONE_PATTERN.test(ok), ok).toBe(true);
    for (const bad of ['12', 'call me', '555 1234 ext'.padEnd(30, '!')])
      expect(PHONE_PATTERN.test(bad), bad).toBe(false);
    // The quadratic form was a separator run that may also be read as the whitespace before "ext" (`[… ]{2,}\s*`).
    expect(PHONE_PATTERN.source).not.toMatch(/\\s\*/);
  });

  it('manual recipients are bounded addresses, at most 10', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/overrides`,
      headers: operator,
      payload: {
        customerId: '00000000-0000-4000-8000-000000000000',
        contactEmails: Array.from({ length: 11 }, (_, i) => `a${i}@example.com`),
      },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details[0].field).toBe('contactEmails');
    const long = await app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/overrides`,
      headers: operator,
      payload: {
        customerId: '00000000-0000-4000-8000-000000000000',
        contactEmails: [`${'a'.repeat(300)}@x.com`],
      },
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().error.details[0].field).toBe('contactEmails.0');
  });
});

describe('merge fields are read in linear time', () => {
  // A step's own wording is scanned for {{merge fields}} whenever a draft is previewed (any role, a viewer too) or a
  // policy saved. The scanner's pattern read blanks three ways (`\{\{\s*([^{}]*?)\s*\}\}`): "{{", 2000 blanks and
  // one more character took 8.6 s, the 5000 a body may hold about two minutes, with every request of every tenant
  // waiting behind it.
  const stall = `{{${' '.repeat(4990)}x`;

  it('a draft body of "{{", 4990 blanks and a letter answers 400 naming the field, and /health still answers', async () => {
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/dunning/preview`,
      headers: operator,
      payload: {
        invoice: '00000000-0000-4000-8000-000000000000',
        sequence: 'standard',
        step: 0,
        draft: { offsetDays: 1, tone: 'neutral', copy: { body: stall } },
      },
    });
    expect(r.statusCode, r.body).toBe(400);
    expect(r.json().error.details).toEqual([
      { field: 'draft.copy.body', message: 'unbalanced {{ or }}: write a merge field as {{name}}' },
    ]);
    expect((await app.inject('/health')).statusCode).toBe(200);
  });

  it('blanks around a merge field still name it, and the text around it is kept', () => {
    expect(mergeFieldErrors('Dear {{  customer }}, {{\ttotal\n}} is due')).toEqual([]);
    expect(mergeFieldErrors('{{ custmer }}')[0]).toMatch(/^unknown merge field \{\{custmer\}\}/);
    expect(mergeFieldErrors(`${stall}}}`)[0]).toMatch(/^unknown merge field \{\{x\}\}/);
    expect(
      fillMergeFields('Dear {{ customer }}, {{sender}}.', { ...noValues, customer: 'Ada', sender: 'Acme' }),
    ).toBe('Dear Ada, Acme.');
  });
});

describe('crafted input is a 400, never a 500', () => {
  it('a pagination cursor that was not issued by the server answers 400', async () => {
    const b64 = (v: string) => Buffer.from(v).toString('base64url');
    const crafted = [
      b64('2013-07-01|not-a-uuid'),
      b64('2013-99-99|00000000-0000-4000-8000-000000000000'),
      b64("2013-07-01|00000000-0000-4000-8000-000000000000' or 1=1 --"),
      b64('2013-07-01'),
      b64('|||'),
      'not base64 at all!',
      // Shaped like the server's own cursors (base64url JSON [sort key, id]) but with values SQL would choke on.
      b64('["2013-99-99","00000000-0000-4000-8000-000000000000"]'),
      b64('["2013-07-01","not-a-uuid"]'),
      b64('[{"x":1},"00000000-0000-4000-8000-000000000000"]'),
    ];
    for (const cursor of crafted) {
      const r = await app.inject({
        url: `/api/v1/tenants/${tenantId}/invoices?cursor=${encodeURIComponent(cursor)}`,
        headers: operator,
      });
      expect(r.statusCode, cursor).toBe(400);
      expect(r.json().error.code).toBe('invalid_request');
    }
    // A cursor shaped as the server issues them still works.
    const next = encodeCursor({ k: '2013-07-01', id: '00000000-0000-4000-8000-000000000000' });
    const ok = await app.inject({
      url: `/api/v1/tenants/${tenantId}/invoices?limit=1&cursor=${encodeURIComponent(next)}`,
      headers: operator,
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('body limits', () => {
  it('a JSON body over HTTP_BODY_LIMIT answers 413', async () => {
    const r = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${tenantId}/settings`,
      headers: { ...operator, 'content-type': 'application/json' },
      payload: JSON.stringify({ locale: 'en', pad: 'x'.repeat(s.config.HTTP_BODY_LIMIT) }),
    });
    expect(r.statusCode).toBe(413);
  });

  it('the CSV upload takes a body larger than the JSON limit', async () => {
    const rows: string[][] = [];
    for (let i = 0; rows.length * 60 < s.config.HTTP_BODY_LIMIT * 1.5; i++)
      rows.push([`C${i % 50}`, `INV-${i}`, '2013-05-02', '2013-06-01', '100.00', 'USD', '', 'email', 'US']);
    const body = csv(rows);
    expect(body.length).toBeGreaterThan(s.config.HTTP_BODY_LIMIT);
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/bigco/imports`,
      headers: { ...operator, 'content-type': 'text/csv' },
      payload: body,
    });
    expect(r.statusCode).toBe(201);
  });

  it('text/csv is refused by every other route', async () => {
    const r = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${tenantId}/settings`,
      headers: { ...operator, 'content-type': 'text/csv' },
      payload: 'a,b\n1,2\n',
    });
    expect(r.statusCode).toBe(415);
  });
});

describe('slow bodies', () => {
  let server: FastifyInstance;
  let port: number;
  let token: string;
  afterAll(() => nock.activate()); // after the app closes: after-hooks run last registered first
  const slowApp = suiteTestApp(() => {
    // nock's interceptor holds raw sockets until it sees a whole HTTP request; these tests need the real socket.
    nock.restore();
    return { env: { HTTP_REQUEST_TIMEOUT_MS: '300' }, token: 'operator' };
  }, 120_000);
  beforeAll(async () => {
    ({ app: server, token } = slowApp);
    await server.listen({ host: '127.0.0.1', port: 0 });
    port = (server.server.address() as { port: number }).port;
  });

  /** Sends headers promising 1000 bytes and then only 10; resolves with what came back once the server closed. */
  const dribble = (headers: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      let data = '';
      socket.on('data', (d) => {
        data += d.toString();
      });
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      socket.write(
        `PATCH /api/v1/tenants/x/settings HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n${headers}` +
          'content-length: 1000\r\n\r\n{"locale":',
      );
    });

  it('an unauthenticated slow body gets its 401 and the connection is closed, not left open for the body', async () => {
    const answer = await dribble('');
    expect(answer).toMatch(/^HTTP\/1\.1 401/);
    expect(answer.toLowerCase()).toContain('connection: close');
  });

  it('an authenticated body that does not arrive within HTTP_REQUEST_TIMEOUT_MS is cut off', async () => {
    // Closed by the server (Node answers 408 when it can), not left hanging until the test times out.
    const answer = await dribble(`authorization: Bearer ${token}\r\n`);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});
