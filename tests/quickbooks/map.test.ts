import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/errors';
import {
  mapCreditMemo,
  mapCustomer,
  mapDeletion,
  mapInvoice,
  mapPayment,
} from '../../connectors/quickbooks/map';
import { creditMemo, customer, deleted, invoice, payment } from './fixtures';

describe('mapInvoice', () => {
  it('keeps the ledger balance exactly, in minor units', () => {
    const inv = mapInvoice(invoice('67', 459, 239, { BillEmail: { Address: 'ap@birds.example' } }));
    expect(inv).toMatchObject({
      externalId: '67',
      customerExternalId: '1',
      number: '1067',
      issueDate: '2026-03-01',
      dueDate: '2026-03-31',
      currency: 'USD',
      totalMinor: 45900,
      balanceMinor: 23900,
      status: 'open',
      billEmail: 'ap@birds.example',
      delivery: 'email',
      sourceUpdatedAt: '2026-05-05T03:08:49-07:00',
    });
  });

  it('keeps every address of a BillEmail that names several (comma- or semicolon-separated)', () => {
    const inv = mapInvoice(
      invoice('68', 100, 100, { BillEmail: { Address: ' ap@birds.example, Controller@birds.example;' } }),
    );
    expect(inv.billEmail).toBe('ap@birds.example, Controller@birds.example');
    expect(mapInvoice(invoice('69', 100, 100, { BillEmail: { Address: ' , ' } })).billEmail).toBeNull();
  });

  it('does not drift on amounts that are inexact in binary floating point', () => {
    expect(mapInvoice(invoice('1', 2369.52, 1675.52)).balanceMinor).toBe(167552);
    expect(mapInvoice(invoice('2', 0.29, 0.07)).balanceMinor).toBe(7);
    expect(mapInvoice(invoice('3', 103.55, 103.55)).totalMinor).toBe(10355);
  });

  it('marks a zero balance paid and a voided invoice void', () => {
    expect(mapInvoice(invoice('12', 2369.52, 0)).status).toBe('paid');
    const voided = mapInvoice(invoice('20', 0, 0, { PrivateNote: 'Voided' }));
    expect(voided).toMatchObject({ status: 'void', totalMinor: 0, balanceMinor: 0 });
    // A zero-amount invoice that was not voided is simply settled.
    expect(mapInvoice(invoice('21', 0, 0)).status).toBe('paid');
  });

  it('uses the company currency when CurrencyRef is absent and exponent-aware minor units otherwise', () => {
    const { CurrencyRef: _drop, ...noCurrency } = invoice('5', 10, 10);
    expect(mapInvoice(noCurrency, { homeCurrency: 'CAD' }).currency).toBe('CAD');
    const yen = mapInvoice(invoice('6', 1200, 1200, { CurrencyRef: { value: 'JPY' } }));
    expect(yen).toMatchObject({ currency: 'JPY', totalMinor: 1200 });
  });

  it('keeps InvoiceLink as payLink and falls back to the issue date without DueDate', () => {
    const { DueDate: _drop, ...noDue } = invoice('130', 362.07, 362.07, {
      InvoiceLink: 'https://connect.intuit.com/pay/abc',
    });
    expect(mapInvoice(noDue)).toMatchObject({
      payLink: 'https://connect.intuit.com/pay/abc',
      dueDate: '2026-03-01',
    });
  });

  it('keeps a pay link only when a debtor can safely click it: https, or http to this machine (the sandbox)', () => {
    const link = (InvoiceLink: string) => mapInvoice(invoice('131', 10, 10, { InvoiceLink })).payLink;
    expect(link('https://connect.intuit.com/pay/abc')).toBe('https://connect.intuit.com/pay/abc');
    expect(link('http://127.0.0.1:4010/pay/realm/131')).toBe('http://127.0.0.1:4010/pay/realm/131');
    expect(link('http://localhost:4010/pay/realm/131')).toBe('http://localhost:4010/pay/realm/131');
    for (const bad of [
      'http://pay.example.com/131',
      'http://127.0.0.1.evil.example/pay',
      'javascript:alert(1)',
      'data:text/html,<b>pay</b>',
      '/pay/131',
      'not a url',
      '',
    ]) {
      expect(link(bad), bad).toBeNull();
    }
  });

  it('carries SyncToken as the row version of every entity (null when absent or not a whole number)', () => {
    expect(mapInvoice(invoice('67', 459, 239, { SyncToken: '12' })).sourceVersion).toBe(12);
    expect(mapPayment(payment('80', 10, 10, [], { SyncToken: '3' })).sourceVersion).toBe(3);
    expect(mapCreditMemo({ ...creditMemo('90', 5, 5), SyncToken: '4' }).sourceVersion).toBe(4);
    expect(mapCustomer(customer('1', { SyncToken: '0' })).sourceVersion).toBe(0);
    expect(mapInvoice(invoice('67', 459, 239, { SyncToken: undefined })).sourceVersion).toBeNull();
    expect(mapInvoice(invoice('67', 459, 239, { SyncToken: 'x1' })).sourceVersion).toBeNull();
  });

  it('rejects a malformed row with a typed bad_payload error naming the record', () => {
    const error = (() => {
      try {
        mapInvoice({
          Id: '9',
          TxnDate: '2026-01-01',
          TotalAmt: '12',
          Balance: 0,
          CustomerRef: { value: '1' },
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ code: 'bad_payload', retryable: false });
    expect((error as Error).message).toContain('Invoice 9');
  });
});

describe('mapPayment', () => {
  it('maps a partial payment to one allocation', () => {
    expect(mapPayment(payment('61', 694, 0, [['12', 'Invoice', 694]]))).toMatchObject({
      amountMinor: 69400,
      unappliedMinor: 0,
      status: 'active',
      allocations: [{ invoiceExternalId: '12', amountMinor: 69400, creditMemoExternalId: null }],
    });
  });

  it('splits a payment across several invoices and keeps the unapplied rest', () => {
    const p = mapPayment(
      payment('9001', 250, 25, [
        ['9101', 'Invoice', 150],
        ['9102', 'Invoice', 75],
      ]),
    );
    expect(p.amountMinor).toBe(25000);
    expect(p.unappliedMinor).toBe(2500);
    expect(p.allocations).toEqual([
      { invoiceExternalId: '9101', amountMinor: 15000, creditMemoExternalId: null },
      { invoiceExternalId: '9102', amountMinor: 7500, creditMemoExternalId: null },
    ]);
  });

  it('turns a zero-amount credit application into an allocation from the credit memo', () => {
    const p = mapPayment(
      payment(
        '74',
        0,
        0,
        [
          ['71', 'Invoice', 100],
          ['73', 'CreditMemo', 100],
        ],
        { PrivateNote: 'Created by QB Online to link credits to charges.' },
      ),
    );
    expect(p.amountMinor).toBe(0);
    expect(p.allocations).toEqual([
      { invoiceExternalId: '71', amountMinor: 10000, creditMemoExternalId: '73' },
    ]);
  });

  it('covers invoice lines with credit first and the rest with cash', () => {
    const p = mapPayment(
      payment('80', 120, 0, [
        ['1', 'Invoice', 100],
        ['2', 'Invoice', 70],
        ['3', 'CreditMemo', 50],
      ]),
    );
    expect(p.allocations).toEqual([
      { invoiceExternalId: '1', amountMinor: 5000, creditMemoExternalId: '3' },
      { invoiceExternalId: '1', amountMinor: 5000, creditMemoExternalId: null },
      { invoiceExternalId: '2', amountMinor: 7000, creditMemoExternalId: null },
    ]);
    const cash = p.allocations.filter((a) => !a.creditMemoExternalId).reduce((n, a) => n + a.amountMinor, 0);
    expect(cash).toBe(p.amountMinor - p.unappliedMinor);
  });

  it('maps an unapplied payment (Line: []) with no allocations', () => {
    expect(mapPayment(payment('170', 100, 100, []))).toMatchObject({
      amountMinor: 10000,
      unappliedMinor: 10000,
      allocations: [],
    });
  });

  it('ignores links to other transaction types and voided payments', () => {
    expect(
      mapPayment(
        payment('90', 10, 0, [['5', 'Invoice', 10]], {
          Line: [{ Amount: 10, LinkedTxn: [{ TxnId: '4', TxnType: 'JournalEntry' }] }],
        }),
      ).allocations,
    ).toEqual([]);
    expect(mapPayment(payment('91', 0, 0, [['5', 'Invoice', 0]], { PrivateNote: 'Voided' }))).toMatchObject({
      status: 'void',
      allocations: [],
    });
  });
});

describe('mapCreditMemo, mapCustomer, mapDeletion', () => {
  it('maps remaining credit', () => {
    expect(mapCreditMemo(creditMemo('73', 100, 0))).toMatchObject({
      totalMinor: 10000,
      remainingMinor: 0,
      status: 'active',
    });
    expect(mapCreditMemo(creditMemo('184', 100, 100))).toMatchObject({ remainingMinor: 10000 });
  });

  it('derives country and time zone from the billing address', () => {
    expect(mapCustomer(customer('1'))).toMatchObject({
      country: 'US',
      timezone: 'America/Chicago',
      emails: ['c1@example.com'],
      delivery: 'email',
      deleted: false,
    });
    const canada = mapCustomer(
      customer('2', { BillAddr: { Country: 'Canada', CountrySubDivisionCode: 'ON' } }),
    );
    expect(canada).toMatchObject({ country: 'CA', timezone: null });
    expect(mapCustomer(customer('3', { BillAddr: null }))).toMatchObject({ country: null, timezone: null });
  });

  it('splits multi-address email fields and treats inactive customers as deleted', () => {
    const c = mapCustomer(
      customer('4', { PrimaryEmailAddr: { Address: 'a@x.com, b@y.com' }, Active: false }),
    );
    expect(c.emails).toEqual(['a@x.com', 'b@y.com']);
    expect(c.deleted).toBe(true);
  });

  it("keeps a job's parent and whether it is billed with it (BillWithParent counts only under a ParentRef)", () => {
    const parent = { value: '7', name: 'Nora Inc' };
    expect(mapCustomer(customer('8', { Job: true, ParentRef: parent, BillWithParent: true }))).toMatchObject({
      parentExternalId: '7',
      billWithParent: true,
    });
    expect(mapCustomer(customer('9', { Job: true, ParentRef: parent, BillWithParent: false }))).toMatchObject(
      {
        parentExternalId: '7',
        billWithParent: false,
      },
    );
    expect(mapCustomer(customer('10', { BillWithParent: true }))).toMatchObject({
      parentExternalId: null,
      billWithParent: false,
    });
  });

  it('maps a CDC tombstone to a deletion', () => {
    expect(mapDeletion(deleted('65'))).toEqual({
      externalId: '65',
      sourceUpdatedAt: '2026-05-06T09:00:00-07:00',
    });
  });
});
