import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveryUpdate, parseResendEvent, verifyResendWebhook } from '../../src/dunning/resend-webhook';

const key = randomBytes(24);
const secret = `whsec_${key.toString('base64')}`;
const now = new Date('2026-11-27T10:00:00Z');
const ts = String(now.getTime() / 1000);
const body = JSON.stringify({
  type: 'email.bounced',
  created_at: '2026-11-27T09:59:58.000Z',
  data: {
    email_id: 'e-1',
    created_at: '2026-11-27T09:59:57.000Z',
    from: 'Acme <ar@acme.example>',
    to: ['ap@debtor.example'],
    subject: 'Payment reminder',
    bounce: { message: 'mailbox does not exist', type: 'Permanent', subType: 'General' },
    tags: { message_id: 'msg-42', tenant: 't1' },
  },
});
const sign = (id: string, t: string, b: string, k = key) =>
  `v1,${createHmac('sha256', k).update(`${id}.${t}.${b}`).digest('base64')}`;
const headers = (sig: string, t = ts) => ({ 'svix-id': 'msg_1', 'svix-timestamp': t, 'svix-signature': sig });

describe('verifyResendWebhook', () => {
  it('accepts a correctly signed body', () => {
    expect(
      verifyResendWebhook({ rawBody: body, headers: headers(sign('msg_1', ts, body)), secret, now }),
    ).toEqual({ ok: true });
  });

  it('accepts any matching signature among several (secret rotation)', () => {
    const old = sign('msg_1', ts, body, randomBytes(24));
    const sig = `${old} v1,${Buffer.alloc(32).toString('base64')} ${sign('msg_1', ts, body)}`;
    expect(verifyResendWebhook({ rawBody: Buffer.from(body), headers: headers(sig), secret, now }).ok).toBe(
      true,
    );
  });

  it.each([
    ['a modified body', (b: string) => b.replace('msg-42', 'msg-43')],
    ['re-serialized JSON (whitespace differs)', (b: string) => JSON.stringify(JSON.parse(b), null, 1)],
  ])('rejects %s', (_, mutate) => {
    const r = verifyResendWebhook({
      rawBody: mutate(body),
      headers: headers(sign('msg_1', ts, body)),
      secret,
      now,
    });
    expect(r).toEqual({ ok: false, reason: 'no_matching_signature' });
  });

  it('rejects a signature made with another secret, or a non-v1 scheme', () => {
    const other = sign('msg_1', ts, body, randomBytes(24));
    expect(verifyResendWebhook({ rawBody: body, headers: headers(other), secret, now }).ok).toBe(false);
    const v2 = sign('msg_1', ts, body).replace('v1,', 'v2,');
    expect(verifyResendWebhook({ rawBody: body, headers: headers(v2), secret, now }).ok).toBe(false);
  });

  it('enforces the ±5 minute window against the injected clock, both directions', () => {
    for (const offset of [-301, 301]) {
      const t = String(Number(ts) + offset);
      expect(
        verifyResendWebhook({ rawBody: body, headers: headers(sign('msg_1', t, body), t), secret, now }),
      ).toEqual({
        ok: false,
        reason: 'timestamp_out_of_window',
      });
    }
    const t = String(Number(ts) - 299);
    expect(
      verifyResendWebhook({ rawBody: body, headers: headers(sign('msg_1', t, body), t), secret, now }).ok,
    ).toBe(true);
  });

  it('rejects missing headers and garbage timestamps', () => {
    expect(verifyResendWebhook({ rawBody: body, headers: { 'svix-id': 'x' }, secret, now })).toEqual({
      ok: false,
      reason: 'missing_headers',
    });
    expect(verifyResendWebhook({ rawBody: body, headers: headers('v1,abc', '12a'), secret, now })).toEqual({
      ok: false,
      reason: 'bad_timestamp',
    });
  });
});

describe('parseResendEvent', () => {
  it('parses a bounce into the typed union, with tags as a map', () => {
    const r = parseResendEvent(body);
    if (!r.ok) throw new Error(r.reason);
    expect(r.event.type).toBe('email.bounced');
    if (r.event.type !== 'email.bounced') return;
    expect(r.event.data.bounce.type).toBe('Permanent');
    expect(r.event.data.tags).toEqual({ message_id: 'msg-42', tenant: 't1' });
  });

  it('normalizes array tags (the request shape) to the same map', () => {
    const json = JSON.parse(body);
    json.data.tags = [{ name: 'message_id', value: 'msg-42' }];
    const r = parseResendEvent(JSON.stringify(json));
    expect(r.ok && r.event.data.tags).toEqual({ message_id: 'msg-42' });
  });

  it('reports untracked events, bad JSON and malformed payloads distinctly', () => {
    expect(parseResendEvent('{"type":"contact.created","data":{}}')).toMatchObject({
      ok: false,
      reason: 'unsupported_event',
    });
    expect(parseResendEvent('{nope')).toEqual({ ok: false, reason: 'invalid_json' });
    const missing = JSON.parse(body);
    delete missing.data.bounce;
    expect(parseResendEvent(JSON.stringify(missing))).toMatchObject({ ok: false, reason: 'invalid_payload' });
  });
});

describe('deliveryUpdate', () => {
  const event = (mutate: (json: { type: string; data: Record<string, unknown> }) => void) => {
    const json = JSON.parse(body);
    mutate(json);
    const r = parseResendEvent(JSON.stringify(json));
    if (!r.ok) throw new Error(r.reason);
    return deliveryUpdate(r.event);
  };

  it('a hard bounce suppresses the recipient and carries our message id', () => {
    expect(event(() => {})).toEqual({
      messageId: 'msg-42',
      providerId: 'e-1',
      status: 'bounced',
      at: '2026-11-27T09:59:58.000Z',
      suppressRecipient: true,
      detail: 'mailbox does not exist',
    });
  });

  it('a transient bounce does not', () => {
    const u = event((j) => {
      (j.data.bounce as { type: string }).type = 'Transient';
    });
    expect(u).toMatchObject({ status: 'soft_bounced', suppressRecipient: false });
  });

  it('a complaint suppresses; an open or click does not; mail without our tag has no message id', () => {
    expect(event((j) => (j.type = 'email.complained'))).toMatchObject({
      status: 'complained',
      suppressRecipient: true,
    });
    expect(event((j) => (j.type = 'email.opened'))).toMatchObject({
      status: 'opened',
      suppressRecipient: false,
    });
    const click = event((j) => {
      j.type = 'email.clicked';
      j.data.click = { link: 'https://pay.example/1042', timestamp: '2026-11-27T10:00:00Z' };
    });
    expect(click).toMatchObject({ status: 'clicked', detail: 'https://pay.example/1042' });
    expect(event((j) => (j.data.tags = {})).messageId).toBeNull();
  });
});
