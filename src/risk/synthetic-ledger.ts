/**
 * Deterministic synthetic ledgers for tests, benchmarks and demos: each customer has a habitual delay, a
 * drift, a delivery method and an amount scale; larger-than-usual invoices are paid a little later.
 */
import { dayNumber, isoFromDay, type LedgerInvoice } from './ledger';
import { createRng } from './rng';

export interface SyntheticOptions {
  customers: number;
  invoicesPerCustomer: number;
  seed: number;
  /** First issue day (YYYY-MM-DD) and span of issue days. */
  start?: string;
  days?: number;
  /** Payments dated on or after this day are not in the ledger (the invoice is open). Default: end of span + 60. */
  snapshot?: string;
  /** Invoice ids are `${idPrefix}${sequence}`, so several ledgers can be combined (default 'INV'). */
  idPrefix?: string;
  /** Share of customers whose invoices, now and then, are never paid (bad debt). Default 0. */
  badDebtShare?: number;
}

export function syntheticLedger(o: SyntheticOptions): LedgerInvoice[] {
  const rng = createRng(o.seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const start = dayNumber(o.start ?? '2021-01-01');
  const days = o.days ?? 540;
  const snapshot = o.snapshot ? dayNumber(o.snapshot) : start + days + 60;
  const out: LedgerInvoice[] = [];
  let seq = 0;
  for (let c = 0; c < o.customers; c++) {
    const habit = -4 + 8 * normal();
    const drift = rng() < 0.2 ? 10 * normal() : 0;
    const delivery = rng() < 0.5 ? 'email' : 'print';
    const scale = Math.exp(4 + normal());
    const terms = [14, 30, 30, 30, 60][Math.floor(rng() * 5)]!;
    // Drawn only when asked for, so ledgers without bad debt keep their exact random sequence.
    const badDebt = o.badDebtShare ? rng() < o.badDebtShare : false;
    for (let k = 0; k < o.invoicesPerCustomer; k++) {
      const issue = start + Math.floor(rng() * days);
      const rel = Math.exp(0.5 * normal());
      const delay = habit + (drift * (issue - start)) / days + 4 * Math.log(rel) + 4 * normal();
      const never = badDebt && rng() < 0.5;
      const paid = never ? Number.POSITIVE_INFINITY : issue + Math.max(0, Math.round(terms + delay));
      out.push({
        customerId: `C${String(c).padStart(5, '0')}`,
        invoiceId: `${o.idPrefix ?? 'INV'}${String(seq++).padStart(7, '0')}`,
        invoiceDate: isoFromDay(issue),
        dueDate: isoFromDay(issue + terms),
        currency: 'USD',
        amountMinor: Math.round(scale * rel * 100),
        paidDate: paid < snapshot ? isoFromDay(paid) : null,
        delivery,
        country: null,
      });
    }
  }
  return out;
}
