import { describe, expect, it } from 'vitest';
import { parseWebhook, signWebhook, verifyWebhook } from '../../connectors/quickbooks/webhooks';

const TOKEN = 'test-verifier-token-0001';
const legacy = JSON.stringify({
  eventNotifications: [
    {
      realmId: '111',
      dataChangeEvent: {
        entities: [
          { name: 'Invoice', id: '130', operation: 'Update', lastUpdated: '2026-05-05T10:11:12.000Z' },
          { name: 'Payment', id: '171', operation: 'Create', lastUpdated: '2026-05-05T03:11:12-0700' },
          { name: 'Vendor', id: '9', operation: 'Merge', lastUpdated: '2026-05-05T10:11:12.000Z' },
        ],
      },
    },
    {
      realmId: '222',
      dataChangeEvent: {
        entities: [
          { name: 'Invoice', id: '65', operation: 'Delete', lastUpdated: '2026-05-05T10:00:00.000Z' },
        ],
      },
    },
  ],
});

const cloud = JSON.stringify([
  {
    specversion: '1.0',
    id: 'e1',
    source: 'intuit.abc',
    type: 'qbo.invoice.updated.v1',
    time: '2026-05-05T10:11:12.123456789Z',
    intuitentityid: '130',
    intuitaccountid: '111',
    data: {},
  },
  {
    specversion: '1.0',
    id: 'e2',
    source: 'intuit.abc',
    type: 'qbo.creditmemo.voided.v1',
    time: '2026-05-05T10:11:13Z',
    intuitentityid: '184',
    intuitaccountid: '333',
    data: {},
  },
  {
    specversion: '1.0',
    id: 'e3',
    source: 'intuit.abc',
    type: 'qbo.timeactivity.created.v1',
    time: '2026-05-05T10:11:14Z',
    intuitentityid: '7',
    intuitaccountid: '111',
  },
]);

describe('intuit-signature', () => {
  it('accepts the HMAC of the raw body, header name in any case', () => {
    const signature = signWebhook(legacy, TOKEN);
    expect(verifyWebhook(legacy, { 'intuit-signature': signature }, TOKEN)).toBe(true);
    expect(verifyWebhook(Buffer.from(legacy), { 'Intuit-Signature': signature }, TOKEN)).toBe(true);
  });

  it('rejects a bad signature, a tampered body, a wrong token and a missing header', () => {
    const signature = signWebhook(legacy, TOKEN);
    expect(verifyWebhook(legacy, { 'intuit-signature': '1234' }, TOKEN)).toBe(false);
    expect(verifyWebhook(legacy.replace('130', '131'), { 'intuit-signature': signature }, TOKEN)).toBe(false);
    // Re-serialising changes bytes: verification must be over what was received.
    expect(
      verifyWebhook(JSON.stringify(JSON.parse(legacy), null, 2), { 'intuit-signature': signature }, TOKEN),
    ).toBe(false);
    expect(verifyWebhook(legacy, { 'intuit-signature': signature }, 'other-token')).toBe(false);
    expect(verifyWebhook(legacy, {}, TOKEN)).toBe(false);
    expect(verifyWebhook(legacy, { 'intuit-signature': signature }, '')).toBe(false);
  });
});

describe('parseWebhook', () => {
  it('parses the legacy format across realms, keeping unknown entities', () => {
    expect(parseWebhook(legacy)).toEqual([
      {
        externalId: '111',
        entity: 'Invoice',
        id: '130',
        operation: 'Update',
        lastUpdated: '2026-05-05T10:11:12.000Z',
      },
      {
        externalId: '111',
        entity: 'Payment',
        id: '171',
        operation: 'Create',
        lastUpdated: '2026-05-05T10:11:12.000Z',
      },
      {
        externalId: '111',
        entity: 'Vendor',
        id: '9',
        operation: 'Merge',
        lastUpdated: '2026-05-05T10:11:12.000Z',
      },
      {
        externalId: '222',
        entity: 'Invoice',
        id: '65',
        operation: 'Delete',
        lastUpdated: '2026-05-05T10:00:00.000Z',
      },
    ]);
  });

  it('parses the CloudEvents array format, one delivery mixing realms', () => {
    expect(parseWebhook(Buffer.from(cloud))).toEqual([
      {
        externalId: '111',
        entity: 'Invoice',
        id: '130',
        operation: 'Update',
        lastUpdated: '2026-05-05T10:11:12.123Z',
      },
      {
        externalId: '333',
        entity: 'CreditMemo',
        id: '184',
        operation: 'Void',
        lastUpdated: '2026-05-05T10:11:13.000Z',
      },
      {
        externalId: '111',
        entity: 'Timeactivity',
        id: '7',
        operation: 'Create',
        lastUpdated: '2026-05-05T10:11:14.000Z',
      },
    ]);
  });

  it('skips malformed entries and rejects unknown bodies with a typed error', () => {
    expect(
      parseWebhook('{"eventNotifications":[{"realmId":"1"},{"dataChangeEvent":{"entities":[]}}]}'),
    ).toEqual([]);
    expect(parseWebhook('[{"type":"other.thing"}]')).toEqual([]);
    expect(() => parseWebhook('not json')).toThrow(expect.objectContaining({ code: 'validation' }));
    expect(() => parseWebhook('{"hello":1}')).toThrow(expect.objectContaining({ code: 'validation' }));
  });
});
