/**
 * The planner's statements (dunning/engine.ts, planner-input.ts, dunning-config.ts, go-live.ts, step-preview.ts):
 * what it reads to plan and what it writes. engine.ts owns the transaction and takes the plan lock first.
 */
import { and, desc, eq, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../client';
import { customers, dunningPolicies, invoices } from '../schema';

/** The tenant's latest stored dunning policy version, or null (the defaults apply). */
export async function latestDunningPolicy(db: DbOrTx, tenantId: string) {
  const [row] = await db
    .select()
    .from(dunningPolicies)
    .where(eq(dunningPolicies.tenantId, tenantId))
    .orderBy(desc(dunningPolicies.version))
    .limit(1);
  return row ?? null;
}

/** Reminders planned (sending off) and awaiting approval. */
export async function reminderCounts(db: DbOrTx, tenantId: string) {
  const [counts] = rowsOf<{ planned: number; awaiting: number }>(
    await db.execute(sql`
      select count(*) filter (where status = 'planned')::int as planned,
             count(*) filter (where status = 'awaiting_approval')::int as awaiting
      from dunning_messages where tenant_id = ${tenantId}::uuid and kind = 'reminder'`),
  );
  return counts;
}

/** Open invoices with a balance due by `horizon` (a date) that have no pay link. */
export async function openInvoicesWithoutPayLink(db: DbOrTx, tenantId: string, horizon: string) {
  const [links] = rowsOf<{ without: number }>(
    await db.execute(sql`
      select count(*)::int as without from invoices
      where tenant_id = ${tenantId}::uuid and status = 'open' and balance_minor > 0
        and due_date <= ${horizon}::date and coalesce(pay_link, '') = ''`),
  );
  return links;
}

/** An invoice of the tenant with its customer, or null. */
export async function invoiceWithCustomer(db: DbOrTx, tenantId: string, invoiceId: string) {
  const [row] = await db
    .select({ invoice: invoices, customer: customers })
    .from(invoices)
    .innerJoin(customers, eq(customers.id, invoices.customerId))
    .where(and(eq(invoices.id, invoiceId), eq(invoices.tenantId, tenantId)));
  return row ?? null;
}
