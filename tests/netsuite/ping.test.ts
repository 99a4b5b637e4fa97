import { describe, expect, it } from 'vitest';
import {
  accountPingSecret,
  parsePing,
  signPing,
  verifyAccountPing,
  verifyPing,
} from '../../connectors/netsuite/ping';

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

  it("accepts a ping only under the secret of the account it names, in either spelling of the account", () => {
    const mine = accountPingSecret('installation', '1234567_SB1');
    expect(accountPingSecret('installation', '1234567-sb1')).toBe(mine);
    expect(accountPingSecret('installation', '7654321')).not.toBe(mine);
    expect(accountPingSecret('rotated', '1234567_SB1')).not.toBe(mine);
    const h = (b: string, secret: string) => ({
      'x-duely-timestamp': String(T),
      'x-duely-signature': signPing(b, secret, T),
    });
    expect(verifyAccountPing(body, h(body, mine), 'installation', now)).toBe(true);
    expect(verifyAccountPing(body, h(body, 'installation'), 'installation', now)).toBe(false);
    const other = body.replace('1234567-sb1', '7654321');
    expect(verifyAccountPing(other, h(other, mine), 'installation', now)).toBe(false);
    for (const junk of ['nope', 'null', '{}', '{"account":""}', '{"account":"../../x"}', '{"account":7}']) {
      expect(verifyAccountPing(junk, h(junk, mine), 'installation', now)).toBe(false);
    }
    expect(verifyAccountPing(body, h(body, mine), '', now)).toBe(false);
  });
});
