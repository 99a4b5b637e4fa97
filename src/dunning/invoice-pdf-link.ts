/**
 * Signed, expiring invoice PDF links: PUBLIC_URL/invoice-pdf/<message id>.<invoice id>.<expiry>.<tag>, one per
 * (tenant, invoice, message). Signed like the unsubscribe link (unsubscribe-token.ts): an HMAC-SHA256 (128 bits)
 * under a key derived from APP_SECRET for this purpose only. The tag also covers the tenant, which the link does not
 * carry (it is the message's): a link only ever opens an invoice of the tenant whose message carried it. Unlike the
 * unsubscribe link it expires, because it opens a document and costs a live read from the host each time.
 * Short on purpose: a route parameter is limited to 100 characters (27 + 32 + ~7 + 22 + 3 here).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey } from '../keys';
import {
  invoiceOfCustomer,
  messageOfPdfLink,
  oldestConnectionOfProviders,
  tenantName,
} from '../db/queries/invoice-links';
import type { connections } from '../db/schema';
import type { DunningDeps } from './ports';
import { listedInvoiceIds } from './payment-details';

/** How long an emailed PDF link works after the email was composed. */
export const INVOICE_PDF_LINK_DAYS = 90;

const TAG_BYTES = 16;
const MESSAGE_ID = /^d[a-z]_[0-9a-f]{24}$/;
const COMPACT_UUID = /^[0-9a-f]{32}$/;
const EXPIRY = /^[0-9a-z]{1,9}$/;

export interface InvoicePdfClaims {
  messageId: string;
  invoiceId: string;
  expiresAt: Date;
}

const compact = (uuid: string) => uuid.replace(/-/g, '').toLowerCase();
const expand = (hex: string) =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

function tagOf(appSecret: string, tenantId: string, messageId: string, invoiceId: string, exp: string) {
  return createHmac('sha256', deriveKey(appSecret, 'invoice-pdf-link'))
    .update(`${tenantId}\n${messageId}\n${compact(invoiceId)}\n${exp}`)
    .digest()
    .subarray(0, TAG_BYTES);
}

export function signInvoicePdfToken(
  appSecret: string,
  link: { tenantId: string; messageId: string; invoiceId: string; expiresAt: Date },
): string {
  const exp = Math.floor(link.expiresAt.getTime() / 1000).toString(36);
  const tag = tagOf(appSecret, link.tenantId, link.messageId, link.invoiceId, exp);
  return `${link.messageId}.${compact(link.invoiceId)}.${exp}.${tag.toString('base64url')}`;
}

/**
 * What the token claims, before its signature is checked (the signature needs the message's tenant): null when
 * it is not even shaped like a link.
 */
export function readInvoicePdfToken(token: string): (InvoicePdfClaims & { raw: string[] }) | null {
  const parts = token.split('.');
  const [messageId, invoiceHex, exp, tag] = parts;
  if (parts.length !== 4 || !messageId || !invoiceHex || !exp || !tag) return null;
  if (!MESSAGE_ID.test(messageId) || !COMPACT_UUID.test(invoiceHex) || !EXPIRY.test(exp)) return null;
  return {
    messageId,
    invoiceId: expand(invoiceHex),
    expiresAt: new Date(Number.parseInt(exp, 36) * 1000),
    raw: parts,
  };
}

/** True when the token was signed by this install for exactly this tenant (constant-time comparison). */
export function invoicePdfTokenSignedFor(appSecret: string, token: string, tenantId: string): boolean {
  const claims = readInvoicePdfToken(token);
  if (!claims) return false;
  const [messageId, , exp, tag] = claims.raw as [string, string, string, string];
  // The tag's exact text (as in unsubscribe-token.ts): decoding would accept other spellings of the same bytes.
  const given = Buffer.from(tag);
  const expected = Buffer.from(
    tagOf(appSecret, tenantId, messageId, claims.invoiceId, exp).toString('base64url'),
  );
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export function invoicePdfUrl(
  publicUrl: string,
  appSecret: string,
  link: { tenantId: string; messageId: string; invoiceId: string; issuedAt: Date },
): string {
  const expiresAt = new Date(link.issuedAt.getTime() + INVOICE_PDF_LINK_DAYS * 86_400_000);
  return `${publicUrl}/invoice-pdf/${signInvoicePdfToken(appSecret, { ...link, expiresAt })}`;
}

/** What a PDF link opens, as of `now`: the invoice and the connection to read it through, or why not. */
export type InvoicePdfTarget =
  | { kind: 'invalid' }
  | { kind: 'expired' }
  | { kind: 'gone'; status: 'void' | 'deleted'; number: string }
  | { kind: 'unavailable'; number: string; company: string }
  | {
      kind: 'ok';
      number: string;
      company: string;
      invoiceExternalId: string;
      invoiceId: string;
      connection: Pick<typeof connections.$inferSelect, 'id' | 'provider' | 'externalId'>;
    };

/**
 * Resolves a link: signed by this install for the message's tenant, not expired, for an invoice the message lists
 * of that tenant and customer, not voided or deleted, and a connection to a host that renders PDFs which is
 * active (else 'unavailable', so the debtor is told to try later rather than that the link is wrong).
 */
export async function resolveInvoicePdfLink(
  services: Pick<DunningDeps, 'db' | 'config'>,
  token: string,
  now: Date,
  pdfProviders: readonly string[],
): Promise<InvoicePdfTarget> {
  const claims = readInvoicePdfToken(token);
  if (!claims) return { kind: 'invalid' };
  const { db, config } = services;
  const message = await messageOfPdfLink(db, claims.messageId);
  if (!message || !invoicePdfTokenSignedFor(config.APP_SECRET, token, message.tenantId))
    return { kind: 'invalid' };
  if (claims.expiresAt.getTime() <= now.getTime()) return { kind: 'expired' };
  if (!listedInvoiceIds(message).includes(claims.invoiceId)) return { kind: 'invalid' };
  const invoice = await invoiceOfCustomer(db, message.tenantId, message.customerId, claims.invoiceId);
  if (!invoice) return { kind: 'invalid' };
  const number = invoice.number ?? invoice.externalId;
  if (invoice.status === 'void' || invoice.status === 'deleted')
    return { kind: 'gone', status: invoice.status, number };
  const company = (await tenantName(db, message.tenantId)) ?? 'the sender';
  const conn =
    pdfProviders.length === 0
      ? undefined
      : await oldestConnectionOfProviders(db, message.tenantId, pdfProviders);
  if (!conn) return { kind: 'invalid' };
  if (conn.status !== 'active') return { kind: 'unavailable', number, company };
  return {
    kind: 'ok',
    number,
    company,
    invoiceExternalId: invoice.externalId,
    invoiceId: invoice.id,
    connection: { id: conn.id, provider: conn.provider, externalId: conn.externalId },
  };
}
