/**
 * QuickBooks webhooks: https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks
 * Signature: header `intuit-signature` = base64(HMAC-SHA256(verifier token, raw body)); the same scheme covers the
 * legacy `eventNotifications` object and the CloudEvents array (blogs.intuit.com/2025/11/12/upcoming-change-to-
 * webhooks-payload-structure). Payloads carry ids only: the sync fetches the records (or runs CDC) afterwards.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConnectorError } from '../errors';
import type { WebhookEvent, WebhookHeaders } from '../types';

export const SIGNATURE_HEADER = 'intuit-signature';

export function signWebhook(rawBody: Buffer | string, verifierToken: string): string {
  return createHmac('sha256', verifierToken).update(rawBody).digest('base64');
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
}

/** Constant-time check of `intuit-signature` over the exact bytes received (never a re-serialised body). */
export function verifyWebhook(
  rawBody: Buffer | string,
  headers: WebhookHeaders,
  verifierToken: string,
): boolean {
  const given = header(headers, SIGNATURE_HEADER);
  if (!given || !verifierToken) return false;
  const expected = Buffer.from(signWebhook(rawBody, verifierToken), 'utf8');
  const actual = Buffer.from(given.trim(), 'utf8');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** CloudEvents types spell entities in lower case (`qbo.creditmemo.updated.v1`); restore QuickBooks' names. */
const ENTITY_NAMES: Record<string, string> = {
  customer: 'Customer',
  invoice: 'Invoice',
  payment: 'Payment',
  creditmemo: 'CreditMemo',
  salesreceipt: 'SalesReceipt',
  refundreceipt: 'RefundReceipt',
  journalentry: 'JournalEntry',
  estimate: 'Estimate',
  vendor: 'Vendor',
  account: 'Account',
  class: 'Class',
  item: 'Item',
};

/** CloudEvents verbs -> legacy operation names (Create, Update, Delete, Merge, Void, Emailed). */
const OPERATIONS: Record<string, string> = {
  created: 'Create',
  updated: 'Update',
  deleted: 'Delete',
  merged: 'Merge',
  voided: 'Void',
  emailed: 'Emailed',
};

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** ISO instant; accepts offsets without a colon ("2015-10-05T14:42:19-0700", Java SDK sample). */
function instant(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  const normalised = value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2').replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(normalised);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);

/** Parses either delivery format into events; entities we do not sync are kept (callers filter). */
export function parseWebhook(rawBody: Buffer | string): WebhookEvent[] {
  let body: unknown;
  try {
    body = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch (e) {
    throw new ConnectorError({
      code: 'validation',
      status: 400,
      message: 'QuickBooks webhook body is not JSON',
      cause: e,
    });
  }
  if (Array.isArray(body)) return body.flatMap(cloudEvent);
  const notifications = (body as { eventNotifications?: unknown })?.eventNotifications;
  if (!Array.isArray(notifications)) {
    throw new ConnectorError({
      code: 'validation',
      status: 400,
      message: 'QuickBooks webhook body has no known format',
    });
  }
  return notifications.flatMap((n: { realmId?: unknown; dataChangeEvent?: { entities?: unknown } }) => {
    const realmId = str(n?.realmId);
    const entities = n?.dataChangeEvent?.entities;
    if (!realmId || !Array.isArray(entities)) return [];
    return entities.flatMap((e: Record<string, unknown>) => {
      const entity = str(e?.name);
      const id = str(e?.id);
      if (!entity || !id) return [];
      return [
        {
          externalId: realmId,
          entity,
          id,
          operation: str(e.operation) ?? 'Update',
          lastUpdated: instant(e.lastUpdated),
        },
      ];
    });
  });
}

/** `{"type":"qbo.invoice.updated.v1","intuitentityid":"130","intuitaccountid":"<realm>","time":...}` */
function cloudEvent(event: Record<string, unknown>): WebhookEvent[] {
  const parts = (str(event?.type) ?? '').split('.');
  const realmId = str(event?.intuitaccountid);
  const id = str(event?.intuitentityid);
  const [source, rawEntity, verb] = parts;
  if (source !== 'qbo' || !rawEntity || !verb || !realmId || !id) return [];
  return [
    {
      externalId: realmId,
      entity: ENTITY_NAMES[rawEntity.toLowerCase()] ?? capitalize(rawEntity),
      id,
      operation: OPERATIONS[verb] ?? capitalize(verb),
      lastUpdated: instant(event.time),
    },
  ];
}
