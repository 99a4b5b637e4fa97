import { describe, expect, it } from 'vitest';
import {
  anyAccountAuthorizeUrl,
  hostAccountId,
  netsuiteEndpoints,
  netsuiteMethods,
  parseNetsuiteConfig,
  realmAccountId,
} from '../../connectors/netsuite/config';

describe('NetSuite config', () => {
  it('defaults concurrency to 3 and the poll to 15 minutes; empty strings are unset', () => {
    const c = parseNetsuiteConfig({ NETSUITE_CONSUMER_KEY: '', NETSUITE_REST_URL: '  ' });
    expect(c.NETSUITE_CONCURRENCY).toBe(3);
    expect(c.NETSUITE_POLL_MINUTES).toBe(15);
    expect(c.NETSUITE_CONSUMER_KEY).toBeUndefined();
    expect(c.NETSUITE_REST_URL).toBeUndefined();
  });

  it('coerces numbers and rejects out-of-range ones', () => {
    expect(parseNetsuiteConfig({ NETSUITE_CONCURRENCY: '5' }).NETSUITE_CONCURRENCY).toBe(5);
    expect(() => parseNetsuiteConfig({ NETSUITE_CONCURRENCY: '0' })).toThrow();
    expect(() => parseNetsuiteConfig({ NETSUITE_POLL_MINUTES: 'soon' })).toThrow();
  });

  it('accepts URL templates with {host} and rejects non-URLs', () => {
    const c = parseNetsuiteConfig({ NETSUITE_REST_URL: 'http://127.0.0.1:4010/{host}/' });
    expect(netsuiteEndpoints(c, '1234567_SB1').restUrl).toBe('http://127.0.0.1:4010/1234567-sb1');
    expect(() => parseNetsuiteConfig({ NETSUITE_TOKEN_URL: 'not a url {host}' })).toThrow(/URL/);
  });

  it('accepts a one-line PEM key with \\n escapes', () => {
    const c = parseNetsuiteConfig({
      NETSUITE_M2M_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nMIIB\\n-----END PRIVATE KEY-----',
    });
    expect(c.NETSUITE_M2M_PRIVATE_KEY).toBe('-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----');
    expect(() => parseNetsuiteConfig({ NETSUITE_M2M_PRIVATE_KEY: 'secret' })).toThrow(/PEM/);
  });

  it('accepts a custom body field id for the pay link and refuses anything else', () => {
    expect(parseNetsuiteConfig({}).NETSUITE_PAY_LINK_FIELD).toBeUndefined();
    expect(parseNetsuiteConfig({ NETSUITE_PAY_LINK_FIELD: '  ' }).NETSUITE_PAY_LINK_FIELD).toBeUndefined();
    expect(
      parseNetsuiteConfig({ NETSUITE_PAY_LINK_FIELD: ' custbody_stripe_pay_link2 ' }).NETSUITE_PAY_LINK_FIELD,
    ).toBe('custbody_stripe_pay_link2');
    for (const bad of [
      'custbody',
      'custbody_x, t.foreigntotal',
      "custbody_x' OR 1=1",
      'custbody_x--',
      'CUSTBODY_X',
      'custcol_pay_link',
      'email',
      `custbody${'x'.repeat(91)}`,
    ]) {
      expect(() => parseNetsuiteConfig({ NETSUITE_PAY_LINK_FIELD: bad }), bad).toThrow(/custom body field/);
    }
  });

  it('uses Oracle per-account hosts by default', () => {
    const e = netsuiteEndpoints(parseNetsuiteConfig({}), '1234567_SB1');
    expect(e).toEqual({
      restUrl: 'https://1234567-sb1.suitetalk.api.netsuite.com',
      authorizeUrl: 'https://1234567-sb1.app.netsuite.com/app/login/oauth2/authorize.nl',
      tokenUrl: 'https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token',
      revokeUrl: 'https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/revoke',
    });
    expect(anyAccountAuthorizeUrl({})).toBe('https://system.netsuite.com/app/login/oauth2/authorize.nl');
    expect(anyAccountAuthorizeUrl({ NETSUITE_AUTHORIZE_URL: 'http://127.0.0.1:1/authorize' })).toBe(
      'http://127.0.0.1:1/authorize',
    );
  });

  it('converts account ids between realm and host form', () => {
    expect(realmAccountId('1234567-sb1')).toBe('1234567_SB1');
    expect(realmAccountId('1234567_sb1')).toBe('1234567_SB1');
    expect(realmAccountId(' 1234567 ')).toBe('1234567');
    expect(hostAccountId('1234567_SB1')).toBe('1234567-sb1');
    expect(hostAccountId('TSTDRV1236577')).toBe('tstdrv1236577');
    expect(hostAccountId('1234567_RP_2')).toBe('1234567-rp-2');
    for (const bad of ['', '1234567.evil.com', '../x', '12 34', 'a/b']) {
      expect(() => realmAccountId(bad)).toThrow(expect.objectContaining({ code: 'validation' }));
    }
  });

  it('lists the connect methods the configuration supports', () => {
    expect(netsuiteMethods(parseNetsuiteConfig({}))).toEqual([]);
    expect(
      netsuiteMethods(
        parseNetsuiteConfig({
          NETSUITE_CONSUMER_KEY: 'k',
          NETSUITE_CONSUMER_SECRET: 's',
          NETSUITE_CLIENT_ID: 'c',
          NETSUITE_CLIENT_SECRET: 'cs',
        }),
      ),
    ).toEqual(['tba', 'oauth2']);
  });
});
