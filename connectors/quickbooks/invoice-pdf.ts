/**
 * An invoice as the PDF QuickBooks renders for it (the company's own invoice form), read live so the debtor gets
 * the document as it is now:
 *   GET /v3/company/{realmId}/invoice/{invoiceId}/pdf  with  Accept: application/pdf
 * "Get an invoice as PDF": https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#get-an-invoice-as-pdf
 * The answer is the PDF itself (Content-Type application/pdf), not a JSON envelope; errors still arrive as the
 * usual fault bodies (JSON or XML), so they map through faults.ts like every other call.
 *
 * It uses the connection's credentials the same way QboClient does (the caller's getAccessToken/onUnauthorized,
 * one refresh after a 401, the realm's request budget), but neither retries nor waits on throttling: a person is
 * waiting on the other end of the link, and a failed download is simply tried again.
 */
import { ConnectorError } from '../errors';
import type { InvoicePdf, InvoicePdfOptions as Options } from '../types';

type InvoicePdfOptions = Options<QuickbooksConfig>;
import { QBO_MINOR_VERSION } from './client';
import { faultToError, parseFault } from './faults';
import { type QuickbooksConfig, quickbooksEndpoints } from './oauth';
import { RealmLimiter } from './realm-limiter';

export type { InvoicePdf, InvoicePdfOptions };

/** The QuickBooks invoice `invoiceId` (its Id) as a PDF. Throws ConnectorError (not_found for a deleted one). */
export async function fetchQuickbooksInvoicePdf(
  invoiceId: string,
  o: InvoicePdfOptions,
): Promise<InvoicePdf> {
  const base = quickbooksEndpoints(o.config).apiBaseUrl.replace(/\/+$/, '');
  const url = new URL(
    `${base}/v3/company/${encodeURIComponent(o.externalId)}/invoice/${encodeURIComponent(invoiceId)}/pdf` +
      `?minorversion=${QBO_MINOR_VERSION}`,
  );
  const doFetch = o.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  // The app passes the realm's process limiter (shared with its sync); standalone use gets one of its own.
  const limiter = o.limiter ?? new RealmLimiter();
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 30_000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;

  const once = (token: string) =>
    limiter.run(async () => {
      try {
        return await doFetch(url, {
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/pdf' },
          signal,
        });
      } catch (e) {
        throw new ConnectorError({
          code: signal.aborted ? 'aborted' : 'network',
          message: `QuickBooks unreachable: ${(e as Error).message}`,
          cause: e,
        });
      }
    }, signal);

  let token = await o.getAccessToken();
  let res = await once(token);
  if (res.status === 401) {
    await res.body?.cancel();
    // Another request may already have refreshed: the stored token first, then a refresh of our own.
    const latest = await o.getAccessToken();
    token = latest !== token ? latest : await o.onUnauthorized();
    res = await once(token);
  }
  if (!res.ok) throw faultToError(res.status, parseFault(await res.text()), null);
  const type = res.headers.get('content-type') ?? '';
  if (!/^application\/pdf\b/i.test(type) || !res.body) {
    // A fault sent with HTTP 200 (or an HTML error page) must not reach the debtor as "a PDF".
    const text = await res.text();
    const fault = parseFault(text);
    if (fault) throw faultToError(400, fault);
    throw new ConnectorError({
      code: 'provider_unavailable',
      status: res.status,
      message: `QuickBooks: the invoice PDF answer is ${type || 'untyped'}, not application/pdf`,
    });
  }
  const length = Number(res.headers.get('content-length'));
  return { body: res.body, length: Number.isFinite(length) && length > 0 ? length : null };
}
