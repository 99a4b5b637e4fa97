import { describe, expect, it } from 'vitest';
import { parsePing, signPing, verifyPing } from '../../connectors/netsuite/ping';

const body = JSON.stringify({
  account: '1234567-sb1',
  events: [{ type: 'customerpayment', id: '6001', operation: 'create', at: '2026-04-15T09:30:00Z' }],
});
const T = 1_776_245_400;
const now = () => T * 1000;

describe('NetSuite signed ping', () => {
  it('verifies the HMAC over timestamp.body, accepts any of several signatures', () => {
    const sig = signPing(body, 'secret', T);
    expect(
      verifyPing(body, { 'x-duely-timestamp': String(T), 'x-duely-signature': sig }, 'secret', now),
    ).toBe(true);
    expect(
      verifyPing(
        body,
        { 'x-duely-timestamp': String(T), 'x-duely-signature': `v1=old ${sig}` },
        'secret',
        now,
      ),
    ).toBe(true);
  });

  it('rejects a changed body, a wrong secret, a stale or missing timestamp', () => {
    const sig = signPing(body, 'secret', T);
    const h = { 'x-duely-timestamp': String(T), 'x-duely-signature': sig };
    expect(verifyPing(`${body} `, h, 'secret', now)).toBe(false);
    expect(verifyPing(body, h, 'other', now)).toBe(false);
    expect(verifyPing(body, h, 'secret', () => (T + 301) * 1000)).toBe(false);
    expect(verifyPing(body, { 'x-duely-signature': sig }, 'secret', now)).toBe(false);
    expect(verifyPing(body, h, '', now)).toBe(false);
  });

  it('parses events with the account in realm form; junk is a validation error', () => {
    expect(parsePing(body)).toEqual([
      {
        externalId: '1234567_SB1',
        entity: 'customerpayment',
        id: '6001',
        operation: 'create',
        lastUpdated: '2026-04-15T09:30:00.000Z',
      },
    ]);
    expect(() => parsePing('nope')).toThrow(expect.objectContaining({ code: 'validation' }));
    expect(() =>
      parsePing(JSON.stringify({ account: '1', events: [{ type: 'invoice', id: "1' OR 1" }] })),
    ).toThrow(expect.objectContaining({ code: 'validation' }));
  });
});
