/** Read queries over the canonical ledger, always scoped by tenant. */
import { and, asc, desc, eq, gt, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { InvoiceStatus } from '../../../connectors/canonical';
import type { DbOrTx } from '../client';
import { customers, invoicePredictions, invoices, paymentAllocations, payments } from '../schema';

/** What an invoice's prediction shows wherever it is listed. */
export const predictionColumns = {
  pLate: invoicePredictions.pLate,
  riskBand: invoicePredictions.riskBand,
  predictedPayDate: invoicePredictions.predictedPayDate,
  payDateP10: invoicePredictions.payDateP10,
  payDateP90: invoicePredictions.payDateP90,
  expectedDaysLate: invoicePredictions.expectedDaysLate,
  reasons: invoicePredictions.reasons,
  modelVersion: invoicePredictions.modelVersion,
};

export interface InvoiceFilter {
  status?: InvoiceStatus;
  /** Open with a due date before `today`. */
  overdue?: boolean;
  customerId?: string;
  today: string;
  limit: number;
  /** Keyset cursor from the previous page. */
  after?: { dueDate: string; id: string };
}

export async function listInvoices(db: DbOrTx, tenantId: string, f: InvoiceFilter) {
  const where: SQL[] = [eq(invoices.tenantId, tenantId)];
  if (f.status) where.push(eq(invoices.status, f.status));
  if (f.overdue === true) where.push(eq(invoices.status, 'open'), lt(invoices.dueDate, f.today));
  if (f.overdue === false) {
    where.push(or(sql`${invoices.status} <> 'open'`, sql`${invoices.dueDate} >= ${f.today}`)!);
  }
  if (f.customerId) where.push(eq(invoices.customerId, f.customerId));
  if (f.after) {
    where.push(
      or(
        gt(invoices.dueDate, f.after.dueDate),
        and(eq(invoices.dueDate, f.after.dueDate), gt(invoices.id, f.after.id)),
      )!,
    );
  }
  return db
    .select({
      id: invoices.id,
      externalId: invoices.externalId,
      number: invoices.number,
      customerId: invoices.customerId,
      customerExternalId: customers.externalId,
      customerName: customers.name,
      issueDate: invoices.issueDate,
      dueDate: invoices.dueDate,
      currency: invoices.currency,
      totalMinor: invoices.totalMinor,
      balanceMinor: invoices.balanceMinor,
      status: invoices.status,
      paidDate: invoices.paidDate,
      payLink: invoices.payLink,
      prediction: predictionColumns,
    })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .leftJoin(invoicePredictions, eq(invoicePredictions.invoiceId, invoices.id))
    .where(and(...where))
    .orderBy(asc(invoices.dueDate), asc(invoices.id))
    .limit(f.limit);
}

/** A customer by id or by the ledger's external id. */
export async function findCustomer(db: DbOrTx, tenantId: string, ref: string) {
  const isUuid = /^[0-9a-f-]{36}$/i.test(ref);
  const [row] = await db
    .select()
    .from(customers)
    .where(
      and(
        eq(customers.tenantId, tenantId),
        isUuid ? or(eq(customers.id, ref), eq(customers.externalId, ref)) : eq(customers.externalId, ref),
      ),
    )
    .limit(1);
  return row ?? null;
}

export async function customerLedger(db: DbOrTx, tenantId: string, customerId: string) {
  const invoiceRows = await db
    .select()
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), eq(invoices.customerId, customerId)))
    .orderBy(desc(invoices.issueDate), desc(invoices.id));
  const paymentRows = await db
    .select()
    .from(payments)
    .where(and(eq(payments.tenantId, tenantId), eq(payments.customerId, customerId)))
    .orderBy(desc(payments.date), desc(payments.id));
  const allocations =
    paymentRows.length === 0
      ? []
      : await db
          .select({
            paymentId: paymentAllocations.paymentId,
            creditMemoId: paymentAllocations.creditMemoId,
            invoiceId: paymentAllocations.invoiceId,
            amountMinor: paymentAllocations.amountMinor,
            date: paymentAllocations.date,
          })
          .from(paymentAllocations)
          .where(
            and(
              eq(paymentAllocations.tenantId, tenantId),
              inArray(
                paymentAllocations.paymentId,
                paymentRows.map((p) => p.id),
              ),
            ),
          );
  return { invoices: invoiceRows, payments: paymentRows, allocations };
}

export async function listCustomers(db: DbOrTx, tenantId: string, limit: number, offset: number) {
  return db
    .select({
      id: customers.id,
      externalId: customers.externalId,
      name: customers.name,
      emails: customers.emails,
      firstSeen: customers.firstSeen,
      openInvoices: sql<number>`count(${invoices.id}) filter (where ${invoices.status} = 'open')`.mapWith(
        Number,
      ),
      openBalanceMinor:
        sql<number>`coalesce(sum(${invoices.balanceMinor}) filter (where ${invoices.status} = 'open'), 0)`.mapWith(
          Number,
        ),
    })
    .from(customers)
    .leftJoin(invoices, eq(invoices.customerId, customers.id))
    .where(eq(customers.tenantId, tenantId))
    .groupBy(customers.id)
    .orderBy(asc(customers.name), asc(customers.id))
    .limit(limit)
    .offset(offset);
}
