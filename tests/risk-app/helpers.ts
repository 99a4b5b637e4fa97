import type { LedgerInvoice } from '../../src/risk/ledger';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { HEADER } from '../helpers/csv';

/** A synthetic ledger as canonical CSV, so tests go through the same import path as users. */
export function ledgerCsv(rows: readonly LedgerInvoice[]): string {
  const money = (m: number) => (m / 100).toFixed(2);
  return `${HEADER}\n${rows
    .map((r) =>
      [
        r.customerId,
        r.invoiceId,
        r.invoiceDate,
        r.dueDate,
        money(r.amountMinor),
        r.currency,
        r.paidDate ?? '',
        r.delivery ?? '',
        r.country ?? '',
      ].join(','),
    )
    .join('\n')}\n`;
}

export function synthetic(customers: number, perCustomer: number, snapshot: string) {
  return syntheticLedger({
    customers,
    invoicesPerCustomer: perCustomer,
    seed: 11,
    start: '2012-06-01',
    days: 360,
    snapshot,
  });
}
