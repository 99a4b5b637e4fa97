/**
 * How a debtor pays when an invoice carries no pay link of its own (tenants.settings.paymentDetails): a payment
 * page and/or bank details, shown in every reminder and statement under "How to pay".
 */
import { z } from 'zod';
import type { PaymentDetails } from '../../emails/email-props';
import { payLinksOfInvoices } from '../db/queries/invoice-links';
import type { Tenant } from '../db/queries/tenants';
import type { DunningDeps } from './ports';
import { hasLiveLedger, refreshLiveState } from './live-invoice-state';

export const paymentDetailsSchema = z
  .object({
    url: z
      .string()
      .trim()
      .pipe(z.url({ protocol: /^https$/, message: 'an https:// address of your payment page' }))
      .optional(),
    instructions: z
      .string()
      .trim()
      .min(1, 'the payment instructions are empty')
      .max(1000, 'the payment instructions are longer than 1000 characters')
      .optional(),
  })
  .strict()
  .refine((p) => p.url !== undefined || p.instructions !== undefined, {
    message: 'give a payment page address, bank details, or both',
  });

/** The tenant's payment details, or undefined when none are set. */
export function paymentDetailsOf(tenant: Pick<Tenant, 'settings'>): PaymentDetails | undefined {
  const r = paymentDetailsSchema.safeParse(tenant.settings.paymentDetails);
  return r.success ? r.data : undefined;
}

/** An invoice the host had no pay link for is asked again only after this long (per process). */
export const PAY_LINK_RECHECK_MS = 6 * 60 * 60_000;
/** At most this many single reads per call: a long statement or customer page does not stall on the host. */
export const PAY_LINK_READS_MAX = 200;

/**
 * Pay links for any open invoices (listed in a message, a statement, a receipt's "still open", the customer page),
 * not only those a planned step covers. Intuit's API returns an invoice's InvoiceLink only on a single read with
 * include=invoiceLink (never from the sync's queries), so each open invoice without a stored link is read once
 * from the ledger through the tenant's live-state refresher and the link is stored with the invoice. A ledger
 * with no such reads (a CSV import) is left as it is: its reminders show the tenant's payment details instead.
 * Never throws: a failed read only leaves links out (the copy then mentions none it does not have).
 */
export async function ensurePayLinks(
  services: DunningDeps,
  tenantId: string,
  invoiceIds: readonly string[],
): Promise<Map<string, string>> {
  const ids = [...new Set(invoiceIds)];
  const links = new Map<string, string>();
  if (ids.length === 0) return links;
  const read = () => payLinksOfInvoices(services.db, tenantId, ids);
  const rows = await read();
  for (const r of rows) if (r.payLink) links.set(r.id, r.payLink);
  if (!(await hasLiveLedger(services, tenantId))) return links;
  const checked = services.payLinkChecks;
  // A cache's age, not a business date: real time, whatever the app clock says.
  const now = Date.now();
  const missing = rows
    .filter(
      (r) =>
        !r.payLink && r.status === 'open' && now - (checked.get(r.id) ?? -Infinity) > PAY_LINK_RECHECK_MS,
    )
    .map((r) => r.id)
    .slice(0, PAY_LINK_READS_MAX);
  if (missing.length === 0) return links;
  try {
    await refreshLiveState(services, tenantId, missing);
  } catch (err) {
    services.logger.warn({ tenantId, err }, 'pay links could not be read from the ledger');
    return links;
  }
  for (const r of await read()) if (r.payLink) links.set(r.id, r.payLink);
  // Remember only what the host had no link for, so that one is not read again on every email or page view.
  for (const id of missing) {
    if (links.has(id)) checked.delete(id);
    else checked.set(id, now);
  }
  return links;
}

/** Every invoice a message lists: the ones its steps cover and the others its statement shows. */
export function listedInvoiceIds(row: { invoiceIds: string[]; snapshot: unknown }): string[] {
  const snap = row.snapshot as { invoices?: { invoiceId?: unknown }[] } | null;
  const listed = (snap?.invoices ?? [])
    .map((i) => i.invoiceId)
    .filter((id): id is string => typeof id === 'string');
  return [...new Set([...row.invoiceIds, ...listed])];
}
