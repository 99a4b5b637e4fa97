/**
 * Invoice documents from the host ledger, read live through a stored connection's credentials. A connector that
 * can render an invoice PDF says so with `invoicePdf` (a CSV import has no document at all), so the emails offer
 * a PDF link only where one can be served.
 */
import { connectorFor, isProvider, registeredConnectors } from '../../connectors';
import type { InvoicePdf } from '../../connectors/types';
import type { SyncDeps } from './ports';
import { type ConnectionRow, companyLimiter, connectionTokens } from './connections';

/** Providers whose invoices Duely can hand out as PDFs under this configuration. */
export function invoicePdfProviders(config: SyncDeps['config']): readonly string[] {
  return registeredConnectors
    .filter((c) => c.invoicePdf !== undefined && (c.invoicePdfAvailable?.(config as never) ?? true))
    .map((c) => c.provider);
}

export function hostHasInvoicePdf(config: SyncDeps['config'], provider: string): boolean {
  return invoicePdfProviders(config).includes(provider);
}

/**
 * The invoice's PDF from the connection's host. Throws ReconnectNeededError / ConnectionInactiveError when the
 * connection cannot be used, ConnectorError for the host's own refusals (not_found for a deleted invoice).
 */
export function fetchInvoicePdf(
  services: SyncDeps,
  conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>,
  invoiceExternalId: string,
  signal?: AbortSignal,
): Promise<InvoicePdf> {
  const read = isProvider(conn.provider) ? connectorFor(conn.provider).invoicePdf : undefined;
  if (!read) throw new Error(`no invoice PDFs from ${conn.provider}`);
  const tokens = connectionTokens(services);
  let last = '';
  return read(invoiceExternalId, {
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
    limiter: companyLimiter(services, conn),
    signal,
  });
}
