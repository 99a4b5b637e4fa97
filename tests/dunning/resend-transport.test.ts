import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { ResendTransport, retryAnHourLater } from '../../src/mail/resend';
import { MailSendError, type OutboundEmail } from '../../src/mail/transport';

const API = 'https://api.resend.com';
const msg: OutboundEmail = {
  id: 'msg_01JD4Z',
  from: 'Acme AR <ar@acme.example>',
  to: ['ap@debtor.example'],
  replyTo: 'billing@acme.example',
  subject: 'Payment reminder: invoice 1042 is overdue',
  html: '<p>hi</p>',
  text: 'hi',
  unsubscribeUrl: 'https://app.duely.example/u/abc',
  tags: { tenant: 't-1' },
};
const rateLimited = {
  statusCode: 429,
  message: 'Too many requests. Please limit the number of requests per second.',
  name: 'rate_limit_exceeded',
};

function transport(sleeps: number[] = []) {
  return new ResendTransport({
    apiKey: 're_test_123',
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

afterEach(() => {
  expect(nock.isDone()).toBe(true);
  nock.cleanAll();
});

describe('ResendTransport', () => {
  it('sends with the idempotency key, one-click unsubscribe headers and tags; returns the provider id', async () => {
    let body: Record<string, unknown> = {};
    nock(API, {
      reqheaders: { 'idempotency-key': msg.id, authorization: 'Bearer re_test_123' },
    })
      .post('/emails', (b) => {
        body = b;
        return true;
      })
      .reply(200, { id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' });

    await expect(transport().send(msg)).resolves.toEqual({
      providerId: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794',
    });
    expect(body).toMatchObject({
      from: msg.from,
      to: msg.to,
      reply_to: msg.replyTo,
      subject: msg.subject,
      headers: {
        'List-Unsubscribe': '<https://app.duely.example/u/abc>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
      // message_id is added by the transport so webhook events find their message row.
      tags: [
        { name: 'tenant', value: 't-1' },
        { name: 'message_id', value: 'msg_01JD4Z' },
      ],
    });
  });

  it('one attempt per call: a 429 is thrown with its retry-after, never slept on inside (the sender re-checks first)', async () => {
    const sleeps: number[] = [];
    nock(API).post('/emails').reply(429, rateLimited, { 'retry-after': '2', 'ratelimit-limit': '2' });
    const err = await transport(sleeps)
      .send(msg)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MailSendError);
    // Answered before anything was queued: not delivered, whatever happens next.
    expect(err).toMatchObject({
      code: 'rate_limit_exceeded',
      retryable: true,
      retryAfterMs: 2000,
      mayHaveBeenAccepted: false,
    });
    expect(sleeps).toEqual([]);
  });

  it.each([
    [500, { statusCode: 500, message: 'boom', name: 'internal_server_error' }, 'internal_server_error'],
    [502, '<html>bad gateway</html>', 'application_error'],
  ])('a %i is retryable and may have been accepted', async (status, body, code) => {
    nock(API).post('/emails').reply(status, body);
    const err = await transport()
      .send(msg)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code, statusCode: status, retryable: true, mayHaveBeenAccepted: true });
  });

  it('a dropped connection (after the body went out) may have been accepted', async () => {
    nock(API).post('/emails').replyWithError('socket hang up');
    const err = await transport()
      .send(msg)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'application_error',
      statusCode: null,
      retryable: true,
      mayHaveBeenAccepted: true,
    });
  });

  it.each([
    [422, { statusCode: 422, message: 'Missing `email` field.', name: 'missing_required_field' }, false],
    [
      409,
      {
        statusCode: 409,
        message: 'Same idempotency key used with a different request payload.',
        name: 'invalid_idempotent_request',
      },
      // Another body was accepted under this key before.
      true,
    ],
  ])('does not retry a %i', async (status, body, accepted) => {
    const sleeps: number[] = [];
    nock(API).post('/emails').once().reply(status, body);
    const err = await transport(sleeps)
      .send(msg)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: body.name,
      statusCode: status,
      retryable: false,
      mayHaveBeenAccepted: accepted,
    });
    expect(sleeps).toEqual([]);
  });

  it.each([
    [403, { statusCode: 403, message: 'The from domain is not verified', name: 'invalid_from_address' }],
    [403, { statusCode: 403, message: 'API key is invalid', name: 'invalid_api_key' }],
    [401, { statusCode: 401, message: 'This API key is restricted', name: 'restricted_api_key' }],
  ])(
    "a %i (the sender's key or domain, not the email): retryable later, not within this job, never accepted",
    async (status, body) => {
      const sleeps: number[] = [];
      nock(API).post('/emails').once().reply(status, body);
      const err = await transport(sleeps)
        .send(msg)
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: body.name,
        statusCode: status,
        retryable: true,
        mayHaveBeenAccepted: false,
      });
      expect(retryAnHourLater(err as MailSendError)).toBe(true);
      expect(sleeps).toEqual([]);
    },
  );

  it('hands a daily quota error back at once: retryable later, not within this job', async () => {
    const sleeps: number[] = [];
    nock(API)
      .post('/emails')
      .once()
      .reply(429, { statusCode: 429, message: 'daily quota reached', name: 'daily_quota_exceeded' });
    const err = await transport(sleeps)
      .send(msg)
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'daily_quota_exceeded', retryable: true });
    expect(sleeps).toEqual([]);
  });
});

// nock 15 passes a reply function the fetch Request itself (not uri/body as in nock 13/14).
describe('ResendTransport.sendBatch', () => {
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ ...msg, id: `msg_${i}`, to: [`ap${i}@debtor.example`] }));
  type BatchBody = { to: string[]; headers: Record<string, string> }[];

  it('sends strict batches of at most 100, keeps order, and keys each chunk by its message ids', async () => {
    const keys: string[] = [];
    const sizes: number[] = [];
    const validation = new Set<string | null>();
    const unsubscribePost = new Set<string | undefined>();
    nock(API)
      .post('/emails/batch')
      .times(3)
      .reply(async (req: Request) => {
        validation.add(req.headers.get('x-batch-validation'));
        keys.push(req.headers.get('idempotency-key') ?? '');
        const emails = (await req.json()) as BatchBody;
        sizes.push(emails.length);
        for (const e of emails) unsubscribePost.add(e.headers['List-Unsubscribe-Post']);
        return [200, { data: emails.map((e) => ({ id: `id-${e.to[0]}` })) }];
      });
    const out = await transport().sendBatch(many(250));
    expect(sizes).toEqual([100, 100, 50]);
    expect([...validation]).toEqual(['strict']);
    expect([...unsubscribePost]).toEqual(['List-Unsubscribe=One-Click']);
    expect(out).toHaveLength(250);
    expect(out[0]).toEqual({ providerId: 'id-ap0@debtor.example' });
    expect(out[249]).toEqual({ providerId: 'id-ap249@debtor.example' });
    expect(new Set(keys).size).toBe(3);
    expect(keys.every((k) => /^batch_[0-9a-f]{48}$/.test(k))).toBe(true);
  });

  it('retries a rate-limited batch with the same idempotency key', async () => {
    const keys: string[] = [];
    const sleeps: number[] = [];
    nock(API)
      .post('/emails/batch')
      .reply((req: Request) => {
        keys.push(req.headers.get('idempotency-key') ?? '');
        return [429, rateLimited, { 'retry-after': '1' }];
      })
      .post('/emails/batch')
      .reply((req: Request) => {
        keys.push(req.headers.get('idempotency-key') ?? '');
        // The documented response shape (resend.com/changelog/batch-idempotency-keys).
        return [
          200,
          {
            data: [
              { id: '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794' },
              { id: 'c11a2b12-c014-41df-9386-2b9b8240cbd5' },
            ],
          },
        ];
      });
    const out = await transport(sleeps).sendBatch(many(2));
    expect(out.map((o) => o.providerId)).toEqual([
      '49a3999c-0ce1-4ea6-ab68-afcd6dc2e794',
      'c11a2b12-c014-41df-9386-2b9b8240cbd5',
    ]);
    expect(sleeps).toEqual([1000]);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);
  });

  it('does not sleep on a retry-after beyond the cap inside a batch call', async () => {
    const sleeps: number[] = [];
    nock(API).post('/emails/batch').reply(429, rateLimited, { 'retry-after': '3600' });
    await expect(transport(sleeps).sendBatch(many(2))).rejects.toMatchObject({
      code: 'rate_limit_exceeded',
      retryAfterMs: 3_600_000,
    });
    expect(sleeps).toEqual([]);
  });

  it('fails the whole batch on a validation error, without retrying', async () => {
    nock(API)
      .post('/emails/batch')
      .once()
      .reply(422, { statusCode: 422, message: 'Invalid `to` field.', name: 'validation_error' });
    await expect(transport().sendBatch(many(3))).rejects.toMatchObject({
      code: 'validation_error',
      retryable: false,
    });
  });
});
