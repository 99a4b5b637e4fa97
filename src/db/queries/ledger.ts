/** Read queries over the canonical ledger, always scoped by tenant. */
import { and, desc, eq, gt, inArray, isNull, notInArray, or, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../client';
import {
  creditMemos,
  customers,
  invoicePredictions,
  invoices,
  paymentAllocations,
  payments,
} from '../schema';

/** What an invoice's prediction shows wherever it is listed. */
export const predictionColumns = {
  pLate: invoicePredictions.pLate,
  riskBand: invoicePredictions.riskBand,
  predictedPayDate: invoicePredictions.predictedPayDate,
  payDateP10: invoicePredictions.payDateP10,
  payDateP90: invoicePredictions.payDateP90,
  expectedDaysLate: invoicePredictions.expectedDaysLate,
  pCollect30: invoicePredictions.pCollect30,
  pCollect90: invoicePredictions.pCollect90,
  risk: invoicePredictions.risk,
  reasons: invoicePredictions.reasons,
  modelVersion: invoicePredictions.modelVersion,
};

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
  const creditMemoRows = await db
    .select()
    .from(creditMemos)
    .where(and(eq(creditMemos.tenantId, tenantId), eq(creditMemos.customerId, customerId)))
    .orderBy(desc(creditMemos.date), desc(creditMemos.id));
  // A credit memo applied to an invoice is an allocation row with a credit memo and no payment.
  const creditApplications =
    creditMemoRows.length === 0
      ? []
      : await db
          .select({
            creditMemoId: paymentAllocations.creditMemoId,
            invoiceId: paymentAllocations.invoiceId,
            amountMinor: paymentAllocations.amountMinor,
            date: paymentAllocations.date,
          })
          .from(paymentAllocations)
          .where(
            and(
              eq(paymentAllocations.tenantId, tenantId),
              isNull(paymentAllocations.paymentId),
              inArray(
                paymentAllocations.creditMemoId,
                creditMemoRows.map((c) => c.id),
              ),
            ),
          );
  return {
    invoices: invoiceRows,
    payments: paymentRows,
    allocations,
    creditMemos: creditMemoRows,
    creditApplications,
  };
}

/** The provider ids of these invoices of the tenant (the ones that exist). */
export async function invoiceExternalIds(
  db: DbOrTx,
  tenantId: string,
  invoiceIds: readonly string[],
): Promise<{ id: string; externalId: string }[]> {
  return db
    .select({ id: invoices.id, externalId: invoices.externalId })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, [...invoiceIds])));
}

/** How much ledger the tenant has: customers, invoices (not deleted), open invoices; and open balance per currency. */
export async function ledgerCounts(
  db: DbOrTx,
  tenantId: string,
): Promise<{
  counts: { customers: number; invoices: number; open: number } | undefined;
  balances: { currency: string; minor: string | number }[];
}> {
  const t = sql`${tenantId}::uuid`;
  const [counts] = rowsOf<{ customers: number; invoices: number; open: number }>(
    await db.execute(sql`
      select (select count(*) from customers where tenant_id = ${t} and deleted_at is null)::int as customers,
             (select count(*) from invoices where tenant_id = ${t} and status <> 'deleted')::int as invoices,
             (select count(*) from invoices where tenant_id = ${t} and status = 'open')::int as open`),
  );
  const balances = rowsOf<{ currency: string; minor: string | number }>(
    await db.execute(sql`
      select currency, sum(balance_minor) as minor from invoices
      where tenant_id = ${t} and status = 'open' group by currency order by currency`),
  );
  return { counts, balances };
}

/** A customer's other open invoices with a balance (not `exceptIds`), by due date, at most 100. */
export async function otherOpenInvoicesOfCustomer(
  db: DbOrTx,
  customerId: string,
  exceptIds: readonly string[],
) {
  return db
    .select()
    .from(invoices)
    .where(
      and(
        eq(invoices.customerId, customerId),
        eq(invoices.status, 'open'),
        gt(invoices.balanceMinor, 0),
        exceptIds.length > 0 ? notInArray(invoices.id, [...exceptIds]) : undefined,
      ),
    )
    .orderBy(invoices.dueDate)
    .limit(100);
}

/** These invoices of the tenant as the send path re-checks them, locked FOR SHARE in the caller's transaction. */
export async function invoiceStatesForShare(db: DbOrTx, tenantId: string, invoiceIds: readonly string[]) {
  return db
    .select({
      id: invoices.id,
      number: invoices.number,
      externalId: invoices.externalId,
      status: invoices.status,
      balanceMinor: invoices.balanceMinor,
      currency: invoices.currency,
    })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.id, [...invoiceIds])))
    .orderBy(invoices.id)
    .for('share');
}
