/**
 * Invoice documents from the host ledger, read live through a stored connection's credentials. Which hosts render
 * an invoice PDF is one line per provider here (QuickBooks does; a CSV import has no document at all), so the
 * emails offer a PDF link only where one can be served.
 */
import { fetchQuickbooksInvoicePdf, type InvoicePdf } from '../../connectors/quickbooks';
import type { Services } from '../services';
import { type ConnectionRow, connectionTokens, sharedLimiter } from './connections';

type PdfFetcher = (
  services: Services,
  conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>,
  invoiceExternalId: string,
  signal?: AbortSignal,
) => Promise<InvoicePdf>;

const fetchers: Record<string, PdfFetcher> = {
  quickbooks: (services, conn, id, signal) => {
    const tokens = connectionTokens(services);
    let last = '';
    return fetchQuickbooksInvoicePdf(id, {
      config: services.config,
      externalId: conn.externalId,
      getAccessToken: async () => {
        last = await tokens.getAccessToken(conn.id);
        return last;
      },
      onUnauthorized: async () => {
        last = await tokens.onUnauthorized(conn.id, last);
        return last;
      },
      limiter: sharedLimiter(services, conn),
      signal,
    });
  },
};

/** Providers whose invoices Duely can hand out as PDFs. */
export const invoicePdfProviders: readonly string[] = Object.keys(fetchers);

export function hostHasInvoicePdf(provider: string): boolean {
  return Object.hasOwn(fetchers, provider);
}

/**
 * The invoice's PDF from the connection's host. Throws ReconnectNeededError / ConnectionInactiveError when the
 * connection cannot be used, ConnectorError for the host's own refusals (not_found for a deleted invoice).
 */
export function fetchInvoicePdf(
  services: Services,
  conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>,
  invoiceExternalId: string,
  signal?: AbortSignal,
): Promise<InvoicePdf> {
  const fetcher = fetchers[conn.provider];
  if (!fetcher) throw new Error(`no invoice PDFs from ${conn.provider}`);
  return fetcher(services, conn, invoiceExternalId, signal);
}
