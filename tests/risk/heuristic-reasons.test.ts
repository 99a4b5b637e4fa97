/**
 * A tenant scoring with the customer-history rule of thumb (manifest `scoring: 'heuristic'`) gets reasons worded
 * from the rule's own inputs (late rate, median days to pay, with numbers), not from the model's coefficients.
 */
import { describe, expect, it } from 'vitest';
import { dayOfInstant, isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';
import { scoreInvoices } from '../../src/risk/score';
import { ModelRegistry } from '../../src/risk/model-registry';

/** The shipped default model, loaded once for this file (the process's registry, as the root builds it). */
const shipped = new ModelRegistry();
const defaultModel = () => shipped.default();

const asOf = new Date('2024-03-01T00:00:00Z');
const today = dayOfInstant(asOf);

function invoice(customerId: string, id: string, issue: number, paid: number | null): LedgerInvoice {
  return {
    customerId,
    invoiceId: id,
    invoiceDate: isoFromDay(issue),
    dueDate: isoFromDay(issue + 30),
    currency: 'USD',
    amountMinor: 100_000,
    paidDate: paid === null ? null : isoFromDay(paid),
    delivery: 'email',
    country: null,
  };
}

describe('reasons under the heuristic fallback', () => {
  it('name the late rate and the median days to pay the rule used; a new customer gets the all-customer figures', async () => {
    const base = await defaultModel();
    const model = { ...base, manifest: { ...base.manifest, scoring: 'heuristic' as const } };
    const rows: LedgerInvoice[] = [];
    // Ten paid invoices, alternately 25 days (on time) and 45 days (15 days late) after issue; the last six: 3 late.
    for (let k = 0; k < 10; k++) {
      const issue = today - 400 + k * 30;
      rows.push(invoice('HABIT', `h${k}`, issue, issue + (k % 2 === 0 ? 25 : 45)));
    }
    rows.push(invoice('HABIT', 'open-due', today - 10, null));
    rows.push(invoice('HABIT', 'open-late', today - 50, null));
    rows.push(invoice('NEWBIE', 'n1', today - 5, null));
    const scores = await scoreInvoices(model, rows, ['open-due', 'open-late', 'n1'], asOf);
    const by = new Map(scores.map((s) => [s.invoiceId, s]));
    const due = by.get('open-due')!;
    // The rule's P(late) is the smoothed late rate: 5 of 10 late, shrunk toward the prior.
    const pct = `${Math.round(due.pLate * 100)}%`;
    expect(due.reasons).toEqual([
      `${pct} chance of paying late from its history (3 of the last 6 paid late; 10 paid invoices in all)`,
      'usually pays 35 days after the invoice date (median of the last 6 invoices; 30 days terms on this one)',
    ]);
    const late = by.get('open-late')!;
    expect(late.reasons[0]).toBe('already 20 days past due');
    expect(late.reasons).toHaveLength(3);
    const fresh = by.get('n1')!;
    const { lateRate, daysToPay } = base.manifest.priors;
    expect(fresh.reasons).toEqual([
      `new customer: no payment history yet, so the all-customer figures are used (${Math.round(lateRate * 100)}% of invoices paid late, paid ${Math.round(daysToPay)} days after the invoice date on average)`,
    ]);
    // None of the model's logistic wording.
    for (const s of scores) for (const r of s.reasons) expect(r).not.toMatch(/period|usual amount|sent by/);
  });
});
