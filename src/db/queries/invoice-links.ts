/**
 * What the links in a reminder read: the pay links stored with invoices (dunning/payment-details.ts) and what a
 * signed invoice PDF link resolves to (dunning/invoice-pdf-link.ts: its message, invoice, company name and the
 * connection the PDF is read through).
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { connections, dunningMessages, invoices, tenants } from '../schema';

/** These invoices of the tenant with their stored pay link and status (the ones that exist). */
export async function payLinksOfInvoices(db: DbOrTx, tenantId: string, invoiceIds: string[]) {
  return db
    .select({ id: invoices.id, payLink: invoices.payLink, status: invoices.status })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, invoiceIds)));
}

/** The message a PDF link names: its tenant, customer and the invoices it lists. */
export async function messageOfPdfLink(db: DbOrTx, messageId: string) {
  const [message] = await db
    .select({
      tenantId: dunningMessages.tenantId,
      customerId: dunningMessages.customerId,
      invoiceIds: dunningMessages.invoiceIds,
      snapshot: dunningMessages.snapshot,
    })
    .from(dunningMessages)
    .where(eq(dunningMessages.id, messageId));
  return message;
}

/** The invoice, only if it is the tenant's and the customer's. */
export async function invoiceOfCustomer(db: DbOrTx, tenantId: string, customerId: string, invoiceId: string) {
  const [invoice] = await db
    .select()
    .from(invoices)
    .where(
      and(eq(invoices.id, invoiceId), eq(invoices.tenantId, tenantId), eq(invoices.customerId, customerId)),
    );
  return invoice;
}

/** The tenant's company name, if the tenant exists. */
export async function tenantName(db: DbOrTx, tenantId: string): Promise<string | undefined> {
  const [tenant] = await db.select({ name: tenants.name }).from(tenants).where(eq(tenants.id, tenantId));
  return tenant?.name;
}

/** The tenant's oldest connection to one of these providers, whatever its status (`providers` not empty). */
export async function oldestConnectionOfProviders(
  db: DbOrTx,
  tenantId: string,
  providers: readonly string[],
) {
  const [conn] = await db
    .select()
    .from(connections)
    .where(and(eq(connections.tenantId, tenantId), inArray(connections.provider, [...providers])))
    .orderBy(connections.createdAt)
    .limit(1);
  return conn;
}
