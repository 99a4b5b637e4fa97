/** Our own QuickBooks payload builders, shaped like Intuit's (see vendor README); amounts as QBO sends them. */
export const REALM = '4620816365000000001';
export const API = 'https://sandbox-quickbooks.api.intuit.com';

const meta = (updated = '2026-05-05T03:08:49-07:00') => ({
  CreateTime: '2026-04-01T10:00:00-07:00',
  LastUpdatedTime: updated,
});
const usd = { value: 'USD', name: 'United States Dollar' };

export function customer(id: string, extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    SyncToken: '0',
    domain: 'QBO',
    sparse: false,
    MetaData: meta(),
    DisplayName: `Customer ${id}`,
    PrimaryEmailAddr: { Address: `c${id}@example.com` },
    BillAddr: {
      Id: '9',
      Line1: '1 Main St',
      City: 'Austin',
      CountrySubDivisionCode: 'TX',
      PostalCode: '73301',
    },
    CurrencyRef: usd,
    PreferredDeliveryMethod: 'Email',
    Active: true,
    ...extra,
  };
}

export function invoice(id: string, total: number, balance: number, extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    SyncToken: '1',
    domain: 'QBO',
    sparse: false,
    MetaData: meta(),
    DocNumber: `10${id}`,
    TxnDate: '2026-03-01',
    DueDate: '2026-03-31',
    CurrencyRef: usd,
    CustomerRef: { value: '1', name: 'Customer 1' },
    Line: [
      { Amount: total, DetailType: 'SalesItemLineDetail', SalesItemLineDetail: { ItemRef: { value: '1' } } },
    ],
    TotalAmt: total,
    Balance: balance,
    EmailStatus: 'EmailSent',
    PrintStatus: 'NotSet',
    ...extra,
  };
}

type Link = [txnId: string, txnType: 'Invoice' | 'CreditMemo' | 'JournalEntry', amount: number];
export function payment(
  id: string,
  total: number,
  unapplied: number,
  links: Link[],
  extra: Record<string, unknown> = {},
) {
  return {
    Id: id,
    SyncToken: '0',
    domain: 'QBO',
    sparse: false,
    MetaData: meta(),
    TxnDate: '2026-04-02',
    CurrencyRef: usd,
    CustomerRef: { value: '1', name: 'Customer 1' },
    TotalAmt: total,
    UnappliedAmt: unapplied,
    ProcessPayment: false,
    Line: links.map(([TxnId, TxnType, Amount]) => ({ Amount, LinkedTxn: [{ TxnId, TxnType }] })),
    ...extra,
  };
}

export function creditMemo(id: string, total: number, remaining: number) {
  return {
    Id: id,
    SyncToken: '0',
    domain: 'QBO',
    sparse: false,
    MetaData: meta(),
    DocNumber: `CM${id}`,
    TxnDate: '2026-03-10',
    CurrencyRef: usd,
    CustomerRef: { value: '1', name: 'Customer 1' },
    TotalAmt: total,
    RemainingCredit: remaining,
    Balance: remaining,
  };
}

/** A journal-entry line: posting, account id, amount, and the customer named on it (A/R lines name one). */
export type JournalLine = [posting: 'Debit' | 'Credit', account: string, amount: number, customer?: string];

/** A QuickBooks JournalEntry (v3 JSON) with `lines`; `extra` overrides any field. */
export function journalEntry(id: string, lines: JournalLine[], extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    SyncToken: '0',
    MetaData: { CreateTime: '2026-05-04T10:00:00-07:00', LastUpdatedTime: '2026-05-04T10:00:00-07:00' },
    TxnDate: '2026-05-04',
    Line: lines.map(([PostingType, account, Amount, customer], i) => ({
      Id: String(i),
      Amount,
      DetailType: 'JournalEntryLineDetail',
      JournalEntryLineDetail: {
        PostingType,
        AccountRef: { value: account },
        ...(customer ? { Entity: { Type: 'Customer', EntityRef: { value: customer } } } : {}),
      },
    })),
    ...extra,
  };
}

export const deleted = (id: string) => ({
  domain: 'QBO',
  status: 'Deleted',
  Id: id,
  MetaData: { LastUpdatedTime: '2026-05-06T09:00:00-07:00' },
});

export const queryPage = (entity: string, rows: unknown[], startPosition = 1) =>
  rows.length === 0
    ? { QueryResponse: {}, time: '2026-05-06T10:00:00.000-07:00' }
    : {
        QueryResponse: { [entity]: rows, startPosition, maxResults: rows.length },
        time: '2026-05-06T10:00:00.000-07:00',
      };

export const cdcAnswer = (
  blocks: Array<Record<string, unknown[]>>,
  time = '2026-05-07T10:00:00.000-07:00',
) => ({
  CDCResponse: [
    {
      QueryResponse: blocks.map((b) =>
        Object.keys(b).length === 0
          ? {}
          : { ...b, startPosition: 1, maxResults: Object.values(b)[0]?.length ?? 0 },
      ),
    },
  ],
  time,
});

export const xmlThrottle = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse time="2026-05-06T10:00:00.000-07:00" xmlns="http://schema.intuit.com/finance/v3">
  <Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.</Detail></Error></Fault>
</IntuitResponse>`;

export const gatewayAuthFault = {
  fault: {
    error: [
      {
        message: 'message=AuthenticationFailed; errorCode=003200; statusCode=401',
        detail: 'Token expired',
        code: '3200',
        element: null,
      },
    ],
    type: 'AUTHENTICATION',
  },
  time: 1778000000000,
};

export const validationFault = (code: string, message: string) => ({
  Fault: {
    Error: [{ Message: message, Detail: `${message} detail`, code, element: '' }],
    type: 'ValidationFault',
  },
  time: '2026-05-06T10:00:00.000-07:00',
});

export const silentLogger = { info() {}, warn() {}, error() {} };
