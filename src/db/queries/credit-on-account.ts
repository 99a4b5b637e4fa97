/**
 * Credit on account: the one definition the dashboard (its "unapplied credit" figure) and dunning (planning, the
 * send-time re-check) both read. Payments' unapplied amounts plus what remains of credit memos, active rows only,
 * dated on or before the as-of day (a post-dated credit memo is not credit yet), per customer and currency: minor
 * units of different currencies are never added. A row with nothing left (or a negative amount) is not credit.
 */
import { and, eq, isNull, sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../client';
import { customers } from '../schema';
import { uuidArray } from '../sql-arrays';

export interface CreditScope {
  tenantId: string;
  /** The as-of day, YYYY-MM-DD: the tenant's calendar day of the clock. */
  asOf: string;
  /** One customer's only. */
  customerId?: string;
  /** These customers' only (the send path's re-check: a payer and the jobs billed with it). */
  customerIds?: readonly string[];
  /** One currency's only (the dashboard). */
  currency?: string;
}

export interface CreditOnAccount {
  customerId: string;
  currency: string;
  creditMinor: number;
}

/** Each customer's credit on account per currency as of `asOf` (rows with credit only). */
export async function creditOnAccount(db: DbOrTx, s: CreditScope): Promise<CreditOnAccount[]> {
  const filters = (t: 'payments' | 'credit_memos') => sql`
    tenant_id = ${s.tenantId}::uuid and status = 'active' and date <= ${s.asOf}::date
    ${s.customerId === undefined ? sql`` : sql`and customer_id = ${s.customerId}::uuid`}
    ${s.customerIds === undefined ? sql`` : sql`and customer_id = any(${uuidArray(s.customerIds)})`}
    ${s.currency === undefined ? sql`` : sql`and currency = ${s.currency}`}
    and ${t === 'payments' ? sql`unapplied_minor` : sql`remaining_minor`} > 0`;
  const rows = rowsOf<{ customer_id: string; currency: string; minor: string | number }>(
    await db.execute(sql`
      select customer_id, currency, sum(minor) as minor from (
        select customer_id, currency, unapplied_minor as minor from payments where ${filters('payments')}
        union all
        select customer_id, currency, remaining_minor as minor from credit_memos where ${filters('credit_memos')}
      ) c
      group by customer_id, currency
      order by customer_id, currency`),
  );
  return rows.map((r) => ({ customerId: r.customer_id, currency: r.currency, creditMinor: Number(r.minor) }));
}

/** The tenant's credit on account in one currency as of `asOf`, all customers together (the dashboard's figure). */
export async function creditOnAccountTotal(
  db: DbOrTx,
  s: CreditScope & { currency: string },
): Promise<number> {
  return (await creditOnAccount(db, s)).reduce((sum, r) => sum + r.creditMinor, 0);
}

/**
 * Per job billed with its parent (customers.bill_with_parent), the customer who pays it: the parent, or up the chain
 * while each is billed with its own parent (resolved by external id, live customers only, as reminders resolve it:
 * dunning/planner-input.ts billedThrough). Its credit on account is the payer's to use, and the payer's covers it.
 */
export async function payersOfJobs(db: DbOrTx, tenantId: string): Promise<Map<string, string>> {
  const rows = await db
    .select({
      id: customers.id,
      externalId: customers.externalId,
      parent: customers.parentExternalId,
      billWithParent: customers.billWithParent,
    })
    .from(customers)
    .where(and(eq(customers.tenantId, tenantId), isNull(customers.deletedAt)));
  const byExternal = new Map(rows.map((c) => [c.externalId, c]));
  const out = new Map<string, string>();
  for (const c of rows) {
    if (!c.billWithParent || !c.parent) continue;
    let payer = byExternal.get(c.parent);
    const seen = new Set([c.id]);
    while (payer?.billWithParent && payer.parent && !seen.has(payer.id)) {
      const up = byExternal.get(payer.parent);
      if (!up || seen.has(up.id)) break;
      seen.add(payer.id);
      payer = up;
    }
    if (payer && payer.id !== c.id) out.set(c.id, payer.id);
  }
  return out;
}
