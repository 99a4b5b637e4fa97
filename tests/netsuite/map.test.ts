import { describe, expect, it } from 'vitest';
import {
  amountToMinor,
  CustomerRow,
  clockMinus,
  clockToInstant,
  mapApplications,
  mapCreditMemo,
  mapCustomer,
  mapDeletion,
  mapInvoice,
  mapJournalDeletion,
  mapJournalEntry,
  mapPayment,
  TransactionRow,
} from '../../connectors/netsuite/map';
import { transactionsQuery } from '../../connectors/netsuite/queries';
import { creditMemoRow, customerRow, invoiceRow, paymentRow } from './rows';

describe('NetSuite money', () => {
  it('parses decimal strings exactly into minor units per currency precision', () => {
    expect(amountToMinor('120.00', 'USD')).toBe(12000);
    expect(amountToMinor('0.1', 'USD')).toBe(10);
    expect(amountToMinor('.07', 'USD')).toBe(7);
    expect(amountToMinor('-.5', 'EUR')).toBe(-50);
    expect(amountToMinor('1234567.89', 'CAD')).toBe(123456789);
    expect(amountToMinor('15000', 'JPY')).toBe(15000);
    expect(amountToMinor('15000.00', 'JPY')).toBe(15000);
    expect(amountToMinor('1.005', 'BHD')).toBe(1005);
    // 0.1 + 0.2 style float traps do not exist on this path.
    expect(amountToMinor('1.15', 'USD')).toBe(115);
    expect(amountToMinor('4.35', 'USD')).toBe(435);
  });

  it('refuses amounts the currency cannot hold (no silent rounding)', () => {
    expect(() => amountToMinor('15000.5', 'JPY')).toThrow(expect.objectContaining({ code: 'bad_payload' }));
    expect(() => amountToMinor('1.001', 'USD')).toThrow(/not an exact USD amount/);
    expect(() => amountToMinor('1e3', 'USD')).toThrow();
  });

  it('does account-clock arithmetic in wall time', () => {
    expect(clockToInstant('2026-04-15 09:30:00')).toBe('2026-04-15T09:30:00Z');
    expect(clockMinus('2026-04-15 00:30:00', 65)).toBe('2026-04-14 23:25:00');
  });
});

describe('NetSuite mappers', () => {
  it('maps a customer; a person is named by first and last name', () => {
    expect(mapCustomer(customerRow('7', { email: 'a@x.com; b@x.com' }))).toEqual({
      externalId: '7',
      name: 'Company 7',
      emails: ['a@x.com', 'b@x.com'],
      currency: 'USD',
      sourceUpdatedAt: '2026-04-15T09:30:00Z',
    });
    const person = mapCustomer({
      id: '8',
      isperson: 'T',
      firstname: 'Ada',
      lastname: 'Lovelace',
      entityid: 'X',
    });
    expect(person).toMatchObject({ name: 'Ada Lovelace', emails: [], currency: null });
  });

  it('a customer name longer than any NetSuite field is cut to 200 characters (whole code points), not a sync stopped by the database', () => {
    // The customers' name index (lower(name)) refuses a value over ~2.7 kB on Postgres (8 kB on PGlite): one such row
    // failed every page it was on with "index row requires … bytes" and no record named.
    const huge = '株式会社😀'.repeat(2000);
    const { name } = mapCustomer(customerRow('7', { companyname: huge }));
    expect([...name].length).toBe(200);
    expect(name.endsWith('…')).toBe(true);
    expect(huge.startsWith(name.slice(0, -1))).toBe(true);
    expect(Buffer.byteLength(name)).toBeLessThan(1000);
    expect(mapCustomer(customerRow('7', { companyname: 'x'.repeat(200) })).name).toBe('x'.repeat(200));
  });

  it('maps an open invoice from foreigntotal / foreignamountunpaid in the transaction currency', () => {
    expect(mapInvoice(invoiceRow('5001'))).toEqual({
      externalId: '5001',
      customerExternalId: '100',
      number: 'INV5001',
      issueDate: '2026-04-01',
      dueDate: '2026-05-01',
      currency: 'USD',
      totalMinor: 12000,
      balanceMinor: 4500,
      status: 'open',
      paidDate: null,
      payLink: null,
      billEmail: 'ap@example.com',
      sourceUpdatedAt: '2026-04-10T09:12:00Z',
    });
  });

  it("keeps every address of an invoice's email that names several", () => {
    expect(
      mapInvoice(invoiceRow('5002', { email: 'ap@example.com; Controller@example.com' })).billEmail,
    ).toBe('ap@example.com, Controller@example.com');
  });

  it('a JPY invoice of a USD subsidiary keeps JPY and 0 decimals', () => {
    const inv = mapInvoice(
      invoiceRow('9', { currency: 'JPY', foreigntotal: '150000', foreignamountunpaid: '45000' }),
    );
    expect(inv).toMatchObject({ currency: 'JPY', totalMinor: 150000, balanceMinor: 45000 });
  });

  it('paid, voided and malformed invoices', () => {
    expect(mapInvoice(invoiceRow('1', { foreignamountunpaid: '0', closedate: '2026-04-20' }))).toMatchObject({
      status: 'paid',
      balanceMinor: 0,
      paidDate: '2026-04-20',
    });
    expect(
      mapInvoice(invoiceRow('2', { voided: 'T', foreigntotal: '0', foreignamountunpaid: '0' })),
    ).toMatchObject({
      status: 'void',
      balanceMinor: 0,
    });
    // A missing due date falls back to the transaction date.
    const { duedate: _, ...noDue } = invoiceRow('3');
    expect(mapInvoice(noDue).dueDate).toBe('2026-04-01');
    expect(() => mapInvoice(invoiceRow('4', { foreignamountunpaid: '130.00' }))).toThrow(/outside/);
    expect(() => mapInvoice(invoiceRow('5', { foreigntotal: '12,00' }))).toThrow(
      expect.objectContaining({ code: 'bad_payload' }),
    );
    expect(() => mapInvoice(paymentRow('6'))).toThrow(/not CustInvc/);
    expect(() => mapInvoice(invoiceRow('7', { trandate: '4/1/2026' }))).toThrow(
      expect.objectContaining({ code: 'bad_payload' }),
    );
  });

  it('a missing amount unpaid is zero only on a voided or closed record; on an open one it is an error naming it', () => {
    // SuiteQL omits NULL columns: a missing foreignamountunpaid says "no value", not "nothing owed". Read as 0, an
    // open invoice was marked paid, dropped out of A/R and was no longer chased.
    const open = (id: string, extra: Record<string, string> = {}) => {
      const { foreignamountunpaid: _, ...row } = invoiceRow(id, extra);
      return row;
    };
    for (const row of [open('1'), open('2', { status: 'A' }), open('3', { closedate: '2026-04-20' })]) {
      const err = thrown<{ code: string; userMessage: string }>(() => mapInvoice(row));
      expect(err.code).toBe('bad_payload');
      expect(err.userMessage).toMatch(new RegExp(`invoice INV${row.id} \\(internal id ${row.id}\\)`));
      expect(err.userMessage).toMatch(/amount unpaid/);
    }
    // Paid In Full (B) or voided: nothing is owed, whatever the column says.
    expect(mapInvoice(open('4', { status: 'B', closedate: '2026-04-20' }))).toMatchObject({
      status: 'paid',
      balanceMinor: 0,
      paidDate: '2026-04-20',
    });
    expect(mapInvoice(open('5', { voided: 'T', status: 'V' }))).toMatchObject({
      status: 'void',
      balanceMinor: 0,
    });
    // Rejected (D) or Pending Approval (E): not posted, nothing receivable, with or without the column (which may
    // print the total): void, never open.
    for (const status of ['D', 'E']) {
      expect(mapInvoice(open('9', { status }))).toMatchObject({
        status: 'void',
        balanceMinor: 0,
        paidDate: null,
      });
      expect(mapInvoice(invoiceRow('9', { status, foreignamountunpaid: '120.00' }))).toMatchObject({
        status: 'void',
        balanceMinor: 0,
        totalMinor: 12000,
      });
    }
    // Credit memos likewise: Fully Applied (B) or voided is 0 left; an open one without the column is an error.
    const memo = (id: string, extra: Record<string, string> = {}) => {
      const { foreignamountunpaid: _, ...row } = creditMemoRow(id, extra);
      return row;
    };
    expect(mapCreditMemo(memo('6', { status: 'B' })).remainingMinor).toBe(0);
    expect(mapCreditMemo(memo('7', { voided: 'T' })).remainingMinor).toBe(0);
    const err = thrown<{ code: string; userMessage: string }>(() => mapCreditMemo(memo('8')));
    expect(err.code).toBe('bad_payload');
    expect(err.userMessage).toMatch(/credit memo CM8 \(internal id 8\)/);
    expect(err.userMessage).toMatch(/amount unpaid|credit remaining/);
  });

  it('a date or time that is not on the calendar is a bad record, not a database error that stops the sync', () => {
    const cases: Record<string, string>[] = [
      { trandate: '2026-02-30' },
      { duedate: '2026-13-01' },
      { closedate: '2026-04-31' },
      { lastmodified: '2026-04-15 25:61:00' },
      // Year 0 has the right shape and a leap-year February, but Postgres has no year 0: the database refused the
      // whole page ("date/time field value out of range") naming no record, at every poll.
      { trandate: '0000-01-01' },
      { duedate: '0000-02-29' },
    ];
    for (const bad of cases) {
      expect(() => mapInvoice(invoiceRow('8', bad)), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: 'bad_payload' }),
      );
    }
    expect(() => mapCustomer(customerRow('9', { lastmodified: '2026-02-29 08:00:00' }))).toThrow(
      expect.objectContaining({ code: 'bad_payload' }),
    );
    expect(mapInvoice(invoiceRow('10', { trandate: '2028-02-29' })).issueDate).toBe('2028-02-29');
  });

  /** The error `read` throws (the test fails if it returns). */
  const thrown = <E>(read: () => unknown): E => {
    try {
      read();
    } catch (e) {
      return e as E;
    }
    throw new Error('no error');
  };

  it("a bad record's message tells the admin which record in NetSuite and what to do", () => {
    const err = thrown<{ code: string; userMessage: string }>(() =>
      mapInvoice(invoiceRow('4', { tranid: 'INV-4', foreignamountunpaid: '130.00' })),
    );
    expect(err.code).toBe('bad_payload');
    expect(err.userMessage).toMatch(/invoice INV-4 \(internal id 4\)/);
    expect(err.userMessage).toMatch(/outside/);
    expect(err.userMessage).toMatch(/correct it in NetSuite/i);
    const customer = thrown<{ userMessage: string }>(() =>
      mapCustomer(customerRow('77', { isinactive: 'maybe' })),
    );
    expect(customer.userMessage).toMatch(/customer .*internal id 77/);
    // A hostile value is not echoed at length.
    const long = thrown<{ userMessage: string }>(() =>
      mapInvoice(invoiceRow('5', { tranid: 'X'.repeat(10_000), foreigntotal: `1${'0'.repeat(5000)}.001` })),
    );
    expect(long.userMessage.length).toBeLessThan(800);
  });

  it('maps a payment with its applications and unapplied part', () => {
    const apps = mapApplications(
      [
        { payment: '6001', invoice: '5001', foreignamount: '75.00' },
        { payment: '6001', invoice: '5002', foreignamount: '100.00' },
        { payment: '6001', invoice: '5002', foreignamount: '20.00' },
        { payment: '6002', invoice: '5003', foreignamount: '-1.00' },
      ],
      () => 'USD',
    );
    expect(mapPayment(paymentRow('6001'), apps.get('6001'))).toEqual({
      externalId: '6001',
      customerExternalId: '100',
      date: '2026-04-15',
      currency: 'USD',
      amountMinor: 20000,
      unappliedMinor: 500,
      status: 'active',
      allocations: [
        { invoiceExternalId: '5001', amountMinor: 7500 },
        { invoiceExternalId: '5002', amountMinor: 12000 },
      ],
      sourceUpdatedAt: '2026-04-15T18:20:00Z',
    });
    expect(apps.get('6002')).toEqual([{ invoiceExternalId: '5003', amountMinor: 100 }]);
    expect(mapPayment(paymentRow('6003', { voided: 'T' }), apps.get('6001'))).toMatchObject({
      status: 'void',
      allocations: [],
      unappliedMinor: 0,
    });
  });

  it('maps a credit memo (NetSuite signs credits negative) with what is left to apply', () => {
    expect(mapCreditMemo(creditMemoRow('7001'))).toMatchObject({
      externalId: '7001',
      totalMinor: 3000,
      remainingMinor: 1000,
      status: 'active',
    });
  });

  it('maps DeletedRecord rows of the kinds we sync and ignores the rest', () => {
    expect(
      mapDeletion({ recordid: '5001', recordtypeid: 'invoice', deleteddate: '2026-04-16 10:00:00' }),
    ).toEqual({
      kind: 'invoices',
      deletion: { externalId: '5001', sourceUpdatedAt: '2026-04-16T10:00:00Z' },
    });
    expect(mapDeletion({ recordid: '6001', type: 'Customer Payment' })?.kind).toBe('payments');
    expect(mapDeletion({ recordid: '7001', recordtypeid: 'creditmemo' })?.kind).toBe('creditMemos');
    expect(mapDeletion({ recordid: '1', recordtypeid: 'customer' })?.kind).toBe('customers');
    expect(mapDeletion({ recordid: '9', recordtypeid: 'salesorder' })).toBeNull();
  });
});

describe('NetSuite pay link (NETSUITE_PAY_LINK_FIELD)', () => {
  it('maps the selected custom body field to the invoice pay link', () => {
    const url = 'https://pay.example.com/netsuite/inv/5001?t=ab_c';
    expect(mapInvoice(invoiceRow('5001', { paylink: url })).payLink).toBe(url);
    expect(mapInvoice(invoiceRow('5001', { paylink: `  ${url} ` })).payLink).toBe(url);
  });

  it('keeps only https URLs: http, other schemes, junk and an absent column give null', () => {
    for (const paylink of [
      'http://pay.example.com/inv/1',
      'javascript:alert(1)',
      'pay.example.com/inv/1',
      'see the portal',
      '',
    ]) {
      expect(mapInvoice(invoiceRow('1', { paylink })).payLink).toBeNull();
    }
    expect(mapInvoice(invoiceRow('1')).payLink).toBeNull();
  });

  it('selects the field as paylink with invoices only when set', () => {
    const filter = { afterId: null, ids: ['5001'] };
    const plain = transactionsQuery(['invoices'], filter);
    expect(plain).not.toMatch(/paylink|custbody/i);
    expect(transactionsQuery(['invoices'], filter, {})).toBe(plain);
    const withLink = transactionsQuery(['invoices'], filter, { payLinkField: 'custbody_duely_paylink' });
    expect(withLink).toContain('t.custbody_duely_paylink AS paylink');
    expect(withLink.replace('t.custbody_duely_paylink AS paylink, ', '')).toBe(plain);
    // Payments and credit memos have no pay link: the column is not selected for them.
    expect(transactionsQuery(['payments'], filter, { payLinkField: 'custbody_duely_paylink' })).not.toMatch(
      /paylink/,
    );
  });

  it('refuses a field id that is not a plain custom body field (it is interpolated into SuiteQL)', () => {
    for (const payLinkField of ['custbody_x, t.foreigntotal', 'custbody_x--', 'email', 'CUSTBODY_X']) {
      expect(() => transactionsQuery(['invoices'], { afterId: null }, { payLinkField })).toThrow(
        /custom body field/,
      );
    }
  });
});

describe('NetSuite row checks', () => {
  // The mappers check well-formed rows without zod; every row the schema refuses must still be refused (with the
  // schema's wording), every row it accepts mapped the same way.
  const garbage = [
    '',
    'x',
    '12a',
    '2026-4-1',
    '2026-02-30',
    '2026-04-15 24:00:00',
    '1.2.3',
    'T ',
    ' usd ',
    'XXX',
    '-',
    '2026-04-15 9:30:00',
  ];
  it('a transaction row is refused exactly when the schema refuses it', () => {
    const base = invoiceRow('5001');
    for (const key of Object.keys(base))
      for (const value of garbage) {
        const raw = { ...base, [key]: value };
        const ok = TransactionRow.safeParse(raw).success;
        if (ok)
          expect(() => mapInvoice(raw), `${key}=${JSON.stringify(value)}`).not.toThrow(
            /NetSuite transaction/,
          );
        else expect(() => mapInvoice(raw), `${key}=${JSON.stringify(value)}`).toThrow(/NetSuite transaction/);
      }
    expect(mapInvoice({ ...base, currency: ' usd ' }).currency).toBe('USD');
  });

  it('a customer row is refused exactly when the schema refuses it', () => {
    const base = customerRow('7');
    for (const key of Object.keys(base))
      for (const value of garbage) {
        const raw = { ...base, [key]: value };
        const ok = CustomerRow.safeParse(raw).success;
        if (ok) expect(() => mapCustomer(raw), `${key}=${JSON.stringify(value)}`).not.toThrow();
        else expect(() => mapCustomer(raw), `${key}=${JSON.stringify(value)}`).toThrow(/NetSuite customer/);
      }
    expect(mapCustomer({ ...base, currency: 'eur' }).currency).toBe('EUR');
  });
});

describe('NetSuite journal entries to A/R', () => {
  const entry = (over: Record<string, string> = {}) => ({
    id: '900',
    type: 'Journal',
    tranid: 'JE900',
    trandate: '2026-04-10',
    currency: 'USD',
    voided: 'F',
    lastmodified: '2026-04-10 09:00:00',
    ...over,
  });
  const debit = (line: string, entity: string, amount: string, unpaid: string) => ({
    entry: '900',
    line,
    entity,
    debitforeignamount: amount,
    foreignamountunpaid: unpaid,
  });
  const credit = (line: string, entity: string, amount: string, unused: string) => ({
    entry: '900',
    line,
    entity,
    creditforeignamount: amount,
    foreignpaymentamountunused: unused,
  });

  it('nets each customer’s A/R lines into one row with NetSuite’s remaining; a line repeated per book counts once', () => {
    const lines = [
      debit('1', '10', '500.00', '300.00'),
      debit('1', '10', '500.00', '300.00'), // the same line again, under a second accounting book
      credit('2', '10', '20.00', '20.00'),
      credit('3', '11', '75.50', '0'),
      { entry: '900', line: '4', creditforeignamount: '1.00', foreignpaymentamountunused: '1.00' }, // no customer
    ];
    const { read, credits } = mapJournalEntry(entry(), lines);
    expect(read).toEqual({ externalId: '900', sourceUpdatedAt: '2026-04-10T09:00:00Z' });
    expect(credits.map((c) => [c.externalId, c.customerExternalId, c.totalMinor, c.remainingMinor])).toEqual([
      ['JE:900:10', '10', -48_000, -28_000],
      ['JE:900:11', '11', 7_550, 0],
    ]);
    expect(credits[0]?.journalEntry).toEqual({ externalId: '900', number: 'JE900', remainingAtSource: true });
  });

  it('amounts in the entry’s currency (yen has no minor unit); signs of the open columns are not trusted', () => {
    const { credits } = mapJournalEntry(entry({ currency: 'JPY' }), [credit('1', '12', '-7000', '-7000')]);
    expect(credits.map((c) => [c.currency, c.totalMinor, c.remainingMinor])).toEqual([['JPY', 7000, 7000]]);
  });

  it('a voided entry leaves nothing; a missing remaining on a live A/R line stops the sync, named', () => {
    expect(mapJournalEntry(entry({ voided: 'T' }), [debit('1', '10', '5.00', '5.00')]).credits).toEqual([]);
    const line = { entry: '900', line: '1', entity: '10', debitforeignamount: '5.00' };
    expect(() => mapJournalEntry(entry(), [line])).toThrow(
      expect.objectContaining({
        code: 'bad_payload',
        userMessage: expect.stringContaining('journal entry JE900'),
      }),
    );
  });

  it('a deleted journal entry is read as gone; other deleted records are not journal entries', () => {
    expect(
      mapJournalDeletion({
        recordid: '900',
        recordtypeid: 'journalentry',
        deleteddate: '2026-04-11 10:00:00',
      }),
    ).toEqual({ externalId: '900', sourceUpdatedAt: '2026-04-11T10:00:00Z', sourceVersion: null });
    expect(mapJournalDeletion({ recordid: '5', recordtypeid: 'invoice' })).toBeNull();
  });
});
