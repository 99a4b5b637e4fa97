/**
 * The SuiteQL this connector sends. Facts it relies on (issue 12, vendor protocol.json, Oracle Records Catalog):
 *  - customer invoices, payments and credit memos are `transaction` rows of type CustInvc, CustPymt, CustCred;
 *  - amounts in the transaction's own currency are the `foreign*` columns (the others are in the subsidiary's base
 *    currency, which may differ): foreigntotal, foreignamountunpaid (the open balance; there is no
 *    foreignamountremaining), foreignpaymentamountunused (a payment's unapplied part);
 *  - `transaction.subsidiary` does not exist: the subsidiary is on the main line (transactionline.mainline = 'T');
 *  - applications are NextTransactionLineLink rows (previousdoc = the invoice, nextdoc = the payment/credit memo,
 *    foreignamount = the amount applied); deletions are DeletedRecord rows;
 *  - dates come back in the user's display format unless converted, so every date is TO_CHAR'ed to ISO;
 *  - a query yields at most 100,000 rows whatever its paging: every listing pages by id (`id > :last ORDER BY id`,
 *    within an id range `id <= :upTo` for a full sync's parallel reads) with offset 0, so each query returns one
 *    page and no query ever reads past the first 1,000 of its results.
 * Only digits (ids), checked timestamps and the checked pay-link field id are interpolated; nothing else comes from
 * outside.
 */
import { ConnectorError } from '../errors';
import type { EntityKind } from '../types';

export type TransactionKind = Exclude<EntityKind, 'customers'>;

export const TRANSACTION_TYPE: Record<TransactionKind, 'CustInvc' | 'CustCred' | 'CustPymt'> = {
  invoices: 'CustInvc',
  creditMemos: 'CustCred',
  payments: 'CustPymt',
};

/** Account-clock timestamp as SuiteQL prints it with TO_CHAR(.., 'YYYY-MM-DD HH24:MI:SS'). */
export const CLOCK_FORMAT = 'YYYY-MM-DD HH24:MI:SS';
const CLOCK = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

export function checkId(id: string): string {
  if (!/^\d{1,18}$/.test(id)) {
    throw new ConnectorError({
      code: 'bad_payload',
      message: `NetSuite id is not numeric: ${JSON.stringify(id)}`,
    });
  }
  return id;
}

/** Whether `value` is an account clock reading as the queries print it (`YYYY-MM-DD HH:MM:SS`). */
export function isClock(value: string): boolean {
  return CLOCK.test(value);
}

export function checkClock(value: string): string {
  if (!isClock(value)) {
    throw new ConnectorError({
      code: 'bad_payload',
      message: `NetSuite timestamp unreadable: ${JSON.stringify(value)}`,
    });
  }
  return value;
}

const since = (column: string, clock: string) =>
  `${column} >= TO_TIMESTAMP('${checkClock(clock)}', '${CLOCK_FORMAT}')`;

/** The account's clock, in its own time zone (the same one lastmodifieddate and deleteddate use). */
export const ACCOUNT_CLOCK_QUERY = `SELECT TO_CHAR(SYSDATE, '${CLOCK_FORMAT}') AS now FROM DUAL`;

/**
 * Fallback when the account rejects the clock query (DUAL/SYSDATE support in SuiteQL is not documented by Oracle;
 * unverified): the latest lastmodifieddate of any transaction. It can only lag the clock, so polling from it
 * re-reads more, never less.
 */
export const HIGH_WATER_QUERY = `SELECT TO_CHAR(MAX(t.lastmodifieddate), '${CLOCK_FORMAT}') AS now FROM transaction t`;

export interface KeysetFilter {
  afterId: string | null;
  /** Only ids up to this one (inclusive): one id range of a full sync read in parallel. */
  upToId?: string;
  /** Only rows modified at or after this account-clock time. */
  modifiedSince?: string;
  /** Only these ids. */
  ids?: readonly string[];
  /** Invoices linked to payments/credit memos modified at or after this time (applications changed). */
  applicationsChangedSince?: string;
  /** Invoices with an open balance. */
  openOnly?: boolean;
  /** Payments and credit memos with something left unapplied (a payment's amount unused, a credit's unpaid). */
  unappliedOnly?: boolean;
  /** Only transactions of these customers. */
  entities?: readonly string[];
  /**
   * Invoices of the customers in these drift buckets (`MOD(entity, DRIFT_BUCKETS)`), open or closed on or after
   * `closedSince` (a date): where open balances moved without a change the round could attribute.
   */
  drift?: { buckets: readonly number[]; closedSince: string };
}

/** Customers are hashed into this many buckets for the open-balance checksum (`openSumsQuery`). */
export const DRIFT_BUCKETS = 256;

function where(conditions: string[]): string {
  return conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
}

export function customersQuery(filter: KeysetFilter): string {
  const conditions: string[] = [];
  if (filter.afterId !== null) conditions.push(`c.id > ${checkId(filter.afterId)}`);
  if (filter.upToId !== undefined) conditions.push(`c.id <= ${checkId(filter.upToId)}`);
  if (filter.modifiedSince) conditions.push(since('c.lastmodifieddate', filter.modifiedSince));
  if (filter.ids) conditions.push(`c.id IN (${filter.ids.map(checkId).join(', ')})`);
  return (
    'SELECT c.id, c.entityid, c.companyname, c.altname, c.isperson, c.firstname, c.lastname, c.email, ' +
    `c.isinactive, cur.symbol AS currency, c.subsidiary, TO_CHAR(c.lastmodifieddate, '${CLOCK_FORMAT}') AS lastmodified ` +
    `FROM customer c LEFT JOIN currency cur ON cur.id = c.currency${where(conditions)} ORDER BY c.id`
  );
}

/** A custom body field id (config.ts NETSUITE_PAY_LINK_FIELD); checked again here since it is interpolated. */
const CUSTOM_BODY_FIELD = /^custbody[a-z0-9_]{1,90}$/;

export function checkPayLinkField(field: string): string {
  if (!CUSTOM_BODY_FIELD.test(field)) {
    throw new ConnectorError({
      code: 'validation',
      message: `Not a NetSuite custom body field id: ${JSON.stringify(field)}`,
    });
  }
  return field;
}

export interface TransactionColumns {
  /** Custom body field with the invoice's pay link, selected `AS paylink` when invoices are read. */
  payLinkField?: string;
}

export function transactionsQuery(
  kinds: readonly TransactionKind[],
  filter: KeysetFilter,
  columns: TransactionColumns = {},
): string {
  const payLink =
    columns.payLinkField && kinds.includes('invoices')
      ? `t.${checkPayLinkField(columns.payLinkField)} AS paylink, `
      : '';
  const types = kinds.map((k) => `'${TRANSACTION_TYPE[k]}'`).join(', ');
  const conditions = [`t.type IN (${types})`];
  if (filter.afterId !== null) conditions.push(`t.id > ${checkId(filter.afterId)}`);
  if (filter.upToId !== undefined) conditions.push(`t.id <= ${checkId(filter.upToId)}`);
  if (filter.modifiedSince) conditions.push(since('t.lastmodifieddate', filter.modifiedSince));
  if (filter.ids) conditions.push(`t.id IN (${filter.ids.map(checkId).join(', ')})`);
  if (filter.openOnly) conditions.push(`t.foreignamountunpaid <> 0`, `t.voided = 'F'`);
  if (filter.unappliedOnly)
    conditions.push(`(t.foreignamountunpaid <> 0 OR t.foreignpaymentamountunused <> 0)`, `t.voided = 'F'`);
  if (filter.entities) conditions.push(`t.entity IN (${filter.entities.map(checkId).join(', ')})`);
  if (filter.drift) {
    const buckets = filter.drift.buckets.map((b) => {
      if (!Number.isInteger(b) || b < 0 || b >= DRIFT_BUCKETS) throw new RangeError(`bad drift bucket ${b}`);
      return String(b);
    });
    const day = checkClock(`${filter.drift.closedSince} 00:00:00`).slice(0, 10);
    conditions.push(
      `MOD(t.entity, ${DRIFT_BUCKETS}) IN (${buckets.join(', ')})`,
      `t.voided = 'F'`,
      `(t.foreignamountunpaid <> 0 OR t.closedate >= TO_DATE('${day}', 'YYYY-MM-DD'))`,
    );
  }
  if (filter.applicationsChangedSince) {
    conditions.push(
      't.id IN (SELECT l.previousdoc FROM NextTransactionLineLink l JOIN transaction p ON p.id = l.nextdoc ' +
        `WHERE p.type IN ('CustPymt', 'CustCred', 'DepAppl') AND ${since('p.lastmodifieddate', filter.applicationsChangedSince)})`,
    );
  }
  return (
    `SELECT t.id, t.type, t.tranid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, ` +
    `TO_CHAR(t.duedate, 'YYYY-MM-DD') AS duedate, TO_CHAR(t.closedate, 'YYYY-MM-DD') AS closedate, t.entity, ` +
    'cur.symbol AS currency, t.foreigntotal, t.foreignamountunpaid, t.foreignpaymentamountunused, t.voided, ' +
    `t.status, t.email, ${payLink}tl.subsidiary, TO_CHAR(t.lastmodifieddate, '${CLOCK_FORMAT}') AS lastmodified ` +
    "FROM transaction t JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T' " +
    `JOIN currency cur ON cur.id = t.currency${where(conditions)} ORDER BY t.id`
  );
}

/**
 * How many rows of a kind lie after `afterId`, and their lowest and highest id: a full sync splits that id span
 * into ranges of about a page each and reads several ranges at once (resources.ts). Answer: {n, lo, hi}.
 */
export function idSpanQuery(kind: EntityKind, afterId: string | null): string {
  if (kind === 'customers') {
    const after = afterId === null ? '' : ` WHERE c.id > ${checkId(afterId)}`;
    return `SELECT COUNT(*) AS n, MIN(c.id) AS lo, MAX(c.id) AS hi FROM customer c${after}`;
  }
  const after = afterId === null ? '' : ` AND t.id > ${checkId(afterId)}`;
  return (
    'SELECT COUNT(*) AS n, MIN(t.id) AS lo, MAX(t.id) AS hi FROM transaction t ' +
    `WHERE t.type = '${TRANSACTION_TYPE[kind as TransactionKind]}'${after}`
  );
}

/**
 * Customers whose deposit applications (a customer deposit applied to invoices) changed at or after `sinceClock`: an
 * edit that un-applies an invoice leaves no link to find that invoice by, as with payments, so their open invoices
 * are read again. Deposit applications themselves are not synced.
 */
export function depositApplicationCustomersQuery(sinceClock: string): string {
  return (
    "SELECT DISTINCT t.entity FROM transaction t WHERE t.type IN ('DepAppl') AND " +
    `${since('t.lastmodifieddate', sinceClock)} ORDER BY t.entity`
  );
}

/**
 * The open-balance checksum: per bucket of customers (`MOD(entity, DRIFT_BUCKETS)`), how many invoices are open,
 * their amounts unpaid summed, and summed weighted by customer id (money moved between two customers of one bucket
 * still changes it). Compared round to round, it finds balances that moved with no change a round can attribute:
 * a payment moved to another customer, a journal applied, anything whose only trace is the invoice's amount unpaid
 * (its lastmodifieddate does not move). A checksum, not money: currencies are summed together.
 */
export const OPEN_SUMS_QUERY =
  `SELECT MOD(t.entity, ${DRIFT_BUCKETS}) AS bucket, COUNT(*) AS n, SUM(t.foreignamountunpaid) AS unpaid, ` +
  'SUM(t.foreignamountunpaid * t.entity) AS weighted FROM transaction t ' +
  "WHERE t.type = 'CustInvc' AND t.voided = 'F' AND t.foreignamountunpaid <> 0 " +
  `GROUP BY MOD(t.entity, ${DRIFT_BUCKETS}) ORDER BY bucket`;

/** Applications of these payments to invoices (amounts in the payment's currency, which is the invoice's). */
export function applicationsQuery(paymentIds: readonly string[]): string {
  return (
    'SELECT l.nextdoc AS payment, l.previousdoc AS invoice, l.foreignamount FROM NextTransactionLineLink l ' +
    `WHERE l.nextdoc IN (${paymentIds.map(checkId).join(', ')}) AND l.previoustype = 'CustInvc' ` +
    'ORDER BY l.nextdoc, l.previousdoc'
  );
}

/** Records deleted at or after `sinceClock` (every type; the mapper keeps the four we sync). */
export function deletionsQuery(sinceClock: string): string {
  return (
    `SELECT d.recordid, d.recordtypeid, d.type, TO_CHAR(d.deleteddate, '${CLOCK_FORMAT}') AS deleteddate ` +
    `FROM DeletedRecord d WHERE ${since('d.deleteddate', sinceClock)} ORDER BY d.deleteddate, d.recordid`
  );
}

/**
 * Journal entries' lines on Accounts Receivable (the only journal lines that move a customer's balance). What is
 * verified and what is assumed (see README, NetSuite, "Journal entries to A/R"):
 *  - a journal entry is a `transaction` of type 'Journal' with one currency (`t.currency`); its lines are
 *    `transactionline` rows (`tl.transaction`), the customer on the line's `entity`;
 *  - `transactionline.debitforeignamount` / `creditforeignamount` are the line's debit / credit in the transaction's
 *    currency (Records Catalog labels "Amount (Debit|Credit) (Transaction Currency)", as CData's SuiteQL table
 *    reference prints them);
 *  - what remains of a line is stated per line (Prolecto, "SQL A/R and A/P fields", 2023): `foreignamountunpaid` on a
 *    line debiting A/R, `foreignpaymentamountunused` on a line crediting it, both in the transaction's currency;
 *  - `transactionaccountingline` has `account`, `posting` and one row per accounting book (CData's reference): rows
 *    repeat under Multi-Book, the mapper keeps one per line; A/R accounts have `account.accttype = 'AcctRec'` (the
 *    type SuiteQL prints, as `Bank` in the vendor's account sample); a journal pending approval has no posting line.
 * The join: `transactionline`'s key is (`id`, `transaction`), and an accounting line names its line by
 * `tal.transactionline` = `tl.id` within the same `transaction` (NetSuite Diagnostics, "SuiteQL: Transaction
 * Accounting Line", which joins on both columns as here).
 * Assumed, unverified against a live account: the sign of the unpaid/unused columns (abs is taken), and that a fully
 * settled line prints 0 rather than NULL (NULL on an A/R line of a live entry stops the sync, named).
 */
export const JOURNAL_TYPE = 'Journal';

const RECEIVABLE_ENTRIES =
  'SELECT tal.transaction FROM transactionaccountingline tal JOIN account a ON a.id = tal.account ' +
  "WHERE a.accttype = 'AcctRec' AND tal.posting = 'T'";

export interface JournalFilter {
  afterId: string | null;
  upToId?: string;
  modifiedSince?: string;
  ids?: readonly string[];
  /** Only entries with a posting line on an A/R account (a full read; a poll reads every entry changed). */
  receivableOnly?: boolean;
  /**
   * Entries whose lines a payment or credit modified at or after this time applied to or paid (NextTransactionLineLink
   * previoustype 'Journal'): paying a journal's debit moves the line's amount unpaid, not the entry's lastmodifieddate.
   */
  linkedSince?: string;
  /** Entries with an A/R line still open (amount unpaid or unused not 0). */
  openOnly?: boolean;
}

/** Journal entries (one row each: the header; their A/R lines come from journalLinesQuery), by id. */
export function journalEntriesQuery(filter: JournalFilter): string {
  const conditions = [`t.type = '${JOURNAL_TYPE}'`];
  if (filter.afterId !== null) conditions.push(`t.id > ${checkId(filter.afterId)}`);
  if (filter.upToId !== undefined) conditions.push(`t.id <= ${checkId(filter.upToId)}`);
  if (filter.modifiedSince) conditions.push(since('t.lastmodifieddate', filter.modifiedSince));
  if (filter.ids) conditions.push(`t.id IN (${filter.ids.map(checkId).join(', ')})`);
  if (filter.receivableOnly) conditions.push(`t.id IN (${RECEIVABLE_ENTRIES})`);
  if (filter.linkedSince) {
    conditions.push(
      't.id IN (SELECT l.previousdoc FROM NextTransactionLineLink l JOIN transaction p ON p.id = l.nextdoc ' +
        `WHERE l.previoustype = '${JOURNAL_TYPE}' AND ${since('p.lastmodifieddate', filter.linkedSince)})`,
    );
  }
  if (filter.openOnly) {
    conditions.push(
      't.id IN (SELECT tl.transaction FROM transactionline tl WHERE ' +
        '(tl.foreignamountunpaid <> 0 OR tl.foreignpaymentamountunused <> 0))',
      `t.id IN (${RECEIVABLE_ENTRIES})`,
    );
  }
  return (
    "SELECT t.id, t.type, t.tranid, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, cur.symbol AS currency, " +
    `t.voided, TO_CHAR(t.lastmodifieddate, '${CLOCK_FORMAT}') AS lastmodified ` +
    `FROM transaction t JOIN currency cur ON cur.id = t.currency${where(conditions)} ORDER BY t.id`
  );
}

/** The posting A/R lines of these journal entries, with what remains of each (see above). */
export function journalLinesQuery(entryIds: readonly string[]): string {
  return (
    'SELECT tl.transaction AS entry, tl.id AS line, tl.entity, tl.debitforeignamount, tl.creditforeignamount, ' +
    'tl.foreignamountunpaid, tl.foreignpaymentamountunused FROM transactionline tl ' +
    'JOIN transactionaccountingline tal ON tal.transaction = tl.transaction AND tal.transactionline = tl.id ' +
    `JOIN account a ON a.id = tal.account WHERE tl.transaction IN (${entryIds.map(checkId).join(', ')}) ` +
    "AND a.accttype = 'AcctRec' AND tal.posting = 'T' ORDER BY tl.transaction, tl.id"
  );
}

/** journalEntries' id span for a full sync's ranges (entries with an A/R line only), as idSpanQuery. */
export function journalSpanQuery(afterId: string | null): string {
  const after = afterId === null ? '' : ` AND t.id > ${checkId(afterId)}`;
  return (
    'SELECT COUNT(*) AS n, MIN(t.id) AS lo, MAX(t.id) AS hi FROM transaction t ' +
    `WHERE t.type = '${JOURNAL_TYPE}' AND t.id IN (${RECEIVABLE_ENTRIES})${after}`
  );
}
