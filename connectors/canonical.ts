/**
 * Duely's canonical accounting model: what every connector (QuickBooks, NetSuite, CSV) produces and what
 * everything downstream reads. Money is integer minor units of `currency` (never a float); dates are ISO
 * calendar dates (YYYY-MM-DD); instants are ISO-8601 strings with an offset.
 */
export type IsoDate = string;
export type Instant = string;

export type InvoiceStatus = 'open' | 'paid' | 'void' | 'deleted';
export type EntityStatus = 'active' | 'void' | 'deleted';
export type Delivery = 'email' | 'print';

export interface CanonicalCustomer {
  externalId: string;
  name: string;
  /** Billing addresses in order of preference (primary first). */
  emails: string[];
  timezone?: string | null;
  country?: string | null;
  locale?: string | null;
  delivery?: Delivery | null;
  currency?: string | null;
  /**
   * The parent customer of a sub-customer (QuickBooks job: ParentRef), by external id; it may arrive after the
   * child, so it is resolved when reminders are planned.
   */
  parentExternalId?: string | null;
  /** A sub-customer billed through its parent (QuickBooks BillWithParent): the parent receives its reminders. */
  billWithParent?: boolean;
  deleted?: boolean;
  sourceUpdatedAt?: Instant | null;
  /**
   * The source's version number of the record, when it keeps one (QuickBooks' SyncToken, bumped on every save):
   * between two versions stored and incoming, the higher one wins even when sourceUpdatedAt ties (whole seconds).
   */
  sourceVersion?: number | null;
}

export interface CanonicalInvoice {
  externalId: string;
  customerExternalId: string;
  number?: string | null;
  issueDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  totalMinor: number;
  /** Open balance as the ledger states it (QuickBooks' Balance). */
  balanceMinor: number;
  status: InvoiceStatus;
  /** Date the invoice became fully paid, when known. */
  paidDate?: IsoDate | null;
  payLink?: string | null;
  /**
   * The invoice's own bill-to email (QuickBooks BillEmail); wins over the customer's primary email. It may name
   * several addresses, comma-separated (as QuickBooks' field does): each is a recipient (`addressList` reads it).
   */
  billEmail?: string | null;
  delivery?: Delivery | null;
  sourceUpdatedAt?: Instant | null;
  /**
   * The source's version number of the record, when it keeps one (QuickBooks' SyncToken, bumped on every save):
   * between two versions stored and incoming, the higher one wins even when sourceUpdatedAt ties (whole seconds).
   */
  sourceVersion?: number | null;
}

/** One application of money to an invoice: a payment line, or a credit memo applied through a payment. */
export interface CanonicalAllocation {
  invoiceExternalId: string;
  amountMinor: number;
  /** Set when the money comes from a credit memo rather than from the payment itself. */
  creditMemoExternalId?: string | null;
}

export interface CanonicalPayment {
  externalId: string;
  customerExternalId: string;
  date: IsoDate;
  currency: string;
  amountMinor: number;
  unappliedMinor: number;
  status: EntityStatus;
  allocations: CanonicalAllocation[];
  /**
   * What the payment's lines applied to journal entries' rows on the customer's A/R (CanonicalCreditMemo.journalEntry),
   * by the row's externalId, summed per row: a line linking an entry that credits the customer applies that credit,
   * one linking an entry that debits the customer (an opening balance, a charge) pays it. The ledger derives what
   * remains of each row from these (the source keeps no remaining amount on a journal entry). Empty or absent when no
   * line links a journal entry, and for a void payment.
   */
  journalApplications?: Array<{ journalExternalId: string; amountMinor: number }>;
  sourceUpdatedAt?: Instant | null;
  /**
   * The source's version number of the record, when it keeps one (QuickBooks' SyncToken, bumped on every save):
   * between two versions stored and incoming, the higher one wins even when sourceUpdatedAt ties (whole seconds).
   */
  sourceVersion?: number | null;
}

export interface CanonicalCreditMemo {
  externalId: string;
  customerExternalId: string;
  date: IsoDate;
  currency: string;
  totalMinor: number;
  remainingMinor: number;
  status: EntityStatus;
  /**
   * Invoices the credit memo is applied to directly, without a payment (NetSuite links a credit memo to an invoice
   * itself). Replaces the memo's direct applications whole; undefined when the ledger applies credit through
   * payments (QuickBooks) and says nothing here.
   */
  applications?: Array<{ invoiceExternalId: string; amountMinor: number }>;
  /**
   * Set when the credit is not a credit memo but a journal entry's credit to Accounts Receivable for the customer
   * (one credit per entry and customer): the entry's id and number. Such a credit has no remaining amount at the
   * source: the ledger derives it, total less the payment lines that applied it (CanonicalPayment.journalApplications
   * naming this credit's externalId, or allocations naming it as creditMemoExternalId), and ignores remainingMinor once
   * the credit is stored. A negative total is the entry's debit to the customer: what remains is total plus what the
   * payment lines linking it paid.
   *
   * `remainingAtSource`: the source states what remains of the row itself (NetSuite's amount unpaid of a debit line,
   * amount unused of a credit line): remainingMinor is then stored as given, on every read, and never derived.
   */
  journalEntry?: { externalId: string; number: string | null; remainingAtSource?: boolean } | null;
  sourceUpdatedAt?: Instant | null;
  /**
   * The source's version number of the record, when it keeps one (QuickBooks' SyncToken, bumped on every save):
   * between two versions stored and incoming, the higher one wins even when sourceUpdatedAt ties (whole seconds).
   */
  sourceVersion?: number | null;
}

/** A record the source reports as deleted: only its id survives (QuickBooks CDC `status: "Deleted"`). */
export interface CanonicalDeletion {
  externalId: string;
  sourceUpdatedAt?: Instant | null;
}
