/**
 * The risk benchmarks' workload (bench/risk.ts, bench/risk-js-cpu.ts): the synthetic training ledger and, scored
 * as of 2023-09-01, 300,000 settled invoices of 5,000 customers plus 20 more per customer issued in the last 60 days
 * and still unpaid (100,000 open invoices scored in one call).
 */
import { dayNumber, instantFromDay, type LedgerInvoice } from '../src/risk/ledger';
import { syntheticLedger } from '../src/risk/synthetic-ledger';

/** 100,000 invoices of 2,500 customers over 540 days, and the training cutoff. */
export function riskTrainingSet() {
  const rows = syntheticLedger({
    customers: 2_500,
    invoicesPerCustomer: 40,
    seed: 11,
    start: '2021-01-01',
    days: 540,
  });
  return { rows, cutoff: instantFromDay(dayNumber('2021-01-01') + 600) };
}

/** The scoring workload: the whole history and the ids of the 100,000 open invoices, as of `asOf`. */
export function riskScoringSet(): { asOf: string; history: LedgerInvoice[]; ids: string[] } {
  const asOf = '2023-09-01';
  const settled = syntheticLedger({
    customers: 5_000,
    invoicesPerCustomer: 60,
    seed: 12,
    start: '2022-01-01',
    days: 540,
    snapshot: asOf,
  });
  const open = syntheticLedger({
    customers: 5_000,
    invoicesPerCustomer: 20,
    seed: 13,
    start: '2023-07-03',
    days: 60,
    snapshot: '2023-07-03',
    idPrefix: 'OPEN',
  });
  return { asOf, history: [...settled, ...open], ids: open.map((r) => r.invoiceId) };
}
