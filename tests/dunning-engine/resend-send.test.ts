import { eq } from 'drizzle-orm';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { MAX_PROVIDER_ATTEMPTS, sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, messagesOf, setup } from './fixtures';

const API = 'https://api.resend.com';
let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  nock.disableNetConnect();
  ({ s, clock, tenantId } = await setup({ env: { RESEND_API_KEY: 're_test_123' } }));
  await planTenant(s, tenantId);
  await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
}, 120_000);
afterEach(() => {
  nock.cleanAll();
});
afterAll(async () => {
  nock.enableNetConnect();
  await s?.close();
});

describe('sending through Resend (mocked in its real shapes)', () => {
  it('POST /emails with the idempotency key, one-click unsubscribe and the message_id tag; records the provider id', async () => {
    const [m] = (await messagesOf(s, tenantId)).filter((x) => x.status === 'queued');
    clock.set(m!.sendAt);
    let body: Record<string, unknown> = {};
    const scope = nock(API, { reqheaders: { 'idempotency-key': m!.id, authorization: 'Bearer re_test_123' } })
      .post('/emails', (b) => {
        body = b;
        return true;
      })
      .reply(200, { id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' });

    expect(await sendMessage(s, m!.id)).toEqual({
      outcome: 'sent',
      providerId: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794',
    });
    expect(scope.isDone()).toBe(true);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(row).toMatchObject({ status: 'sent', providerId: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' });
    expect(body).toMatchObject({
      from: 'Acme Billing <billing@acme.example>',
      to: m!.to,
      reply_to: 'billing@acme.example',
      subject: row!.subject,
      html: row!.html,
      text: row!.text,
    });
    const headers = body.headers as Record<string, string>;
    expect(headers['List-Unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:3000\/u\/dm_[0-9a-f]{24}\.[\w-]+>$/);
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(body.tags).toContainEqual({ name: 'message_id', value: m!.id });
  });

  it('5xx: retried inside the call (re-checked each time), then back to queued with a new job; the next attempt sends once under the same key', async () => {
    const queued = (await messagesOf(s, tenantId)).filter((x) => x.status === 'queued');
    const m = queued[0]!;
    clock.set(m.sendAt);
    const outage = { statusCode: 500, name: 'internal_server_error', message: 'Unexpected error' };
    nock(API).post('/emails').times(3).reply(500, outage);
    expect(await sendMessage(s, m.id, { sleep: async () => {} })).toMatchObject({
      outcome: 'deferred',
      code: 'retrying',
    });
    const [mid] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(mid).toMatchObject({ status: 'queued', attempts: 3, leaseOwner: null });
    expect(mid!.error).toMatch(/internal_server_error/);
    // A 5xx may have been accepted: the 24 h key window now counts from the first such attempt.
    expect(mid!.inDoubtSince?.toISOString()).toBe(m.sendAt.toISOString());

    clock.set(mid!.sendAt);
    nock(API, { reqheaders: { 'idempotency-key': m.id } })
      .post('/emails')
      .reply(200, { id: 're_after_outage' });
    expect(await sendMessage(s, m.id)).toEqual({ outcome: 'sent', providerId: 're_after_outage' });
  }, 30_000);

  it('a 422 (invalid request) fails the message without retrying', async () => {
    // Start over with fresh messages (same deterministic ids, queued again).
    await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    clock.set('2013-07-01T00:00:00Z');
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const queued = (await messagesOf(s, tenantId)).filter((x) => x.status === 'queued');
    expect(queued.length).toBeGreaterThan(0);
    const m = queued[0]!;
    clock.set(m.sendAt);
    nock(API)
      .post('/emails')
      .reply(422, { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' });
    expect(await sendMessage(s, m.id)).toMatchObject({ outcome: 'skipped', code: 'send_failed' });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row).toMatchObject({ status: 'failed' });
    expect(row!.error).toMatch(/Invalid `to` field/);
  });
});

describe('giving up', () => {
  it('one that may have got through is not given up after MAX_PROVIDER_ATTEMPTS (the key window decides); 429s never use the attempts up', async () => {
    await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    clock.set('2013-07-01T00:00:00Z');
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const [a, b] = (await messagesOf(s, tenantId)).filter((x) => x.status === 'queued');
    for (const [m, reply] of [
      [a!, [429, { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' }]],
      [b!, [503, { statusCode: 503, name: 'application_error', message: 'Service unavailable' }]],
    ] as const) {
      nock(API).post('/emails').times(MAX_PROVIDER_ATTEMPTS).reply(reply[0], reply[1]);
      // A rate limit refuses before anything is queued: after it lifts, the message still goes. A 503 may have
      // been accepted: retried under the same key (safe for 23 h) until Resend answers, however many calls it takes.
      nock(API)
        .post('/emails')
        .reply(200, { id: m === a ? 're_after_rate_limit' : 're_after_outage' });
      for (let i = 0; i < 12; i++) {
        const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
        if (row!.status !== 'queued') break;
        clock.set(new Date(Math.max(row!.sendAt.getTime(), clock.now().getTime())));
        await sendMessage(s, m.id, { sleep: async () => {} });
      }
    }
    const rows = await messagesOf(s, tenantId);
    expect(rows.find((r) => r.id === a!.id)).toMatchObject({
      status: 'sent',
      providerId: 're_after_rate_limit',
      attempts: 1,
    });
    expect(rows.find((r) => r.id === b!.id)).toMatchObject({
      status: 'sent',
      providerId: 're_after_outage',
      attempts: MAX_PROVIDER_ATTEMPTS + 1,
    });
  }, 60_000);
});
