/**
 * Conformance against the NetSuite payloads and vectors in ../shared/vendor/netsuite, read in place (never copied
 * into the repo). Skips, saying so, when the vendor directory is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorFromResponse } from '../../connectors/netsuite/faults';
import { signTba } from '../../connectors/netsuite/tba';

const DIR = path.resolve(process.cwd(), '../shared/vendor/netsuite');
const present = existsSync(DIR);
if (!present)
  console.warn(`NetSuite conformance skipped: ${DIR} is absent (vendor payloads live outside the repo)`);

// biome-ignore lint/suspicious/noExplicitAny: vendor payloads are raw JSON.
const json = (f: string): any => JSON.parse(readFileSync(path.join(DIR, f), 'utf8'));

describe.skipIf(!present)('NetSuite vendor conformance', () => {
  it("TBA: reproduces Oracle's published signature vector exactly", () => {
    const v = json('tba-signature.vector.json');
    expect(v.signatureMethod).toBe('HMAC-SHA256');
    const s = signTba({
      method: v.method,
      url: v.url,
      realm: v.realm,
      consumerKey: v.consumerKey,
      consumerSecret: v.consumerSecret,
      tokenId: v.tokenId,
      tokenSecret: v.tokenSecret,
      nonce: v.nonce,
      timestamp: v.timestamp,
    });
    expect(s.baseString).toBe(v.expectedBaseString);
    expect(s.signingKey).toBe(v.expectedSigningKey);
    expect(s.signature).toBe(v.expectedSignature);
    expect(s.header).toBe(v.authorizationHeader);
  });

  it('TBA: reproduces the SuiteQL sandbox vector (host 1234567-sb1, realm 1234567_SB1, body not signed)', () => {
    const base = json('tba-signature.vector.json');
    const v = json('tba-suiteql.derived-vector.json');
    const s = signTba({
      method: v.method,
      url: v.url,
      realm: '1234567-sb1',
      consumerKey: base.consumerKey,
      consumerSecret: base.consumerSecret,
      tokenId: base.tokenId,
      tokenSecret: base.tokenSecret,
      nonce: base.nonce,
      timestamp: base.timestamp,
    });
    expect(v.realm).toBe('1234567_SB1');
    expect(s.baseString).toBe(v.baseString);
    expect(s.signature).toBe(v.signature);
    expect(s.header).toBe(v.authorizationHeader);
    expect(s.baseString).not.toContain('companyname');
  });

  it('errors: INVALID_LOGIN is a typed unauthorized that sends the admin to the Login Audit Trail', () => {
    const body = JSON.stringify(json('error-401-invalid-login.response.json'));
    const e = errorFromResponse(401, body);
    expect(e).toMatchObject({
      code: 'unauthorized',
      providerCode: 'INVALID_LOGIN',
      retryable: false,
      status: 401,
    });
    expect(e.userMessage).toContain('Login Audit Trail');
  });

  it('errors: INVALID_CONTENT is validation, with its o:errorPath in the message', () => {
    const e = errorFromResponse(400, JSON.stringify(json('error-400-invalid-content.response.json')));
    expect(e).toMatchObject({ code: 'validation', providerCode: 'INVALID_CONTENT', retryable: false });
    expect(e.message).toContain('item.items[0].item');
  });

  it('errors: the (reconstructed) 429 body is retryable throttling; so is any 429', () => {
    const raw = json('error-429-concurrency.reconstructed.json');
    delete raw._reconstructed;
    expect(errorFromResponse(429, JSON.stringify(raw))).toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
    expect(errorFromResponse(429, '<html>busy</html>')).toMatchObject({
      code: 'rate_limited',
      retryable: true,
    });
  });
});
