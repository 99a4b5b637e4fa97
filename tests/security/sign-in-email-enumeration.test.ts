/**
 * "Email me a sign-in link" must not tell anyone who is a Duely user. The page already said the same words for a
 * user and a stranger, but it answered only after the link was issued, rendered and handed to Resend for a user
 * (27–40 ms against the local outbox, a Resend round trip with it) and at once for a stranger (4 ms): the time
 * told. The answer now comes before any of that work, which runs after it, one request at a time.
 * This test proves the order without timing anything: Resend is held until the answer has arrived.
 */
import { eq } from 'drizzle-orm';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/auth/users';
import { accountEmails } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

const API = 'https://resend.test';
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };
let s: Services;

const t = suiteTestApp({
  token: 'operator',
  env: { RESEND_API_KEY: 're_test', RESEND_BASE_URL: API, MAIL_FROM: 'Duely <team@duely.example>' },
});
beforeAll(async () => {
  s = t.services;
  const up = await t.app.inject({
    method: 'POST',
    url: '/api/v1/tenants/acme/imports',
    headers: { ...t.auth, 'content-type': 'text/csv' },
    payload: csv([['ACME', 'A1', '2026-09-02', '2026-10-01', '100.00', 'USD', '', 'email', 'US']]),
  });
  expect(up.statusCode).toBe(201);
  await createUser(s.db, {
    tenantId: up.json().tenant.id,
    email: 'vic@acme.example',
    role: 'viewer',
    status: 'active',
  });
});
afterEach(() => {
  nock.cleanAll();
});

const ask = (email: string) =>
  t.app.inject({
    method: 'POST',
    url: '/login/email',
    headers: form,
    payload: `email=${encodeURIComponent(email)}`,
  });
const emailsTo = (to: string) => s.db.select().from(accountEmails).where(eq(accountEmails.toAddress, to));

describe('"email me a sign-in link"', () => {
  it('answers a user before the link is sent, exactly as it answers a stranger', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let resendCalled = false;
    nock(API)
      .post('/emails')
      .reply(async () => {
        resendCalled = true;
        await held;
        return [200, { id: 'em_1' }];
      });
    // Without the fix the answer waits for Resend, which waits for the answer: the race says so at once.
    const stuck = new Promise<'stuck'>((r) => {
      const poll = () => (resendCalled ? setTimeout(() => r('stuck'), 2_000) : setTimeout(poll, 10));
      poll();
    });
    const known = await Promise.race([ask('vic@acme.example'), stuck]);
    release();
    expect(known).not.toBe('stuck');
    if (known === 'stuck') return;
    const unknown = await ask('nobody@acme.example');
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(known.body.replace('vic@acme.example', 'X')).toBe(
      unknown.body.replace('nobody@acme.example', 'X'),
    );

    await s.auth.signInEmailsSettled();
    expect(await emailsTo('vic@acme.example')).toMatchObject([{ status: 'sent', providerId: 'em_1' }]);
    expect(await emailsTo('nobody@acme.example')).toEqual([]);
  });

  it('still sends at most the bound per address when asked many times at once', async () => {
    nock(API).post('/emails').times(20).reply(200, { id: 'em_n' });
    const answers = await Promise.all(Array.from({ length: 8 }, () => ask('vic@acme.example')));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(8).fill(200));
    await s.auth.signInEmailsSettled();
    expect((await emailsTo('vic@acme.example')).length).toBe(3);
  });
});
