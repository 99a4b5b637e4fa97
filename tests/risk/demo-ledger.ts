/**
 * The demo company (the generated QuickBooks sandbox company `duely demo` and "Try the demo company" sync) as the
 * ledger the risk module reads: one row per invoice that is neither voided nor deleted, paid on the day of the
 * payment that cleared it, open otherwise (a partly paid invoice never finished stays open at its full amount,
 * as the model sees it). The same seed and size as the product's demo.
 */
import { Company } from '../../sandboxes/quickbooks/company';
import { DEMO_SEED } from '../../src/demo-company';
import { isoFromDay, type LedgerInvoice } from '../../src/risk/ledger';

export interface DemoLedger {
  rows: LedgerInvoice[];
  /** Open balance per invoice id (minor units), for AR shares. */
  balance: Map<string, number>;
}

export function demoLedger(now: Date, size = { customers: 150, invoices: 5000 }): DemoLedger {
  const company = new Company({ seed: DEMO_SEED, now, ...size });
  const rows: LedgerInvoice[] = [];
  const balance = new Map<string, number>();
  for (const inv of company.invoices.values()) {
    if (inv.voided || inv.deleted) continue;
    const customer = company.customers.get(inv.customerId)!;
    const payDays = inv.paymentIds
      .map((id) => company.payments.get(id)?.txnDay)
      .filter((d): d is number => d !== undefined);
    const paid = inv.balanceMinor <= 0 && payDays.length > 0;
    rows.push({
      customerId: `C${inv.customerId}`,
      invoiceId: `I${inv.id}`,
      invoiceDate: isoFromDay(inv.txnDay),
      dueDate: isoFromDay(inv.dueDay),
      currency: 'USD',
      amountMinor: inv.totalMinor,
      paidDate: paid ? isoFromDay(Math.max(...payDays)) : null,
      delivery: inv.emailed ? 'email' : 'print',
      country: customer.country,
    });
    if (!paid) balance.set(`I${inv.id}`, inv.balanceMinor);
  }
  return { rows, balance };
}
