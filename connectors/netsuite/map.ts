/**
 * Pure mappers from SuiteQL rows (every value a string; NULL columns absent) to the canonical model. Money is
 * parsed exactly from the decimal string into integer minor units of the transaction's currency (ISO 4217
 * exponent: JPY 0, USD 2, BHD 3): never through a float. An amount with more digits than the currency allows is
 * a bad payload, not a rounding.
 *
 * Timestamps: NetSuite returns account-local times without a zone. They are kept as instants written as if UTC
 * (`2026-04-15T09:30:00Z` for 09:30 account time), so every comparison (cursor, listings' asOf,
 * sourceUpdatedAt) happens in one clock: the account's.
 */
import { z } from 'zod';
import type {
  CanonicalAllocation,
  CanonicalCreditMemo,
  CanonicalCustomer,
  CanonicalDeletion,
  CanonicalInvoice,
  CanonicalPayment,
  Instant,
} from '../canonical';
import { isIsoDate } from '../dates';
import { ConnectorError } from '../errors';
import { isKnownCurrency, toMinor } from '../money';
import { payLinkOrNull } from '../pay-link';
import type { CanonicalJournalEntryRead, EntityKind } from '../types';
import type { SuiteqlRow } from './client';

const Id = z.string().regex(/^\d+$/, 'must be a numeric id');
/**
 * A date (`YYYY-MM-DD`) or account clock (`YYYY-MM-DD HH:MM:SS`) that exists: the shape alone lets `2026-02-30`
 * or `25:61:00` through to the database, which refuses the whole page with an error naming no record.
 */
const CLOCK_SHAPE = /^(\d{4}-\d{2}-\d{2}) ([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/;
const ISO_DATE = { test: isIsoDate };
const CLOCK = {
  test: (value: string): boolean => {
    const m = CLOCK_SHAPE.exec(value);
    return m !== null && isIsoDate(m[1]!);
  },
};
const IsoDate = z.string().refine((v) => ISO_DATE.test(v), 'must be a calendar date (YYYY-MM-DD)');
const Clock = z.string().refine((v) => CLOCK.test(v), 'must be a time on the calendar (YYYY-MM-DD HH:MM:SS)');
const Flag = z.enum(['T', 'F']);
const Decimal = z.string().regex(/^-?(\d+(\.\d*)?|\.\d+)$/, 'must be a decimal number');
const Currency = z
  .string()
  .transform((s) => s.trim().toUpperCase())
  .refine(isKnownCurrency, 'must be an ISO 4217 currency code');

export const CustomerRow = z.object({
  id: Id,
  entityid: z.string().optional(),
  companyname: z.string().optional(),
  altname: z.string().optional(),
  isperson: Flag.optional(),
  firstname: z.string().optional(),
  lastname: z.string().optional(),
  email: z.string().optional(),
  isinactive: Flag.optional(),
  currency: Currency.optional(),
  subsidiary: Id.optional(),
  lastmodified: Clock.optional(),
});

export const TransactionRow = z.object({
  id: Id,
  type: z.enum(['CustInvc', 'CustPymt', 'CustCred']),
  tranid: z.string().optional(),
  trandate: IsoDate,
  duedate: IsoDate.optional(),
  closedate: IsoDate.optional(),
  entity: Id,
  currency: Currency,
  foreigntotal: Decimal,
  foreignamountunpaid: Decimal.optional(),
  foreignpaymentamountunused: Decimal.optional(),
  voided: Flag.optional(),
  status: z.string().optional(),
  email: z.string().optional(),
  /** NETSUITE_PAY_LINK_FIELD's value (selected only when the setting is set). */
  paylink: z.string().optional(),
  subsidiary: Id.optional(),
  lastmodified: Clock.optional(),
});
export type TransactionRowT = z.infer<typeof TransactionRow>;

export const ApplicationRow = z.object({ payment: Id, invoice: Id, foreignamount: Decimal });

export const DeletedRow = z.object({
  recordid: z.string(),
  recordtypeid: z.string().optional(),
  type: z.string().optional(),
  deleteddate: Clock.optional(),
});

const ID = /^\d+$/;
const DECIMAL = /^-?(\d+(\.\d*)?|\.\d+)$/;
const TRANSACTION_TYPES = new Set(['CustInvc', 'CustPymt', 'CustCred']);
const optional = (v: string | undefined, re: { test(v: string): boolean }) => v === undefined || re.test(v);
const optionalFlag = (v: string | undefined) => v === undefined || v === 'T' || v === 'F';
const optionalText = (v: unknown) => v === undefined || typeof v === 'string';

/**
 * The rows every page is made of, checked without zod when they are well-formed (the same rules as the schemas
 * above, several times cheaper per row); anything else goes through the schema, which words the error.
 */
function wellFormedTransaction(raw: SuiteqlRow): TransactionRowT | null {
  const { id, type, trandate, entity, currency, foreigntotal } = raw;
  if (
    id === undefined ||
    !ID.test(id) ||
    type === undefined ||
    !TRANSACTION_TYPES.has(type) ||
    trandate === undefined ||
    !ISO_DATE.test(trandate) ||
    entity === undefined ||
    !ID.test(entity) ||
    currency === undefined ||
    foreigntotal === undefined ||
    !DECIMAL.test(foreigntotal) ||
    !optional(raw.duedate, ISO_DATE) ||
    !optional(raw.closedate, ISO_DATE) ||
    !optional(raw.foreignamountunpaid, DECIMAL) ||
    !optional(raw.foreignpaymentamountunused, DECIMAL) ||
    !optionalFlag(raw.voided) ||
    !optional(raw.subsidiary, ID) ||
    !optional(raw.lastmodified, CLOCK) ||
    !optionalText(raw.tranid) ||
    !optionalText(raw.status) ||
    !optionalText(raw.email) ||
    !optionalText(raw.paylink)
  )
    return null;
  const code = currency.trim().toUpperCase();
  if (!isKnownCurrency(code)) return null;
  return { ...(raw as TransactionRowT), currency: code };
}

function wellFormedCustomer(raw: SuiteqlRow): z.infer<typeof CustomerRow> | null {
  const { id, currency } = raw;
  if (
    id === undefined ||
    !ID.test(id) ||
    !optionalFlag(raw.isperson) ||
    !optionalFlag(raw.isinactive) ||
    !optional(raw.subsidiary, ID) ||
    !optional(raw.lastmodified, CLOCK) ||
    !optionalText(raw.entityid) ||
    !optionalText(raw.companyname) ||
    !optionalText(raw.altname) ||
    !optionalText(raw.firstname) ||
    !optionalText(raw.lastname) ||
    !optionalText(raw.email)
  )
    return null;
  if (currency === undefined) return raw as z.infer<typeof CustomerRow>;
  const code = currency.trim().toUpperCase();
  return isKnownCurrency(code) ? ({ ...raw, currency: code } as z.infer<typeof CustomerRow>) : null;
}

function parse<S extends z.ZodType>(schema: S, what: string, raw: SuiteqlRow): z.infer<S> {
  const which = schema as z.ZodType;
  const fast =
    which === TransactionRow
      ? wellFormedTransaction(raw)
      : which === CustomerRow
        ? wellFormedCustomer(raw)
        : which === ApplicationRow &&
            raw.payment !== undefined &&
            ID.test(raw.payment) &&
            raw.invoice !== undefined &&
            ID.test(raw.invoice) &&
            raw.foreignamount !== undefined &&
            DECIMAL.test(raw.foreignamount)
          ? raw
          : null;
  if (fast) return fast as z.infer<S>;
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConnectorError({
    code: 'bad_payload',
    message: `NetSuite ${what} ${raw.id ?? raw.recordid ?? '?'}: ${z.prettifyError(result.error)}`,
    cause: result.error,
  });
}

const RECORD_LABEL: Record<string, string> = {
  CustInvc: 'invoice',
  CustPymt: 'payment',
  CustCred: 'credit memo',
  Journal: 'journal entry',
};
const clip = (text: string, max: number) => {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max)}…` : one;
};

/**
 * A bad record re-thrown with what the admin needs (the run's error on Connections shows `userMessage`): which
 * record in NetSuite, what is wrong with it, and what to do. Without it the page said only "Your accounting system
 * sent a record we could not read."
 */
function naming<T>(raw: SuiteqlRow, what: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof ConnectorError) || e.code !== 'bad_payload') throw e;
    const label = RECORD_LABEL[raw.type ?? ''] ?? what;
    const number = raw.tranid ?? raw.entityid;
    const id = raw.id ?? raw.recordid ?? raw.payment;
    const ref = `${label}${number ? ` ${clip(number, 40)}` : ''}${id ? ` (internal id ${clip(id, 20)})` : ''}`;
    throw new ConnectorError({
      code: 'bad_payload',
      message: e.message,
      cause: e.cause ?? e,
      userMessage:
        `NetSuite sent ${ref} in a form Duely cannot read: ${clip(e.message, 300)}. Correct it in NetSuite ` +
        '(or ask your NetSuite administrator); until then the sync stops at this record and tries again at the next poll.',
    });
  }
}

/** "1234.5", "-.07", "120." -> exact minor units of `currency`; fails on more digits than the currency has. */
export function amountToMinor(value: string, currency: string, what = 'amount'): number {
  let text = value.trim();
  if (/^-?\./.test(text)) text = text.replace('.', '0.');
  if (text.endsWith('.')) text = text.slice(0, -1);
  const minor = toMinor(text, currency);
  if (minor === null) {
    throw new ConnectorError({
      code: 'bad_payload',
      message: `NetSuite ${what} ${JSON.stringify(value)} is not an exact ${currency} amount`,
    });
  }
  return minor;
}

/** Account clock `2026-04-15 09:30:00` -> `2026-04-15T09:30:00Z` (see the header). */
export function clockToInstant(clock: string | undefined): Instant | null {
  return clock ? `${clock.replace(' ', 'T')}Z` : null;
}

/** Instant (as if UTC) -> account clock text. */
export function instantToClock(instant: Instant): string {
  const ms = Date.parse(instant);
  if (Number.isNaN(ms)) {
    throw new ConnectorError({
      code: 'bad_payload',
      message: `Unreadable instant ${JSON.stringify(instant)}`,
    });
  }
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Account clock minus `minutes` (plain calendar arithmetic in the account's wall time). */
export function clockMinus(clock: string, minutes: number): string {
  return instantToClock(
    new Date(Date.parse(clockToInstant(clock) as string) - minutes * 60_000).toISOString(),
  );
}

function emails(raw: string | undefined): string[] {
  if (!raw) return [];
  return [
    ...new Set(
      raw
        .split(/[,;]/)
        .map((e) => e.trim())
        .filter((e) => e.includes('@')),
    ),
  ];
}

/**
 * Longest customer name kept, in characters. NetSuite's own name fields are far shorter (company name 83); a longer
 * one is cut rather than written whole: the customers' name index refuses a value over ~2.7 kB on Postgres, which
 * failed the sync's page with a database error naming no record, at every poll.
 */
const NAME_MAX = 200;
function clipName(name: string): string {
  if (name.length <= NAME_MAX) return name;
  const chars = [...name];
  return chars.length <= NAME_MAX ? name : `${chars.slice(0, NAME_MAX - 1).join('')}…`;
}

export function mapCustomer(raw: SuiteqlRow): CanonicalCustomer {
  return naming(raw, 'customer', () => {
    const row = parse(CustomerRow, 'customer', raw);
    const person = [row.firstname, row.lastname].filter(Boolean).join(' ');
    const name =
      (row.isperson === 'T' ? person || row.companyname : row.companyname || person) ||
      row.altname ||
      row.entityid ||
      `Customer ${row.id}`;
    return {
      externalId: row.id,
      name: clipName(name),
      emails: emails(row.email),
      currency: row.currency ?? null,
      sourceUpdatedAt: clockToInstant(row.lastmodified),
    };
  });
}

function transaction(raw: SuiteqlRow, type: TransactionRowT['type']): TransactionRowT {
  const row = parse(TransactionRow, 'transaction', raw);
  if (row.type !== type) {
    throw new ConnectorError({
      code: 'bad_payload',
      message: `NetSuite transaction ${row.id} is ${row.type}, not ${type}`,
    });
  }
  return row;
}

const abs = (n: number) => Math.abs(n);

/**
 * SuiteQL status letters of a transaction that owes or offers nothing more: an invoice Paid In Full (B), a credit
 * memo Fully Applied (B), either Voided (V). SuiteQL prints the letter alone (`CustInvc:B` in saved searches).
 */
const CLOSED_STATUS = new Set(['B', 'V']);

/**
 * Invoice statuses under approval routing: Rejected (`CustInvc:D`) and Pending Approval (`CustInvc:E`). Such an
 * invoice does not post (Oracle, "Transactional Impact for Workflow Based Invoice Approvals": non-posting until
 * approved, not in the customer payment queue), so nothing is receivable on it, whatever its amount unpaid says (the
 * total, or nothing at all). It is kept as void with nothing owed: out of A/R and balances, never chased. Approving
 * it is an edit of the invoice (its lastmodifieddate moves): the next poll reads it Open, with its amount.
 */
const UNPOSTED_INVOICE_STATUS = new Set(['D', 'E']);

/**
 * The open amount (`foreignamountunpaid`) of an invoice or credit memo, in minor units. SuiteQL leaves NULL columns
 * out of a row, so a missing value says "no value", not "nothing owed": it counts as 0 only when the record says so
 * itself (voided, or a closed status). On any other record it is a bad record, named, never a zero balance: read
 * as 0, a debtor's open invoice was marked paid, left A/R and was no longer chased.
 */
function openAmount(row: TransactionRowT, voided: boolean, what: string): number {
  if (voided) return 0;
  if (row.foreignamountunpaid === undefined) {
    if (CLOSED_STATUS.has(row.status ?? '')) return 0;
    throw new ConnectorError({
      code: 'bad_payload',
      message:
        `NetSuite ${what} ${row.id}: amount unpaid (foreignamountunpaid) missing while its status is ` +
        `${JSON.stringify(row.status ?? null)}, not paid, fully applied or voided; Duely does not guess its balance`,
    });
  }
  return amountToMinor(row.foreignamountunpaid, row.currency, `${what} ${row.id} amount unpaid`);
}

export function mapInvoice(raw: SuiteqlRow): CanonicalInvoice {
  return naming(raw, 'invoice', () => {
    const row = transaction(raw, 'CustInvc');
    const voided = row.voided === 'T';
    const unposted = !voided && UNPOSTED_INVOICE_STATUS.has(row.status ?? '');
    const totalMinor = abs(amountToMinor(row.foreigntotal, row.currency, `invoice ${row.id} total`));
    const balanceMinor = unposted ? 0 : openAmount(row, voided, 'invoice');
    if (balanceMinor < 0 || balanceMinor > totalMinor) {
      throw new ConnectorError({
        code: 'bad_payload',
        message: `NetSuite invoice ${row.id}: amount unpaid ${row.foreignamountunpaid} outside 0..${row.foreigntotal}`,
      });
    }
    const status = voided || unposted ? 'void' : balanceMinor === 0 ? 'paid' : 'open';
    return {
      externalId: row.id,
      customerExternalId: row.entity,
      number: row.tranid ?? null,
      issueDate: row.trandate,
      dueDate: row.duedate ?? row.trandate,
      currency: row.currency,
      totalMinor,
      balanceMinor,
      status,
      paidDate: status === 'paid' ? (row.closedate ?? null) : null,
      payLink: payLinkOrNull(row.paylink),
      billEmail: emails(row.email).join(', ') || null,
      sourceUpdatedAt: clockToInstant(row.lastmodified),
    };
  });
}

/** `applications` are the payment's NextTransactionLineLink rows (see `mapApplications`). */
export function mapPayment(raw: SuiteqlRow, applications: CanonicalAllocation[] = []): CanonicalPayment {
  return naming(raw, 'payment', () => {
    const row = transaction(raw, 'CustPymt');
    const voided = row.voided === 'T';
    return {
      externalId: row.id,
      customerExternalId: row.entity,
      date: row.trandate,
      currency: row.currency,
      amountMinor: abs(amountToMinor(row.foreigntotal, row.currency, `payment ${row.id} total`)),
      unappliedMinor: voided
        ? 0
        : abs(
            amountToMinor(row.foreignpaymentamountunused ?? '0', row.currency, `payment ${row.id} unapplied`),
          ),
      status: voided ? 'void' : 'active',
      allocations: voided ? [] : applications,
      sourceUpdatedAt: clockToInstant(row.lastmodified),
    };
  });
}

/** A credit memo row; `applications` are its direct applications to invoices (from NextTransactionLineLink). */
export function mapCreditMemo(
  raw: SuiteqlRow,
  applications: CanonicalAllocation[] = [],
): CanonicalCreditMemo {
  return naming(raw, 'credit memo', () => {
    const row = transaction(raw, 'CustCred');
    const voided = row.voided === 'T';
    return {
      externalId: row.id,
      customerExternalId: row.entity,
      date: row.trandate,
      currency: row.currency,
      totalMinor: abs(amountToMinor(row.foreigntotal, row.currency, `credit memo ${row.id} total`)),
      remainingMinor: abs(openAmount(row, voided, 'credit memo')),
      status: voided ? 'void' : 'active',
      applications: voided
        ? []
        : applications.map((a) => ({ invoiceExternalId: a.invoiceExternalId, amountMinor: a.amountMinor })),
      sourceUpdatedAt: clockToInstant(row.lastmodified),
    };
  });
}

/**
 * Groups link rows by payment (or credit memo): one allocation per invoice (several lines of one invoice are summed), in the
 * payment's currency (NetSuite applies a payment only to invoices of its currency).
 */
export function mapApplications(
  rows: SuiteqlRow[],
  currencyOf: (paymentId: string) => string,
): Map<string, CanonicalAllocation[]> {
  const byPayment = new Map<string, Map<string, number>>();
  for (const raw of rows) {
    const [row, amount] = naming(raw, 'application of payment', () => {
      const row = parse(ApplicationRow, 'application', raw);
      return [
        row,
        abs(amountToMinor(row.foreignamount, currencyOf(row.payment), `application ${row.payment}`)),
      ] as const;
    });
    const invoices = byPayment.get(row.payment) ?? new Map<string, number>();
    invoices.set(row.invoice, (invoices.get(row.invoice) ?? 0) + amount);
    byPayment.set(row.payment, invoices);
  }
  return new Map(
    [...byPayment].map(([payment, invoices]) => [
      payment,
      [...invoices].map(([invoiceExternalId, amountMinor]) => ({ invoiceExternalId, amountMinor })),
    ]),
  );
}

const DELETED_KIND: Record<string, EntityKind> = {
  customer: 'customers',
  invoice: 'invoices',
  custinvc: 'invoices',
  customerpayment: 'payments',
  custpymt: 'payments',
  creditmemo: 'creditMemos',
  custcred: 'creditMemos',
};

/** A DeletedRecord row -> the kind it belongs to and the tombstone; null for record types we do not sync. */
export function mapDeletion(raw: SuiteqlRow): { kind: EntityKind; deletion: CanonicalDeletion } | null {
  return naming(raw, 'deleted record', () => {
    const row = parse(DeletedRow, 'deleted record', raw);
    const kind =
      DELETED_KIND[(row.recordtypeid ?? '').toLowerCase().replace(/\s+/g, '')] ??
      DELETED_KIND[(row.type ?? '').toLowerCase().replace(/\s+/g, '')];
    if (!kind || !/^\d+$/.test(row.recordid)) return null;
    return { kind, deletion: { externalId: row.recordid, sourceUpdatedAt: clockToInstant(row.deleteddate) } };
  });
}

export const JournalEntryRow = z.object({
  id: Id,
  type: z.literal('Journal'),
  tranid: z.string().optional(),
  trandate: IsoDate,
  currency: Currency,
  voided: Flag.optional(),
  lastmodified: Clock.optional(),
});

export const JournalLineRow = z.object({
  entry: Id,
  line: z.string().regex(/^\d+$/, 'must be a line id'),
  entity: Id.optional(),
  debitforeignamount: Decimal.optional(),
  creditforeignamount: Decimal.optional(),
  foreignamountunpaid: Decimal.optional(),
  foreignpaymentamountunused: Decimal.optional(),
});

/**
 * The id of what a journal entry leaves on one customer's A/R: `JE:<entry>:<customer>`, the form QuickBooks' rows
 * have (connectors/quickbooks/map.ts journalCreditId), never a NetSuite transaction id (digits only).
 */
export function journalRowId(entryId: string, customerId: string): string {
  return `JE:${entryId}:${customerId}`;
}

/**
 * A journal entry and its posting A/R lines (queries.ts journalLinesQuery) -> what it leaves on each customer's A/R,
 * one row per customer (credit_memos with journal_entry_id, as QuickBooks'): the customer's credit lines less its
 * debit lines in the entry's currency. Above zero it is credit on account; below zero a debit (an opening balance, a
 * charge) kept with a negative total. What remains is NetSuite's own figure per line, summed the same way: a credit
 * line's amount unused less a debit line's amount unpaid (`remainingAtSource`: the ledger stores it as given). A line
 * without a customer cannot be anyone's balance and is skipped; a voided entry leaves nothing (its rows are removed).
 * A line of a live entry whose remaining is missing (NULL) stops the sync, named: Duely does not guess a balance.
 * Multi-Book prints a line once per book: each line counts once.
 */
export function mapJournalEntry(
  raw: SuiteqlRow,
  lines: readonly SuiteqlRow[],
): { read: CanonicalJournalEntryRead; credits: CanonicalCreditMemo[] } {
  return naming(raw, 'journal entry', () => {
    const je = parse(JournalEntryRow, 'journal entry', raw);
    const read = { externalId: je.id, sourceUpdatedAt: clockToInstant(je.lastmodified) };
    if (je.voided === 'T') return { read, credits: [] };
    const money = (v: string | undefined, what: string) =>
      v === undefined ? 0 : abs(amountToMinor(v, je.currency, `journal entry ${je.id} ${what}`));
    const net = new Map<string, { total: number; remaining: number }>();
    const counted = new Set<string>();
    for (const rawLine of lines) {
      const line = parse(JournalLineRow, 'journal entry line', { ...rawLine, id: je.id });
      if (line.entry !== je.id || counted.has(line.line) || !line.entity) continue;
      counted.add(line.line);
      const debit = money(line.debitforeignamount, `line ${line.line} debit`);
      const credit = money(line.creditforeignamount, `line ${line.line} credit`);
      if (debit === credit) continue;
      const open = debit > credit ? line.foreignamountunpaid : line.foreignpaymentamountunused;
      if (open === undefined) {
        throw new ConnectorError({
          code: 'bad_payload',
          message:
            `NetSuite journal entry ${je.id} line ${line.line}: ` +
            `${debit > credit ? 'amount unpaid (foreignamountunpaid)' : 'amount unused (foreignpaymentamountunused)'} ` +
            'missing on a line to Accounts Receivable; Duely does not guess its balance',
        });
      }
      const sign = debit > credit ? -1 : 1;
      const remaining = money(open, `line ${line.line} open amount`);
      const row = net.get(line.entity) ?? { total: 0, remaining: 0 };
      net.set(line.entity, {
        total: row.total + sign * Math.abs(credit - debit),
        remaining: row.remaining + sign * remaining,
      });
    }
    const entry = { externalId: je.id, number: je.tranid || null, remainingAtSource: true };
    const credits = [...net]
      .filter(([, n]) => n.total !== 0 || n.remaining !== 0)
      .map(
        ([customer, n]): CanonicalCreditMemo => ({
          externalId: journalRowId(je.id, customer),
          customerExternalId: customer,
          date: je.trandate,
          currency: je.currency,
          totalMinor: n.total,
          remainingMinor: n.remaining,
          status: 'active',
          journalEntry: entry,
          sourceUpdatedAt: read.sourceUpdatedAt,
        }),
      );
    return { read, credits };
  });
}

const DELETED_JOURNAL = new Set(['journalentry', 'journal']);

/** A DeletedRecord row of a journal entry -> the entry read as gone (its rows are removed); null for other types. */
export function mapJournalDeletion(raw: SuiteqlRow): CanonicalJournalEntryRead | null {
  return naming(raw, 'deleted record', () => {
    const row = parse(DeletedRow, 'deleted record', raw);
    const norm = (v: string | undefined) => (v ?? '').toLowerCase().replace(/\s+/g, '');
    if (!DELETED_JOURNAL.has(norm(row.recordtypeid)) && !DELETED_JOURNAL.has(norm(row.type))) return null;
    if (!/^\d+$/.test(row.recordid)) return null;
    return {
      externalId: row.recordid,
      sourceUpdatedAt: clockToInstant(row.deleteddate),
      sourceVersion: null,
    };
  });
}
