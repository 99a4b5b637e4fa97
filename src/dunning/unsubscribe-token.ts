/**
 * Signed unsubscribe links: PUBLIC_URL/u/<message id>.<tag>. The message names the tenant and the debtor; the tag is
 * an HMAC-SHA256 (128 bits) under a key derived from APP_SECRET for this purpose only. Short on purpose: a route
 * parameter is limited to 100 characters. It does not expire: a link in an old email must keep working (RFC 8058).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../keys';

const TAG_BYTES = 16;
const MESSAGE_ID = /^d[a-z]_[0-9a-f]{24}$/;

function tagOf(appSecret: string, messageId: string): Buffer {
  return createHmac('sha256', deriveKey(appSecret, 'unsubscribe-link'))
    .update(messageId)
    .digest()
    .subarray(0, TAG_BYTES);
}

export function signUnsubscribeToken(appSecret: string, messageId: string): string {
  return `${messageId}.${tagOf(appSecret, messageId).toString('base64url')}`;
}

/** The message id the link was sent with, or null for a forged or mangled token. */
export function verifyUnsubscribeToken(appSecret: string, token: string): string | null {
  const [messageId, tag, extra] = token.split('.');
  if (!messageId || !tag || extra !== undefined || !MESSAGE_ID.test(messageId)) return null;
  // The tag's exact text, not its decoded bytes: Node's base64url decoder skips characters it does not know and
  // ignores a last character's spare bits, so a tampered link would otherwise still verify.
  const given = Buffer.from(tag);
  const expected = Buffer.from(tagOf(appSecret, messageId).toString('base64url'));
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  return messageId;
}

export function unsubscribeUrl(publicUrl: string, appSecret: string, messageId: string): string {
  return `${publicUrl}/u/${signUnsubscribeToken(appSecret, messageId)}`;
}

/**
 * The unsubscribe link in the team's copy of an email ("Show email", GET …/messages/:id/rendered): it unsubscribes no
 * one. The debtor's own link must not be shown there: anyone signed in to the tenant, a viewer too, could otherwise
 * copy it (from a held reminder as well, and it works once that is sent) and stop every reminder to the debtor, for
 * good, in the debtor's name.
 */
export const TEAM_COPY_TOKEN = 'team-copy';

/** The email with the debtor's unsubscribe link (html and text) replaced by the team's inert one. */
export function teamCopy<T extends { html: string; text: string }>(
  email: T,
  publicUrl: string,
  appSecret: string,
  messageId: string,
): T {
  const debtors = unsubscribeUrl(publicUrl, appSecret, messageId);
  const team = `${publicUrl}/u/${TEAM_COPY_TOKEN}`;
  return { ...email, html: email.html.replaceAll(debtors, team), text: email.text.replaceAll(debtors, team) };
}
