/**
 * Conformance against the NetSuite payloads and vectors in ../shared/vendor/netsuite, read in place (never copied
 * into the repo). Skips, saying so, when the vendor directory is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nock from 'nock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { NetsuiteClient } from '../../connectors/netsuite/client';
import { hostAccountId, realmAccountId } from '../../connectors/netsuite/config';
import { errorFromResponse } from '../../connectors/netsuite/faults';
import { mapCustomer } from '../../connectors/netsuite/map';
import { AccountPool } from '../../connectors/netsuite/pool';
import { signTba } from '../../connectors/netsuite/tba';

const DIR = path.resolve(process.cwd(), '../shared/vendor/netsuite');
const present = existsSync(DIR);
if (!present)
  console.warn(`NetSuite conformance skipped: ${DIR} is absent (vendor payloads live outside the repo)`);

/** The connector reads SuiteQL only; these vendor files show the REST record API, which it does not call. */
const NOT_APPLICABLE: Record<string, string> = {
  'error-400-invalid-content.request.json': 'request body of a record create; the connector does not write',
  'record-customer-1137.response.json': 'REST record API (customers are read by SuiteQL)',
  'record-customerpayment-expanded.reconstructed.json':
    'REST record API, reconstructed (payments come from SuiteQL + NextTransactionLineLink)',
  'record-invoice-expanded.reconstructed.json': 'REST record API, reconstructed (invoices come from SuiteQL)',
  'record-journalentry-16-expanded-empty-sublist.response.json': 'journal entries are not synced',
  'record-journalentry-1851-expanded.response.json': 'journal entries are not synced',
  'record-list-journalentry-page1.response.json': 'record-list paging (SuiteQL pages by id instead)',
  'record-list-journalentry-page2.response.json': 'record-list paging (SuiteQL pages by id instead)',
  'record-list.response.headers.json': 'record-list headers',
};
const claimed = new Set<string>();
const files = present ? readdirSync(DIR).sort() : [];
// biome-ignore lint/suspicious/noExplicitAny: vendor payloads are raw JSON.
const json = (f: string): any => {
  claimed.add(f);
  return JSON.parse(readFileSync(path.join(DIR, f), 'utf8'));
};

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

  it('SuiteQL: the captured customer answer (links, strings, lower-case columns) reads through the client and mapper', async () => {
    const body = json('suiteql-customer.response.json');
    const host = new URL(body.links[0].href).host;
    const label = host.split('.')[0] ?? '';
    const account = realmAccountId(label);
    expect(hostAccountId(account)).toBe(label);
    nock(`https://${host}`)
      .post('/services/rest/query/v1/suiteql')
      .query({ limit: '1000', offset: '0' })
      .reply(200, body);
    const client = new NetsuiteClient({
      restUrl: `https://${host}`,
      accountId: account,
      auth: { type: 'tba', consumerKey: 'ck', consumerSecret: 'cs', tokenId: 't', tokenSecret: 's' },
      limiter: new AccountPool(3),
    });
    const page = await client.suiteql('SELECT id, companyname, email, phone FROM customer');
    expect(page.hasMore).toBe(false);
    expect(page.items.map(mapCustomer)).toEqual([
      {
        externalId: '309',
        name: 'Cool co',
        emails: ['coolco@sf.com'],
        currency: null,
        sourceUpdatedAt: null,
      },
      {
        externalId: '312',
        name: 'Ledger Drinks',
        emails: ['ld@sf.com'],
        currency: null,
        sourceUpdatedAt: null,
      },
    ]);
  });

  it('SuiteQL: the captured account answer keeps every value a string (T/F flags, ids)', async () => {
    const body = json('suiteql-account.response.json');
    for (const item of body.items) {
      for (const [k, v] of Object.entries(item)) if (k !== 'links') expect(typeof v).toBe('string');
    }
  });

  it('protocol.json agrees with the helpers (account-id forms, SuiteQL limits, error codes)', () => {
    const p = json('protocol.json');
    expect(p.accountIdForms.url).toContain('1234567-sb1');
    expect(hostAccountId('1234567_SB1')).toBe('1234567-sb1');
    expect(realmAccountId('1234567-sb1')).toBe('1234567_SB1');
    expect(p.baseUrl).toContain('Prefer: transient');
    expect(p.errors.codes.join(' ')).toContain('INVALID_LOGIN');
  });
});

describe.skipIf(!present)('NetSuite vendor files are all claimed', () => {
  afterEach(() => nock.cleanAll());
  afterAll(() => {
    const unclaimed = files.filter((f) => !claimed.has(f) && !(f in NOT_APPLICABLE));
    expect(unclaimed, 'vendor files without a check or a NOT_APPLICABLE reason').toEqual([]);
  });
  it('lists NOT_APPLICABLE files that exist', () => {
    for (const f of Object.keys(NOT_APPLICABLE)) expect(files).toContain(f);
  });
});
