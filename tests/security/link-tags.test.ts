/**
 * A signed link (unsubscribe, invoice PDF) verifies only in the exact spelling Duely wrote. Node's base64url decoder
 * skips characters it does not know and ignores the spare bits of a tag's last character, so tampered spellings of
 * a link (found by probing a running server: a space inside the tag, a trailing "=", a neighbouring last letter)
 * used to verify as the original.
 */
import { describe, expect, it } from 'vitest';
import { invoicePdfTokenSignedFor, signInvoicePdfToken } from '../../src/dunning/invoice-pdf-link';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../src/dunning/unsubscribe-token';

describe('signed links verify only as written', () => {
  const secret = 'x'.repeat(40);
  const messageId = 'dm_0123456789abcdef01234567';

  /** Other spellings of the same tag: spare bits of the last character, padding, a skipped character. */
  const respellings = (tag: string) => {
    const last = tag.at(-1)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sibling = alphabet[alphabet.indexOf(last) ^ 1]!;
    return [`${tag.slice(0, -1)}${sibling}`, `${tag}=`, `${tag.slice(0, 4)} ${tag.slice(4)}`, `${tag}!`];
  };

  it('unsubscribe: the written token verifies, no other spelling does', () => {
    const token = signUnsubscribeToken(secret, messageId);
    expect(verifyUnsubscribeToken(secret, token)).toBe(messageId);
    const [id, tag] = token.split('.') as [string, string];
    for (const t of respellings(tag)) expect(verifyUnsubscribeToken(secret, `${id}.${t}`), t).toBeNull();
  });

  it('invoice PDF: the written token verifies, no other spelling does', () => {
    const tenant = '00000000-0000-4000-8000-000000000001';
    const token = signInvoicePdfToken(secret, {
      tenantId: tenant,
      messageId,
      invoiceId: '00000000-0000-4000-8000-0000000000aa',
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    });
    expect(invoicePdfTokenSignedFor(secret, token, tenant)).toBe(true);
    const parts = token.split('.');
    for (const t of respellings(parts[3]!)) {
      expect(invoicePdfTokenSignedFor(secret, [...parts.slice(0, 3), t].join('.'), tenant), t).toBe(false);
    }
  });
});
