/**
 * "The ledger never drifts", red-teamed with QuickBooks shapes finance teams have that the other suites
 * (qbo-ledger-scenarios, qbo-journal-entries*) do not build: an invoice with a discount line, a payment that is later
 * deposited, a payment applying cash and a credit memo to one invoice (the memo deleted afterwards), and a customer
 * billed in another currency with credit and an unapplied payment. Through the real sync against the scripted company
 * (qbo-book.ts), invoice and customer balances must equal QuickBooks' to the cent after every step.
 *
 * Sources: the discount invoice has the shape of QuickBooks' own row (../shared/vendor/qbo/query-invoice.response.json,
 * invoice 49: a percent DiscountLineDetail under a SubTotalLineDetail, TotalAmt and Balance net of it; written here
 * with our own values, so the suite needs no vendor file); a
 * deposited payment carries the deposit as a top-level `LinkedTxn` of type Deposit, its lines unchanged
 * (query-payment.response.json, payment 116); cash and a credit memo applied in one payment are one Invoice line and
 * one CreditMemo line, TotalAmt the cash only (query-payment.response.json, payment 74: TotalAmt 0, Invoice 100,
 * CreditMemo 100). A foreign-currency customer's rows carry its CurrencyRef and amounts in that currency (Intuit's
 * multicurrency docs: "amounts are in the transaction currency"; ExchangeRate converts to the home currency).
 */
import { beforeAll, describe, it } from 'vitest';
import { customer, invoice, journalEntry, journalSuite, payment, ref } from './qbo-journal';

const START = Date.parse('2026-11-02T15:00:00.000Z');
/** An invoice of 1,005.00 of items less a 5 % discount line (50.25): TotalAmt and Balance 954.75, as QuickBooks nets it. */
const discounted = {
  ...invoice('49', '18', 954.75),
  DocNumber: '1015',
  CurrencyRef: { value: 'USD', name: 'United States Dollar' },
  Line: [
    {
      Id: '1',
      LineNum: 1,
      Description: 'Custom Design',
      Amount: 300,
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: { ItemRef: ref('4'), UnitPrice: 75, Qty: 4, TaxCodeRef: ref('NON') },
    },
    {
      Id: '2',
      LineNum: 2,
      Description: 'Installation',
      Amount: 705,
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: { ItemRef: ref('7'), UnitPrice: 47, Qty: 15, TaxCodeRef: ref('NON') },
    },
    { Amount: 1005, DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
    {
      Amount: 50.25,
      DetailType: 'DiscountLineDetail',
      DiscountLineDetail: { PercentBased: true, DiscountPercent: 5, DiscountAccountRef: ref('86') },
    },
  ],
  TxnTaxDetail: { TotalTax: 0 },
};

const suite = journalSuite('7801', START);
const { sync, expectNoDrift } = suite;

beforeAll(() => {
  const { book } = suite;
  book.put('Customer', customer('18', 'Paulsen Medical Supplies'));
  book.put('Invoice', discounted);
  book.put('Customer', customer('2', 'Bob'));
  book.put('Invoice', invoice('20', '2', 300));
  book.put('CreditMemo', {
    Id: '21',
    TxnDate: '2026-10-15',
    TotalAmt: 100,
    RemainingCredit: 100,
    Balance: 100,
    CustomerRef: ref('2'),
  });
  book.put('Customer', { ...customer('3', 'Gunter GmbH'), CurrencyRef: ref('EUR') });
  book.put('Invoice', {
    ...invoice('30', '3', 1234.56),
    CurrencyRef: ref('EUR'),
    ExchangeRate: 1.08,
  });
});

describe('QuickBooks shapes that must not drift', () => {
  it('full sync: a discount line leaves the invoice at its net balance', async () => {
    await sync();
    await expectNoDrift();
  });

  it('the discounted invoice partly paid, the payment then deposited (a top-level Deposit link)', async () => {
    const { book } = suite;
    book.tick();
    book.put('Payment', payment('40', '18', 400, [['Invoice', '49', 400]]));
    book.edit('Invoice', '49', { Balance: 554.75 });
    await sync();
    await expectNoDrift();
    book.tick();
    book.edit('Payment', '40', { LinkedTxn: [{ TxnId: '121', TxnType: 'Deposit' }] });
    await sync();
    await expectNoDrift();
  });

  it('cash and a credit memo applied to one invoice in one payment; the memo deleted afterwards', async () => {
    const { book } = suite;
    book.tick();
    book.put(
      'Payment',
      payment('41', '2', 150, [
        ['Invoice', '20', 250],
        ['CreditMemo', '21', 100],
      ]),
    );
    book.edit('Invoice', '20', { Balance: 50 });
    book.edit('CreditMemo', '21', { RemainingCredit: 0, Balance: 0 });
    await sync();
    await expectNoDrift();
    // QuickBooks unlinks a deleted memo from the payment: the invoice line keeps the cash, the invoice owes the
    // credit again.
    book.tick();
    book.remove('CreditMemo', '21');
    book.edit('Payment', '41', { Line: [{ Amount: 150, LinkedTxn: [{ TxnId: '20', TxnType: 'Invoice' }] }] });
    book.edit('Invoice', '20', { Balance: 150 });
    await sync();
    await expectNoDrift();
    await sync({ full: true });
    await expectNoDrift();
  });

  it('a customer in euros: part-payment, an unapplied payment and a credit memo, all in euros, to the cent', async () => {
    const { book } = suite;
    book.tick();
    const eur = { CurrencyRef: ref('EUR'), ExchangeRate: 1.09 };
    book.put('Payment', { ...payment('42', '3', 1000.01, [['Invoice', '30', 1000.01]]), ...eur });
    book.edit('Invoice', '30', { Balance: 234.55 });
    book.put('Payment', { ...payment('43', '3', 99.99, []), UnappliedAmt: 99.99, ...eur });
    book.put('CreditMemo', {
      Id: '31',
      TxnDate: '2026-11-01',
      TotalAmt: 12.34,
      RemainingCredit: 12.34,
      Balance: 12.34,
      CustomerRef: ref('3'),
      ...eur,
    });
    await sync();
    await expectNoDrift();
    await sync({ full: true });
    await expectNoDrift();
  });

  it('a journal entry in euros crediting the euro A/R account QuickBooks made, partly applied by a euro payment', async () => {
    const { book } = suite;
    book.tick();
    // A multicurrency company gets one A/R account per currency, of type Accounts Receivable.
    book.put('Account', {
      Id: '85',
      Name: 'Accounts Receivable (A/R) - EUR',
      AccountType: 'Accounts Receivable',
      CurrencyRef: ref('EUR'),
    });
    book.put('Account', { Id: '90', Name: 'Bad debts', AccountType: 'Expense' });
    book.put(
      'JournalEntry',
      journalEntry('50', [
        ['Credit', '85', 20.02, '3'],
        ['Debit', '90', 20.02],
      ]),
    );
    book.edit('JournalEntry', '50', { CurrencyRef: ref('EUR'), ExchangeRate: 1.09 });
    await sync();
    await expectNoDrift();
    book.tick();
    book.put('Payment', {
      ...payment('44', '3', 0, [
        ['Invoice', '30', 15.01],
        ['JournalEntry', '50', 15.01],
      ]),
      CurrencyRef: ref('EUR'),
      ExchangeRate: 1.09,
    });
    book.edit('Invoice', '30', { Balance: 219.54 });
    await sync();
    await expectNoDrift();
    await sync({ full: true });
    await expectNoDrift();
  });

  it('a credit memo partly refunded (its remaining credit drops by the refund), the rest applied to an invoice', async () => {
    const { book } = suite;
    book.tick();
    book.put('Invoice', invoice('22', '2', 70));
    book.put('CreditMemo', {
      Id: '23',
      TxnDate: '2026-11-02',
      TotalAmt: 100,
      RemainingCredit: 100,
      Balance: 100,
      CustomerRef: ref('2'),
    });
    await sync();
    await expectNoDrift();
    book.tick();
    // The RefundReceipt is not synced: QuickBooks' own RemainingCredit on the memo carries it.
    book.edit('CreditMemo', '23', { RemainingCredit: 60, Balance: 60 });
    await sync();
    await expectNoDrift();
    book.tick();
    book.put(
      'Payment',
      payment('45', '2', 0, [
        ['Invoice', '22', 60],
        ['CreditMemo', '23', 60],
      ]),
    );
    book.edit('Invoice', '22', { Balance: 10 });
    book.edit('CreditMemo', '23', { RemainingCredit: 0, Balance: 0 });
    await sync();
    await expectNoDrift();
  });
});

describe('a payment of a journal debit, and one applying a journal credit, found deleted by a full re-sync', () => {
  it('the listing that marks the payments deleted gives the debit and the credit back, to the cent', async () => {
    const { book } = suite;
    book.tick();
    book.put('Account', { Id: '84', Name: 'Accounts Receivable (A/R)', AccountType: 'Accounts Receivable' });
    book.put('Account', { Id: '31', Name: 'Opening Balance Equity', AccountType: 'Equity' });
    book.put('Customer', customer('6', 'Ines'));
    book.put('Invoice', invoice('60', '6', 90));
    // Ines' opening balance of 500 (a debit to A/R) and a write-off of 40 (a credit).
    book.put(
      'JournalEntry',
      journalEntry('61', [
        ['Debit', '84', 500, '6'],
        ['Credit', '31', 500],
      ]),
    );
    book.put(
      'JournalEntry',
      journalEntry('62', [
        ['Credit', '84', 40, '6'],
        ['Debit', '31', 40],
      ]),
    );
    book.put('Payment', { ...payment('63', '6', 200, [['JournalEntry', '61', 200]]), PrivateNote: null });
    book.put(
      'Payment',
      payment('64', '6', 0, [
        ['Invoice', '60', 40],
        ['JournalEntry', '62', 40],
      ]),
    );
    book.edit('Invoice', '60', { Balance: 50 });
    await sync();
    await expectNoDrift();
    // Both payments deleted while no change feed watched (a full re-sync, as after a cursor older than 30 days):
    // only the listing finds them missing. QuickBooks puts the invoice's 40 back when its payment goes.
    book.tick();
    book.remove('Payment', '63');
    book.remove('Payment', '64');
    book.edit('Invoice', '60', { Balance: 90 });
    await sync({ full: true });
    await expectNoDrift();
  });
});
