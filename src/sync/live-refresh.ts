/**
 * Right before a reminder goes out, the invoices' state is read from QuickBooks itself (not from the last sync):
 * a payment recorded minutes ago must cancel the email even if its webhook has not arrived yet. Each invoice is
 * read by id (GET /v3/company/<realmId>/invoice/<id>, https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#read-an-invoice)
 * and written through the same page writer the sync uses; one deleted in QuickBooks becomes a deletion.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { ConnectorError } from '../../connectors/errors';
import { mapInvoice } from '../../connectors/quickbooks/map';
import type { CanonicalDeletion, CanonicalInvoice } from '../../connectors/canonical';
import { connections, invoices, tenants } from '../db/schema';
import type { Services } from '../services';
import { writePage } from './apply-page';
import { connectionClient } from './connections';

export async function refreshQuickbooksInvoices(
  services: Services,
  tenantId: string,
  invoiceIds: string[],
): Promise<void> {
  const { db } = services;
  const [conn] = await db
    .select()
    .from(connections)
    .where(
      and(
        eq(connections.tenantId, tenantId),
        eq(connections.provider, 'quickbooks'),
        eq(connections.status, 'active'),
      ),
    );
  // No live connection: the send's own rules hold the message (reconnect needed); nothing to read.
  if (!conn) return;
  const [tenant] = await db
    .select({ currency: tenants.currency })
    .from(tenants)
    .where(eq(tenants.id, tenantId));
  const rows = await db
    .select({ externalId: invoices.externalId })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, invoiceIds)));
  const { client } = connectionClient(services, conn);
  const live: CanonicalInvoice[] = [];
  const gone: CanonicalDeletion[] = [];
  for (const r of rows) {
    try {
      const raw = await client.read('Invoice', r.externalId);
      live.push(mapInvoice(raw, { homeCurrency: tenant?.currency ?? 'USD' }));
    } catch (err) {
      // An invoice deleted in QuickBooks reads as "object not found": it must not be chased any more.
      if (err instanceof ConnectorError && err.code === 'not_found') gone.push({ externalId: r.externalId });
      else throw err;
    }
  }
  await db.transaction(async (tx) => {
    // Read over the network: written only if the connection is still active (a disconnect meanwhile wins).
    const [still] = await tx
      .select({ id: connections.id })
      .from(connections)
      .where(and(eq(connections.id, conn.id), eq(connections.status, 'active')))
      .for('update');
    if (!still) return;
    await writePage(
      tx,
      tenantId,
      {
        customers: [],
        invoices: live,
        payments: [],
        creditMemos: [],
        deletions: { customers: [], invoices: gone, payments: [], creditMemos: [] },
      },
      services.clock.now(),
    );
  });
}
