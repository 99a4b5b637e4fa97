/**
 * Right before a reminder goes out, the invoices' state is read from the connected ledger itself (not from the last
 * sync): a payment recorded minutes ago must cancel the email even if its webhook has not arrived yet. The
 * connection's connector reads each invoice by id (`read.invoices`); the result is written through the same page
 * writer the sync uses, and one deleted at the source becomes a deletion.
 */
import { connectorFor, isProvider } from '../../connectors';
import type { ConnectionRow } from '../db/queries/connection-lookup';
import { lockActiveConnection } from '../db/queries/connections';
import { isReleasedImportId } from '../db/queries/csv-import';
import { invoiceExternalIds } from '../db/queries/ledger';
import { tenantById } from '../db/queries/tenants';
import { tenantHasImportedRows, writePage } from './apply-page';
import { connectionClient } from './connections';
import type { SyncDeps } from './ports';

/** Whether connections of this provider can be read live (its connector has `read.invoices`). */
export function hasLiveRead(provider: string): boolean {
  return isProvider(provider) && connectorFor(provider).read !== undefined;
}

/** What the ledger said of one invoice, as the live read got it (before it was written). */
export interface LedgerInvoiceRead {
  invoiceId: string;
  status: 'open' | 'paid' | 'void' | 'deleted';
  balanceMinor: number;
}

/**
 * Reads the invoices live and writes them; returns what the ledger said of each invoice it answered for (an empty
 * list when nothing was read or written). The caller's check compares it with the rows it then reads: a write landing
 * in between (a sync page fetched before the change, with the same second-resolution timestamp, wins the page
 * writer's tie) makes the two differ.
 */
export async function refreshInvoicesLive(
  services: SyncDeps,
  conn: Pick<ConnectionRow, 'id' | 'tenantId' | 'provider' | 'externalId'>,
  invoiceIds: string[],
): Promise<LedgerInvoiceRead[]> {
  const { db } = services;
  if (!isProvider(conn.provider)) return [];
  const read = connectorFor(conn.provider).read;
  if (!read) return [];
  const tenantId = conn.tenantId;
  const tenant = await tenantById(db, tenantId);
  const all = await invoiceExternalIds(db, tenantId, invoiceIds);
  // A CSV company's imported row, released when it connected this ledger, is not the ledger's: its id, the file's,
  // may name another record there (another debtor's invoice). Never asked for; it is gone (the connect marked it
  // deleted, releaseImportedRows; one released before that is marked so here).
  const released = all.filter((r) => isReleasedImportId(r.externalId));
  const rows = all.filter((r) => !isReleasedImportId(r.externalId));
  const { client } = connectionClient(services, conn);
  const result = await read.invoices(
    {
      client,
      externalId: conn.externalId,
      logger: services.logger.child({ module: 'connector', provider: conn.provider, connectionId: conn.id }),
      signal: new AbortController().signal,
    },
    rows.map((r) => r.externalId),
    { homeCurrency: tenant?.currency ?? 'USD' },
  );
  return db.transaction(async (tx) => {
    // Read over the network: written only if the connection is still active (a disconnect meanwhile wins).
    if (!(await lockActiveConnection(tx, conn.id))) return [];
    // An invoice the ledger does not know is gone there, unless the tenant also holds rows imported from CSV: then it
    // may be one of those (never in the connected ledger), and is left as imported.
    const notFound =
      result.deleted.length > 0 && (await tenantHasImportedRows(tx, tenantId)) ? [] : result.deleted;
    const deleted = [...notFound, ...released.map((r) => ({ externalId: r.externalId }))];
    if (notFound.length < result.deleted.length) {
      services.logger.warn(
        { tenantId, connectionId: conn.id, notFound: result.deleted.length },
        'live read: invoices not found in the ledger kept (the tenant also holds CSV-imported rows)',
      );
    }
    await writePage(
      tx,
      tenantId,
      {
        customers: [],
        invoices: result.invoices,
        payments: [],
        creditMemos: [],
        deletions: { customers: [], invoices: deleted, payments: [], creditMemos: [] },
      },
      services.clock.now(),
    );
    const idOf = new Map(all.map((r) => [r.externalId, r.id]));
    const said: LedgerInvoiceRead[] = [];
    for (const i of result.invoices) {
      const invoiceId = idOf.get(i.externalId);
      if (invoiceId) said.push({ invoiceId, status: i.status, balanceMinor: i.balanceMinor });
    }
    for (const d of deleted) {
      const invoiceId = idOf.get(d.externalId);
      if (invoiceId) said.push({ invoiceId, status: 'deleted', balanceMinor: 0 });
    }
    return said;
  });
}
