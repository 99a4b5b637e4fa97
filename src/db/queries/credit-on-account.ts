/**
 * Credit on account: the one definition the dashboard (its "unapplied credit" figure) and dunning (planning, the
 * send-time re-check) both read. Payments' unapplied amounts plus what remains of credit memos, active rows only,
 * dated on or before the as-of day (a post-dated credit memo is not credit yet), per customer and currency: minor
 * units of different currencies are never added. A row with nothing left (or a negative amount) is not credit.
 */
import { sql } from 'drizzle-orm';
import { type DbOrTx, rowsOf } from '../client';
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
