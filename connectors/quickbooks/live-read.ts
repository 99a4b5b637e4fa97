/**
 * The pre-send live read: each invoice by id (GET /v3/company/<realmId>/invoice/<id>,
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice#read-an-invoice), mapped
 * like the sync maps it; one deleted in QuickBooks ("object not found") comes back as a deletion.
 */
import type { CanonicalDeletion, CanonicalInvoice } from '../canonical';
import { ConnectorError } from '../errors';
import type { ConnectorContext } from '../types';
import type { QboClient } from './client';
import { mapInvoice } from './map';

export async function readQuickbooksInvoices(
  ctx: ConnectorContext<QboClient>,
  externalIds: readonly string[],
  options: { homeCurrency: string },
): Promise<{ invoices: CanonicalInvoice[]; deleted: CanonicalDeletion[] }> {
  const invoices: CanonicalInvoice[] = [];
  const deleted: CanonicalDeletion[] = [];
  for (const id of externalIds) {
    try {
      const raw = await ctx.client.read('Invoice', id, ctx.signal);
      invoices.push(mapInvoice(raw, { homeCurrency: options.homeCurrency }));
    } catch (err) {
      // An invoice deleted in QuickBooks reads as "object not found": it must not be chased any more.
      if (err instanceof ConnectorError && err.code === 'not_found') deleted.push({ externalId: id });
      else throw err;
    }
  }
  return { invoices, deleted };
}
