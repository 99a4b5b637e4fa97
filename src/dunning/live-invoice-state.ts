/**
 * The invoices' state right before a send. The database row is the truth the send decides on, read under a
 * row lock (FOR SHARE) inside the send's claim transaction: an import or sync that settles the invoice updates
 * the same rows, so it either committed before the re-check (and the re-check sees it) or waits until the
 * claim committed (and the payment arrived after the decision).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { invoices, tenants } from '../db/schema';
import type { Services } from '../services';
import { refreshQuickbooksInvoices } from '../sync/live-refresh';

export interface LiveInvoiceRow {
  invoiceId: string;
  number: string;
  status: 'open' | 'paid' | 'void' | 'deleted';
  openBalanceMinor: number;
  currency: string;
}

/**
 * Per-provider refresh before the locked re-read: pull the invoices' current state from the ledger's API and
 * write it to the invoices rows, so the locked read below sees it.
 *
 * QuickBooks: each invoice is read from the API and written through the sync's page writer
 * (src/sync/live-refresh.ts). A connection in reconnect_needed cannot be read; send-message.ts holds those sends.
 */
export type LiveStateRefresher = (
  services: Services,
  tenantId: string,
  invoiceIds: string[],
) => Promise<void>;
export const liveStateRefreshers: Record<string, LiveStateRefresher | undefined> = {
  // CSV tenants: the latest imported rows are the ledger; nothing to fetch.
  csv: undefined,
  quickbooks: refreshQuickbooksInvoices,
};

export async function refreshLiveState(
  services: Services,
  tenantId: string,
  invoiceIds: string[],
): Promise<void> {
  const [t] = await services.db
    .select({ source: tenants.source })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  const refresher = t ? liveStateRefreshers[t.source] : undefined;
  if (refresher && invoiceIds.length > 0) await refresher(services, tenantId, invoiceIds);
}

/** The invoices' rows, locked FOR SHARE until the caller's transaction ends. Pass the claim transaction. */
export async function liveInvoiceState(
  _services: Services,
  tenantId: string,
  invoiceIds: string[],
  tx: DbOrTx,
): Promise<LiveInvoiceRow[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await tx
    .select({
      id: invoices.id,
      number: invoices.number,
      externalId: invoices.externalId,
      status: invoices.status,
      balanceMinor: invoices.balanceMinor,
      currency: invoices.currency,
    })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, invoiceIds)))
    .orderBy(invoices.id)
    .for('share');
  return rows.map((r) => ({
    invoiceId: r.id,
    number: r.number ?? r.externalId,
    status: r.status,
    openBalanceMinor: r.balanceMinor,
    currency: r.currency,
  }));
}
