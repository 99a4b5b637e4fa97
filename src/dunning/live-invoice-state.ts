import type { DbOrTx } from '../db/client';
import { activeConnectionsOfTenant } from '../db/queries/connection-lookup';
import { invoiceStatesForShare } from '../db/queries/ledger';
import { findTenant } from '../db/queries/tenants';
import type { DunningDeps, LedgerInvoiceRead } from './ports';

export interface LiveInvoiceRow {
  invoiceId: string;
  number: string;
  status: 'open' | 'paid' | 'void' | 'deleted';
  openBalanceMinor: number;
  currency: string;
}

/**
 * Per-provider refresh before the locked re-read: pull the invoices' current state from the ledger's API and
 * write it to the invoices rows, so the locked read below sees it (the sync module, through the LedgerRefresh port).
 *
 * The tenant's active connection decides (its `provider`, not the tenant's original `source`: a CSV tenant that
 * connected a ledger later is re-checked too): its connector reads each invoice by id and the result is written
 * through the sync's page writer (src/sync/live-refresh.ts). A connection in reconnect_needed cannot be read;
 * send-message.ts holds those sends. Without an active connection, the ledger is the last import (CSV): nothing to
 * fetch.
 */
export type LiveStateRefresher = (
  services: DunningDeps,
  tenantId: string,
  invoiceIds: string[],
) => Promise<void>;
/**
 * Overrides by provider (or, for a tenant without an active connection, by its source), for tests and special
 * sources; a provider without an entry uses its connector's live read.
 */
export const liveStateRefreshers: Record<string, LiveStateRefresher | undefined> = {
  // CSV tenants: the latest imported rows are the ledger; nothing to fetch.
  csv: undefined,
};

/** Whether the tenant's invoices can be read live (an active connection whose connector reads, or an override). */
export async function hasLiveLedger(services: DunningDeps, tenantId: string): Promise<boolean> {
  const conns = await activeConnectionsOfTenant(services.db, tenantId);
  if (conns.some((c) => services.sync.hasLiveRead(c.provider) || liveStateRefreshers[c.provider]))
    return true;
  const tenant = await findTenant(services.db, tenantId);
  return Boolean(tenant && liveStateRefreshers[tenant.source]);
}

/**
 * Refreshes the invoices' rows from the ledger; returns what the connector's live read said of each invoice it
 * answered for, keyed by invoice id (empty when nothing was read live: no connection, an override, a CSV tenant).
 */
export async function refreshLiveState(
  services: DunningDeps,
  tenantId: string,
  invoiceIds: string[],
): Promise<Map<string, LedgerInvoiceRead>> {
  const said = new Map<string, LedgerInvoiceRead>();
  if (invoiceIds.length === 0) return said;
  const live = (await activeConnectionsOfTenant(services.db, tenantId)).find((c) =>
    services.sync.hasLiveRead(c.provider),
  );
  if (live) {
    const override = liveStateRefreshers[live.provider];
    if (override) await override(services, tenantId, invoiceIds);
    else for (const r of await services.sync.refreshInvoices(live, invoiceIds)) said.set(r.invoiceId, r);
    return said;
  }
  const tenant = await findTenant(services.db, tenantId);
  const refresher = tenant ? liveStateRefreshers[tenant.source] : undefined;
  if (refresher) await refresher(services, tenantId, invoiceIds);
  return said;
}

/**
 * The invoices whose locked row no longer says what the ledger said moments ago in the live read: something wrote
 * them in between (e.g. a sync page fetched before a payment, whose whole-second timestamp ties the payment's, so
 * the page writer let it replace the fresher state). Neither is trusted then: the send reads the ledger again.
 */
export function movedSinceLiveRead(
  said: ReadonlyMap<string, LedgerInvoiceRead>,
  rows: readonly LiveInvoiceRow[],
): LiveInvoiceRow[] {
  return rows.filter((r) => {
    const l = said.get(r.invoiceId);
    if (!l) return false;
    if (l.status !== r.status) return true;
    return (l.status === 'open' || l.status === 'paid') && l.balanceMinor !== r.openBalanceMinor;
  });
}

/** The invoices' rows, locked FOR SHARE until the caller's transaction ends. Pass the claim transaction. */
export async function liveInvoiceState(
  _services: DunningDeps,
  tenantId: string,
  invoiceIds: string[],
  tx: DbOrTx,
): Promise<LiveInvoiceRow[]> {
  if (invoiceIds.length === 0) return [];
  const rows = await invoiceStatesForShare(tx, tenantId, invoiceIds);
  return rows.map((r) => ({
    invoiceId: r.id,
    number: r.number ?? r.externalId,
    status: r.status,
    openBalanceMinor: r.balanceMinor,
    currency: r.currency,
  }));
}
