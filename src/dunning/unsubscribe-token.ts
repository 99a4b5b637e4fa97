/**
 * Signed unsubscribe links: PUBLIC_URL/u/<token>. The token names the tenant, the customer and the message it was
 * sent with, and carries an HMAC-SHA256 (128-bit tag) under a key derived from APP_SECRET for this purpose only.
 * It does not expire: an unsubscribe link in an old email must keep working (RFC 8058).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../auth/vault';

export interface UnsubscribeClaims {
  tenantId: string;
  customerId: string;
  messageId: string;
}

const TAG_BYTES = 16;

function key(appSecret: string): Buffer {
  return deriveKey(appSecret, 'unsubscribe-link');
}

export function signUnsubscribeToken(appSecret: string, c: UnsubscribeClaims): string {
  const body = Buffer.from(`${c.tenantId}|${c.customerId}|${c.messageId}`, 'utf8').toString('base64url');
  const tag = createHmac('sha256', key(appSecret)).update(body).digest().subarray(0, TAG_BYTES).toString('base64url');
  return `${body}.${tag}`;
}

export function verifyUnsubscribeToken(appSecret: string, token: string): UnsubscribeClaims | null {
  const [body, tag, extra] = token.split('.');
  if (!body || !tag || extra !== undefined) return null;
  const expected = createHmac('sha256', key(appSecret)).update(body).digest().subarray(0, TAG_BYTES);
  const given = Buffer.from(tag, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  const [tenantId, customerId, messageId, more] = Buffer.from(body, 'base64url').toString('utf8').split('|');
  if (!tenantId || !customerId || !messageId || more !== undefined) return null;
  return { tenantId, customerId, messageId };
}

export function unsubscribeUrl(publicUrl: string, appSecret: string, c: UnsubscribeClaims): string {
  return `${publicUrl}/u/${signUnsubscribeToken(appSecret, c)}`;
}
