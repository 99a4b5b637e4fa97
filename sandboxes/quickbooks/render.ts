/**
 * Sandbox rows -> QuickBooks Online JSON, in the shapes of the captured payloads (Nango recordings of a real
 * sandbox company): amounts as JSON numbers, TxnDate as YYYY-MM-DD, MetaData instants with a Pacific offset.
 */
import {
  DAY_MS,
  type SbAccount,
  type SbCreditMemo,
  type SbCustomer,
  type SbInvoice,
  type SbJournalEntry,
  type SbPayment,
} from './company';

const OFFSET_MS = -8 * 3_600_000;
const USD = { value: 'USD', name: 'United States Dollar' };

/** "2026-05-05T03:08:49-08:00" (QuickBooks reports the company's local offset). */
export function qboInstant(ms: number, withMillis = false): string {
  const local = new Date(ms + OFFSET_MS).toISOString();
  return `${withMillis ? local.slice(0, 23) : local.slice(0, 19)}-08:00`;
}

export function qboDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

const money = (minor: number) => minor / 100;
const meta = (row: { createdAt: number; updatedAt: number }) => ({
  CreateTime: qboInstant(row.createdAt),
  LastUpdatedTime: qboInstant(row.updatedAt),
});
const ref = (customer: SbCustomer | undefined, id: string) => ({ value: id, name: customer?.name ?? id });

function billAddr(c: SbCustomer) {
  return {
    Id: `${c.id}00`,
    Line1: `${100 + Number(c.id)} Main St.`,
    City: c.state === 'ON' ? 'Toronto' : c.country === 'United Kingdom' ? 'London' : 'Springfield',
    ...(c.state ? { CountrySubDivisionCode: c.state } : {}),
    ...(c.country ? { Country: c.country } : {}),
    PostalCode:
      c.country === 'United Kingdom'
        ? 'EC1A 1BB'
        : c.state === 'ON'
          ? 'M5V 2T6'
          : String(90000 + Number(c.id)),
  };
}

export function renderCustomer(c: SbCustomer) {
  return {
    Taxable: false,
    BillAddr: billAddr(c),
    Job: false,
    BillWithParent: false,
    Balance: money(c.balanceMinor),
    BalanceWithJobs: money(c.balanceMinor),
    CurrencyRef: USD,
    PreferredDeliveryMethod: 'Email',
    IsProject: false,
    domain: 'QBO',
    sparse: false,
    Id: c.id,
    SyncToken: String(c.syncToken),
    MetaData: meta(c),
    FullyQualifiedName: c.name,
    CompanyName: c.name,
    DisplayName: c.name,
    PrintOnCheckName: c.name,
    Active: c.active,
    PrimaryEmailAddr: { Address: c.email },
  };
}

function salesLines(amountMinor: number) {
  return [
    {
      Id: '1',
      LineNum: 1,
      Description: 'Professional services',
      Amount: money(amountMinor),
      DetailType: 'SalesItemLineDetail',
      SalesItemLineDetail: {
        ItemRef: { value: '1', name: 'Services' },
        UnitPrice: money(amountMinor),
        Qty: 1,
        ItemAccountRef: { value: '1', name: 'Services' },
        TaxCodeRef: { value: 'NON' },
      },
    },
    { Amount: money(amountMinor), DetailType: 'SubTotalLineDetail', SubTotalLineDetail: {} },
  ];
}

/** `invoiceLink` is only on single reads (vendor README, pitfall 8), like the real API. */
export function renderInvoice(inv: SbInvoice, customer: SbCustomer | undefined, invoiceLink?: string) {
  return {
    AllowIPNPayment: false,
    AllowOnlinePayment: false,
    AllowOnlineCreditCardPayment: true,
    AllowOnlineACHPayment: true,
    domain: 'QBO',
    sparse: false,
    Id: inv.id,
    SyncToken: String(inv.syncToken),
    MetaData: meta(inv),
    CustomField: [],
    DocNumber: inv.docNumber,
    TxnDate: qboDate(inv.txnDay),
    CurrencyRef: USD,
    ...(inv.voided ? { PrivateNote: 'Voided' } : {}),
    LinkedTxn: inv.paymentIds.map((id) => ({ TxnId: id, TxnType: 'Payment' })),
    Line: salesLines(inv.totalMinor),
    TxnTaxDetail: { TotalTax: 0 },
    CustomerRef: ref(customer, inv.customerId),
    ...(customer ? { BillAddr: billAddr(customer) } : {}),
    SalesTermRef: { value: '3' },
    DueDate: qboDate(inv.dueDay),
    TotalAmt: money(inv.totalMinor),
    ApplyTaxAfterDiscount: false,
    PrintStatus: inv.emailed ? 'NotSet' : 'NeedToPrint',
    EmailStatus: inv.emailed ? 'EmailSent' : 'NotSet',
    ...(inv.billEmail ? { BillEmail: { Address: inv.billEmail } } : {}),
    Balance: money(inv.balanceMinor),
    ...(invoiceLink ? { InvoiceLink: invoiceLink } : {}),
  };
}

const nameValue = (Name: string, Value: string) => ({
  name: '{http://schema.intuit.com/finance/v3}NameValue',
  declaredType: 'com.intuit.schema.finance.v3.NameValue',
  scope: 'javax.xml.bind.JAXBElement$GlobalScope',
  value: { Name, Value },
  nil: false,
  globalScope: true,
  typeSubstituted: false,
});

export function renderPayment(
  p: SbPayment,
  customer: SbCustomer | undefined,
  docNumberOf: (id: string) => string,
) {
  return {
    CustomerRef: ref(customer, p.customerId),
    DepositToAccountRef: { value: '35' },
    TotalAmt: money(p.totalMinor),
    UnappliedAmt: money(p.unappliedMinor),
    ProcessPayment: false,
    domain: 'QBO',
    sparse: false,
    Id: p.id,
    SyncToken: String(p.syncToken),
    MetaData: meta(p),
    TxnDate: qboDate(p.txnDay),
    CurrencyRef: USD,
    ...(p.privateNote ? { PrivateNote: p.privateNote } : {}),
    Line: p.lines.map((l) => ({
      Amount: money(l.amountMinor),
      LinkedTxn: [{ TxnId: l.txnId, TxnType: l.txnType }],
      LineEx: {
        any: [
          nameValue('txnId', l.txnId),
          nameValue('txnOpenBalance', (l.openBalanceMinor / 100).toFixed(2)),
          nameValue('txnReferenceNumber', docNumberOf(l.txnId)),
        ],
      },
    })),
  };
}

export function renderCreditMemo(m: SbCreditMemo, customer: SbCustomer | undefined) {
  return {
    RemainingCredit: money(m.remainingMinor),
    domain: 'QBO',
    sparse: false,
    Id: m.id,
    SyncToken: String(m.syncToken),
    MetaData: meta(m),
    CustomField: [],
    DocNumber: m.docNumber,
    TxnDate: qboDate(m.txnDay),
    CurrencyRef: USD,
    Line: salesLines(m.totalMinor),
    TxnTaxDetail: { TotalTax: 0 },
    CustomerRef: ref(customer, m.customerId),
    TotalAmt: money(m.totalMinor),
    ApplyTaxAfterDiscount: false,
    PrintStatus: 'NotSet',
    EmailStatus: 'NotSet',
    Balance: money(m.remainingMinor),
  };
}

/** https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/journalentry */
export function renderJournalEntry(
  je: SbJournalEntry,
  accountName: (id: string) => string,
  customerName: (id: string) => string,
) {
  return {
    Adjustment: false,
    domain: 'QBO',
    sparse: false,
    Id: je.id,
    SyncToken: String(je.syncToken),
    MetaData: meta(je),
    DocNumber: je.docNumber,
    TxnDate: qboDate(je.txnDay),
    CurrencyRef: USD,
    Line: je.lines.map((l, i) => ({
      Id: String(i),
      Amount: money(l.amountMinor),
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: {
        PostingType: l.postingType,
        AccountRef: { value: l.accountId, name: accountName(l.accountId) },
        ...(l.customerId
          ? {
              Entity: {
                Type: 'Customer',
                EntityRef: { value: l.customerId, name: customerName(l.customerId) },
              },
            }
          : {}),
      },
    })),
    TxnTaxDetail: {},
  };
}

/** https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/account */
export function renderAccount(a: SbAccount) {
  return {
    Name: a.name,
    SubAccount: false,
    FullyQualifiedName: a.name,
    Active: a.active,
    Classification: a.accountType === 'Expense' ? 'Expense' : 'Asset',
    AccountType: a.accountType,
    CurrentBalance: 0,
    CurrencyRef: USD,
    domain: 'QBO',
    sparse: false,
    Id: a.id,
    SyncToken: String(a.syncToken),
    MetaData: meta(a),
  };
}

/** CDC tombstone: only Id, status and MetaData.LastUpdatedTime survive a delete. */
export function renderDeleted(row: { id: string; updatedAt: number }) {
  return {
    domain: 'QBO',
    status: 'Deleted',
    Id: row.id,
    MetaData: { LastUpdatedTime: qboInstant(row.updatedAt) },
  };
}
