import { describe, expect, it } from 'vitest';
import { authorizeTba, percentEncode, signTba, tbaNonce } from '../../connectors/netsuite/tba';
import { FORM_ENCODED_QUERY_VECTOR as V } from './tba-vectors';

const creds = {
  consumerKey: V.consumerKey,
  consumerSecret: V.consumerSecret,
  tokenId: V.tokenId,
  tokenSecret: V.tokenSecret,
};

describe('TBA signing', () => {
  it('percent-encodes per RFC 3986 (unreserved only)', () => {
    expect(percentEncode("a b!'()*~-._/+=&")).toBe('a%20b%21%27%28%29%2A~-._%2F%2B%3D%26');
  });

  it('reproduces the independent vector: form-decoded query signed, secrets encoded in the key', () => {
    const s = signTba({
      ...creds,
      method: 'get',
      url: V.url,
      realm: V.realm,
      nonce: V.nonce,
      timestamp: V.timestamp,
    });
    expect(s.baseString).toBe(V.baseString);
    expect(s.signingKey).toBe(V.signingKey);
    expect(s.signature).toBe(V.signature);
    expect(s.header).toBe(
      `OAuth realm="TSTDRV1236577",oauth_consumer_key="duely-consumer-key-0001",oauth_token="token-id-0001",oauth_signature_method="HMAC-SHA256",oauth_timestamp="1765000000",oauth_nonce="AbCdEfGhIj0123456789",oauth_version="1.0",oauth_signature="${percentEncode(V.signature)}"`,
    );
  });

  it('puts the realm in realm form whatever spelling it is given', () => {
    const s = signTba({
      ...creds,
      method: 'GET',
      url: V.url,
      realm: 'tstdrv1236577',
      nonce: 'n',
      timestamp: 1,
    });
    expect(s.header.startsWith('OAuth realm="TSTDRV1236577",')).toBe(true);
    const sb = signTba({
      ...creds,
      method: 'GET',
      url: V.url,
      realm: '1234567-sb1',
      nonce: 'n',
      timestamp: 1,
    });
    expect(sb.header.startsWith('OAuth realm="1234567_SB1",')).toBe(true);
  });

  it('changes with the query (signed) but not with anything outside the URL', () => {
    const base = { ...creds, method: 'POST', realm: '1234567', nonce: 'n', timestamp: 1 };
    const a = signTba({ ...base, url: 'https://x.example/services/rest/query/v1/suiteql?limit=5&offset=0' });
    const b = signTba({ ...base, url: 'https://x.example/services/rest/query/v1/suiteql?limit=5&offset=5' });
    const c = signTba({
      ...base,
      url: 'https://X.EXAMPLE:443/services/rest/query/v1/suiteql?offset=0&limit=5',
    });
    expect(a.signature).not.toBe(b.signature);
    // Host case, the default port and parameter order do not change the base string.
    expect(c.signature).toBe(a.signature);
  });

  it('draws a fresh nonce and timestamp on every call (a retry re-signs)', () => {
    let t = 1_765_000_000_000;
    const now = () => t;
    const req = {
      method: 'POST',
      url: 'https://1234567.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql',
    };
    const h1 = authorizeTba({ ...creds, realm: '1234567' }, req, now);
    t += 1500;
    const h2 = authorizeTba({ ...creds, realm: '1234567' }, req, now);
    const nonce = (h: string) => /oauth_nonce="([^"]+)"/.exec(h)?.[1];
    const ts = (h: string) => /oauth_timestamp="([^"]+)"/.exec(h)?.[1];
    expect(nonce(h1)).not.toBe(nonce(h2));
    expect(ts(h1)).toBe('1765000000');
    expect(ts(h2)).toBe('1765000001');
    expect(h1).not.toBe(h2);
  });

  it('nonces are 20 alphanumerics and do not repeat', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => tbaNonce()));
    expect(seen.size).toBe(2000);
    for (const n of seen) expect(n).toMatch(/^[A-Za-z0-9]{20}$/);
  });
});
