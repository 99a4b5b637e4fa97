/**
 * Pure mappers from QuickBooks Online payloads to the canonical model. Raw rows are validated with zod (only the
 * fields we read); money goes through numberToMinor with the row's CurrencyRef, else the company currency.
 * Field reference: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/invoice (and
 * /customer, /payment, /creditmemo, /journalentry).
 */
import { z } from 'zod';
import type {
  CanonicalAllocation,
  CanonicalCreditMemo,
  CanonicalCustomer,
  CanonicalDeletion,
  CanonicalInvoice,
  CanonicalPayment,
  Delivery,
  InvoiceStatus,
} from '../canonical';
import { ConnectorError } from '../errors';
import { numberToMinor } from '../money';
import { payLinkOrNull } from '../pay-link';
import type { CanonicalJournalEntryRead } from '../types';
import { countryCode, US_STATE_TIMEZONES } from './us-timezones';

export interface MapOptions {
  /** The company's home currency (CompanyInfo/Preferences); rows without CurrencyRef are in it. */
  homeCurrency: string;
}
export const DEFAULT_MAP_OPTIONS: MapOptions = { homeCurrency: 'USD' };

const Ref = z.object({ value: z.string(), name: z.string().nullish() });
const MetaData = z
  .object({ CreateTime: z.string().nullish(), LastUpdatedTime: z.string().nullish() })
  .nullish();
/** Version of the row, bumped on every save (a string in Intuit's JSON). */
const SyncToken = z.union([z.string(), z.number()]).nullish();
const EmailAddr = z.object({ Address: z.string().nullish() }).nullish();
const Address = z
  .object({ Country: z.string().nullish(), CountrySubDivisionCode: z.string().nullish() })
  .nullish();
const QboDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}/)
  .transform((s) => s.slice(0, 10));

export const QboCustomer = z.object({
  Id: z.string(),
  DisplayName: z.string().nullish(),
  FullyQualifiedName: z.string().nullish(),
  CompanyName: z.string().nullish(),
  PrimaryEmailAddr: EmailAddr,
  BillAddr: Address,
  CurrencyRef: Ref.nullish(),
  PreferredDeliveryMethod: z.string().nullish(),
  Active: z.boolean().nullish(),
  /** Sub-customers (jobs): the parent, and whether invoices are billed to it. */
  Job: z.boolean().nullish(),
  ParentRef: Ref.nullish(),
  BillWithParent: z.boolean().nullish(),
  SyncToken,
  MetaData,
});

export const QboInvoice = z.object({
  Id: z.string(),
  DocNumber: z.string().nullish(),
  TxnDate: QboDate,
  DueDate: QboDate.nullish(),
  TotalAmt: z.number(),
  Balance: z.number(),
  CurrencyRef: Ref.nullish(),
  CustomerRef: Ref,
  BillEmail: EmailAddr,
  InvoiceLink: z.string().nullish(),
  EmailStatus: z.string().nullish(),
  PrintStatus: z.string().nullish(),
  PrivateNote: z.string().nullish(),
  SyncToken,
  MetaData,
});

const LinkedTxn = z.object({ TxnId: z.string(), TxnType: z.string() });
export const QboPayment = z.object({
  Id: z.string(),
  TxnDate: QboDate,
  TotalAmt: z.number(),
  UnappliedAmt: z.number().nullish(),
  CurrencyRef: Ref.nullish(),
  CustomerRef: Ref,
  Line: z.array(z.object({ Amount: z.number(), LinkedTxn: z.array(LinkedTxn).nullish() })).nullish(),
  PrivateNote: z.string().nullish(),
  SyncToken,
  MetaData,
});

export const QboCreditMemo = z.object({
  Id: z.string(),
  TxnDate: QboDate,
  TotalAmt: z.number(),
  RemainingCredit: z.number().nullish(),
  Balance: z.number().nullish(),
  CurrencyRef: Ref.nullish(),
  CustomerRef: Ref,
  PrivateNote: z.string().nullish(),
  SyncToken,
  MetaData,
});

/**
 * https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/journalentry: each line posts its
 * Amount (positive, in the entry's currency) as a Debit or a Credit to AccountRef; a line to Accounts Receivable
 * names the customer in Entity (Type "Customer"). Lines of other detail types (DescriptionOnly) carry no posting.
 */
const JournalLine = z.object({
  Amount: z.number().nullish(),
  JournalEntryLineDetail: z
    .object({
      PostingType: z.string().nullish(),
      AccountRef: Ref.nullish(),
      Entity: z.object({ Type: z.string().nullish(), EntityRef: Ref.nullish() }).nullish(),
    })
    .nullish(),
});
export const QboJournalEntry = z.object({
  Id: z.string(),
  DocNumber: z.string().nullish(),
  TxnDate: QboDate,
  CurrencyRef: Ref.nullish(),
  Line: z.array(JournalLine).nullish(),
  SyncToken,
  MetaData,
});

/** A CDC tombstone: `{"domain":"QBO","status":"Deleted","Id":"65","MetaData":{"LastUpdatedTime":...}}`. */
export const QboDeleted = z.object({ Id: z.string(), status: z.literal('Deleted'), MetaData });

export type QboInvoiceRow = z.infer<typeof QboInvoice>;
export type QboPaymentRow = z.infer<typeof QboPayment>;

function parse<S extends z.ZodType>(schema: S, entity: string, raw: unknown): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const id = typeof raw === 'object' && raw !== null ? (raw as { Id?: unknown }).Id : undefined;
  throw new ConnectorError({
    code: 'bad_payload',
    message: `QuickBooks ${entity} ${String(id ?? '?')}: ${z.prettifyError(result.error)}`,
    cause: result.error,
  });
}

export function isDeletedRow(raw: unknown): boolean {
  return typeof raw === 'object' && raw !== null && (raw as { status?: unknown }).status === 'Deleted';
}

export function mapDeletion(raw: unknown): CanonicalDeletion {
  const row = parse(QboDeleted, 'deleted row', raw);
  return { externalId: row.Id, sourceUpdatedAt: row.MetaData?.LastUpdatedTime ?? null };
}

/**
 * SyncToken as a number (QuickBooks bumps it on every save), null when absent or not a whole number. LastUpdatedTime
 * has whole seconds: the version is what orders two saves within one second (see CanonicalInvoice.sourceVersion).
 */
export function syncTokenOf(row: unknown): number | null {
  const raw = (row as { SyncToken?: unknown } | null)?.SyncToken;
  if (raw === null || raw === undefined || raw === '') return null;
  const token = Number(raw);
  return Number.isSafeInteger(token) && token >= 0 ? token : null;
}

/** QuickBooks allows several addresses in one email field, separated by commas. */
function splitEmails(value: string | null | undefined): string[] {
  return (value ?? '')
    .split(/[,;]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Voiding keeps the transaction but zeroes its amounts and sets the memo to "Voided"
 * (https://quickbooks.intuit.com/learn-support/en-us/help-article/invoicing/void-delete-invoice/L8j0e2jbz_US_en_US).
 */
function isVoided(row: { TotalAmt: number; PrivateNote?: string | null }): boolean {
  return row.TotalAmt === 0 && (row.PrivateNote ?? '').trimStart().startsWith('Voided');
}

function currencyOf(row: { CurrencyRef?: { value: string } | null }, options: MapOptions): string {
  return (row.CurrencyRef?.value ?? options.homeCurrency).toUpperCase();
}

export function mapCustomer(raw: unknown, options: MapOptions = DEFAULT_MAP_OPTIONS): CanonicalCustomer {
  const c = parse(QboCustomer, 'Customer', raw);
  const state = c.BillAddr?.CountrySubDivisionCode?.trim().toUpperCase() ?? null;
  const stated = countryCode(c.BillAddr?.Country);
  // QuickBooks US companies often leave Country empty: a US state code then implies the US.
  const usState = state !== null && state in US_STATE_TIMEZONES;
  const country = stated ?? (usState ? 'US' : null);
  const delivery =
    c.PreferredDeliveryMethod === 'Email' ? 'email' : c.PreferredDeliveryMethod === 'Print' ? 'print' : null;
  return {
    externalId: c.Id,
    name: c.DisplayName ?? c.FullyQualifiedName ?? c.CompanyName ?? c.Id,
    emails: splitEmails(c.PrimaryEmailAddr?.Address),
    timezone: country === 'US' && usState ? (US_STATE_TIMEZONES[state] ?? null) : null,
    country,
    locale: null,
    delivery,
    currency: currencyOf(c, options),
    parentExternalId: c.ParentRef?.value || null,
    // Bill with parent is meaningful only for a sub-customer (a job has a ParentRef).
    billWithParent: Boolean(c.ParentRef?.value) && c.BillWithParent === true,
    // QuickBooks "deletes" names by making them inactive; they stay readable with Active=false.
    deleted: c.Active === false,
    sourceUpdatedAt: c.MetaData?.LastUpdatedTime ?? null,
    sourceVersion: syncTokenOf(c),
  };
}

function invoiceDelivery(inv: QboInvoiceRow): Delivery | null {
  if (inv.EmailStatus === 'EmailSent' || inv.EmailStatus === 'NeedToSend') return 'email';
  if (inv.PrintStatus === 'PrintComplete' || inv.PrintStatus === 'NeedToPrint') return 'print';
  return null;
}

export function mapInvoice(raw: unknown, options: MapOptions = DEFAULT_MAP_OPTIONS): CanonicalInvoice {
  const inv = parse(QboInvoice, 'Invoice', raw);
  const currency = currencyOf(inv, options);
  const balanceMinor = numberToMinor(inv.Balance, currency);
  const status: InvoiceStatus = isVoided(inv) ? 'void' : balanceMinor === 0 ? 'paid' : 'open';
  return {
    externalId: inv.Id,
    customerExternalId: inv.CustomerRef.value,
    number: inv.DocNumber ?? null,
    issueDate: inv.TxnDate,
    dueDate: inv.DueDate ?? inv.TxnDate,
    currency,
    totalMinor: numberToMinor(inv.TotalAmt, currency),
    balanceMinor,
    status,
    // The invoice row does not say when it was paid; the sync derives it from the payments' allocations.
    paidDate: null,
    // Only https (or the local sandbox's http on this machine) reaches a debtor's email.
    payLink: payLinkOrNull(inv.InvoiceLink, { loopbackHttp: true }),
    // Every address the field names (QuickBooks takes several, comma-separated): each one is a recipient.
    billEmail: splitEmails(inv.BillEmail?.Address).join(', ') || null,
    delivery: invoiceDelivery(inv),
    sourceUpdatedAt: inv.MetaData?.LastUpdatedTime ?? null,
    sourceVersion: syncTokenOf(inv),
  };
}

const PAYMENT_LINKS = new Set(['Invoice', 'CreditMemo', 'JournalEntry']);

/**
 * Payment lines each link one transaction: an Invoice line applies money to it, a CreditMemo or JournalEntry line
 * applies credit (a journal entry's credit to A/R, see mapJournalEntry: the credit of the payment's customer). A
 * JournalEntry line may instead pay the entry's debit to the customer (an opening balance, a charge): the mapper
 * cannot tell which (the entry may not be read yet), so it is paired as credit here and the ledger writer takes the
 * pairing back when the row is a debit (the invoice line is then money); what the line paid is journalApplications'.
 * When credit is applied QuickBooks creates a payment (often TotalAmt 0) whose Invoice lines are covered by its
 * credit lines; credits cover the invoice lines in order and the rest of each invoice line is cash.
 */
function allocations(
  lines: NonNullable<QboPaymentRow['Line']>,
  currency: string,
  customerId: string,
): CanonicalAllocation[] {
  const invoices: Array<{ id: string; minor: number }> = [];
  const credits: Array<{ id: string; minor: number }> = [];
  for (const line of lines) {
    const minor = numberToMinor(line.Amount, currency);
    const link = line.LinkedTxn?.find((t) => PAYMENT_LINKS.has(t.TxnType));
    if (!link || minor === 0) continue;
    if (link.TxnType === 'Invoice') invoices.push({ id: link.TxnId, minor });
    else if (link.TxnType === 'CreditMemo') credits.push({ id: link.TxnId, minor });
    else credits.push({ id: journalCreditId(link.TxnId, customerId), minor });
  }
  const out: CanonicalAllocation[] = [];
  let c = 0;
  for (const invoice of invoices) {
    let left = invoice.minor;
    for (let credit = credits[c]; left > 0 && credit; credit = credits[c]) {
      const take = Math.min(left, credit.minor);
      out.push({ invoiceExternalId: invoice.id, amountMinor: take, creditMemoExternalId: credit.id });
      left -= take;
      credit.minor -= take;
      if (credit.minor === 0) c++;
    }
    if (left > 0) out.push({ invoiceExternalId: invoice.id, amountMinor: left, creditMemoExternalId: null });
  }
  return out;
}

/**
 * What the payment's JournalEntry lines applied to (or paid of) each journal row of the payment's customer
 * (journalCreditId), summed per row.
 */
function journalApplications(
  lines: NonNullable<QboPaymentRow['Line']>,
  currency: string,
  customerId: string,
): NonNullable<CanonicalPayment['journalApplications']> {
  const applied = new Map<string, number>();
  for (const line of lines) {
    const link = line.LinkedTxn?.find((t) => PAYMENT_LINKS.has(t.TxnType));
    if (link?.TxnType !== 'JournalEntry') continue;
    const id = journalCreditId(link.TxnId, customerId);
    applied.set(id, (applied.get(id) ?? 0) + numberToMinor(line.Amount, currency));
  }
  return [...applied]
    .filter(([, minor]) => minor !== 0)
    .map(([journalExternalId, amountMinor]) => ({ journalExternalId, amountMinor }));
}

export function mapPayment(raw: unknown, options: MapOptions = DEFAULT_MAP_OPTIONS): CanonicalPayment {
  const p = parse(QboPayment, 'Payment', raw);
  const currency = currencyOf(p, options);
  const voided = isVoided(p);
  return {
    externalId: p.Id,
    customerExternalId: p.CustomerRef.value,
    date: p.TxnDate,
    currency,
    amountMinor: numberToMinor(p.TotalAmt, currency),
    unappliedMinor: numberToMinor(p.UnappliedAmt ?? 0, currency),
    status: voided ? 'void' : 'active',
    allocations: voided ? [] : allocations(p.Line ?? [], currency, p.CustomerRef.value),
    journalApplications: voided ? [] : journalApplications(p.Line ?? [], currency, p.CustomerRef.value),
    sourceUpdatedAt: p.MetaData?.LastUpdatedTime ?? null,
    sourceVersion: syncTokenOf(p),
  };
}

/**
 * The id of the credit on account (or debit) a journal entry gives one customer. A journal entry may credit several
 * customers, so the customer is part of it; the prefix keeps it apart from QuickBooks' own ids (digit strings), so it
 * can never be a credit memo's. A payment line linking the entry (TxnType "JournalEntry") applies the credit of the
 * payment's customer, or pays its debit: the same id.
 */
export function journalCreditId(entryId: string, customerId: string): string {
  return `JE:${entryId}:${customerId}`;
}

/**
 * What a journal entry leaves on each customer's A/R: per customer, its lines crediting an Accounts Receivable account
 * (one of `receivableAccounts`) less its lines debiting one in the same entry. Above zero it is credit on account;
 * below zero a debit (an opening balance, a charge booked by journal entry), kept as a row with a negative total so
 * the customer's balance in Duely is QuickBooks' (credit on account counts only rows with something left above zero,
 * and nothing chases a debit: it is not an invoice). Lines to other accounts do not touch the customer's balance.
 * What remains of a credit, or is still owed of a debit once payments linked it, is left to the ledger (see
 * CanonicalCreditMemo.journalEntry): QuickBooks keeps no remaining amount on the entry.
 */
export function mapJournalEntry(
  raw: unknown,
  receivableAccounts: ReadonlySet<string>,
  options: MapOptions = DEFAULT_MAP_OPTIONS,
): CanonicalCreditMemo[] {
  const je = parse(QboJournalEntry, 'JournalEntry', raw);
  const currency = currencyOf(je, options);
  const net = new Map<string, number>();
  for (const line of je.Line ?? []) {
    const d = line.JournalEntryLineDetail;
    const customer = d?.Entity?.EntityRef?.value;
    if (!d?.AccountRef || !receivableAccounts.has(d.AccountRef.value)) continue;
    if (!customer || (d.Entity?.Type ?? 'Customer') !== 'Customer') continue;
    const sign = d.PostingType === 'Credit' ? 1 : d.PostingType === 'Debit' ? -1 : 0;
    net.set(customer, (net.get(customer) ?? 0) + sign * numberToMinor(line.Amount ?? 0, currency));
  }
  const entry = { externalId: je.Id, number: je.DocNumber || null };
  return [...net]
    .filter(([, minor]) => minor !== 0)
    .map(([customer, minor]) => ({
      externalId: journalCreditId(je.Id, customer),
      customerExternalId: customer,
      date: je.TxnDate,
      currency,
      totalMinor: minor,
      remainingMinor: minor,
      status: 'active',
      journalEntry: entry,
      sourceUpdatedAt: je.MetaData?.LastUpdatedTime ?? null,
      sourceVersion: syncTokenOf(je),
    }));
}

/**
 * What a page says of a journal entry it read whole, or of its CDC tombstone (no version, the tombstone's time): its
 * credits are then exactly the ones mapJournalEntry gives (none for a tombstone).
 */
export function mapJournalEntryRead(raw: unknown): CanonicalJournalEntryRead {
  if (isDeletedRow(raw)) return { ...mapDeletion(raw), sourceVersion: null };
  const je = parse(QboJournalEntry, 'JournalEntry', raw);
  return {
    externalId: je.Id,
    sourceUpdatedAt: je.MetaData?.LastUpdatedTime ?? null,
    sourceVersion: syncTokenOf(je),
  };
}

export function mapCreditMemo(raw: unknown, options: MapOptions = DEFAULT_MAP_OPTIONS): CanonicalCreditMemo {
  const m = parse(QboCreditMemo, 'CreditMemo', raw);
  const currency = currencyOf(m, options);
  return {
    externalId: m.Id,
    customerExternalId: m.CustomerRef.value,
    date: m.TxnDate,
    currency,
    totalMinor: numberToMinor(m.TotalAmt, currency),
    remainingMinor: numberToMinor(m.RemainingCredit ?? m.Balance ?? 0, currency),
    status: isVoided(m) ? 'void' : 'active',
    sourceUpdatedAt: m.MetaData?.LastUpdatedTime ?? null,
    sourceVersion: syncTokenOf(m),
  };
}
