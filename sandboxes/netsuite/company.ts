/**
 * A generated NetSuite OneWorld company held in memory: subsidiaries with their base currencies, customers,
 * invoices, payments (partial and across several invoices), credit memos and their applications, voids and
 * deletions, and a clock that moves on. It behaves as the connector expects NetSuite to:
 *  - amounts are kept in integer minor units of the transaction's currency and printed as decimal strings;
 *  - applying, un-applying or deleting a payment changes the payment only: the invoice's lastmodifieddate does
 *    NOT move (issue 12: do not rely on it), while its amount unpaid does;
 *  - a void zeroes the transaction and drops its applications; a deletion removes it and leaves a DeletedRecord;
 *  - an invoice under approval routing (Pending Approval, or Rejected) does not post: no payment can be applied to
 *    it; approving it is an edit of the invoice (its lastmodifieddate moves) and it becomes Open;
 *  - a journal entry has lines on accounts; a line on an A/R account names a customer and keeps what remains of it
 *    (amount unpaid of a debit, amount unused of a credit). Paying a debit line, or applying a credit line to an
 *    invoice through a (zero) payment, links the line to the payment (previoustype 'Journal') and modifies the
 *    payment only: the entry's lastmodifieddate does not move.
 * This is a dev tool for the demo and tests, not part of the connector.
 */
import { fromMinor } from '../../connectors/money';

/** DepAppl: a customer deposit applied to invoices (not synced itself; its applications move invoices' balances). */
export type TxnType = 'CustInvc' | 'CustPymt' | 'CustCred' | 'DepAppl' | 'Journal';

export interface Subsidiary {
  id: number;
  name: string;
  parent: number | null;
  currency: string;
}

export interface Customer {
  id: number;
  companyname: string;
  email: string;
  currency: string;
  subsidiary: number;
  lastmodified: string;
}

export interface Txn {
  id: number;
  type: TxnType;
  tranid: string;
  trandate: string;
  duedate: string | null;
  entity: number;
  currency: string;
  subsidiary: number;
  /** Positive minor units (credit memos are printed negative, as NetSuite signs credits). */
  totalMinor: number;
  voided: boolean;
  lastmodified: string;
  closedate: string | null;
  /** Custom body fields set on the record (NetsuiteCompany.customBodyFields names the ones the account defines). */
  custom: Record<string, string>;
  /**
   * An invoice under approval routing: Pending Approval (status E) or Rejected (D). Either is non-posting (no A/R,
   * not in the customer payment queue) until approved; absent: approved, or never routed.
   */
  approval?: 'pending' | 'rejected';
  /** A journal entry's lines. */
  lines?: JournalLine[];
}

/** A journal entry's line: a debit or a credit (minor units of the entry's currency) to an account. */
export interface JournalLine {
  line: number;
  account: number;
  /** The customer (a line on A/R names one). */
  entity: number | null;
  debitMinor: number;
  creditMinor: number;
}

/** A journal entry's lines as the test or demo writes them → the stand-in's lines, numbered in order. */
type JournalInput = Array<{ account: number; customer?: Customer; debit?: number; credit?: number }>;
function journalLines(lines: JournalInput): JournalLine[] {
  return lines.map((l, i) => ({
    line: i,
    account: l.account,
    entity: l.customer?.id ?? null,
    debitMinor: l.debit ?? 0,
    creditMinor: l.credit ?? 0,
  }));
}

export interface Link {
  /** The invoice, or a journal entry whose line (previousline) the payment paid or applied. */
  previousdoc: number;
  /** The payment or credit memo (or a journal entry whose credit line `nextline` was applied to the invoice). */
  nextdoc: number;
  amountMinor: number;
  previousline?: number;
  nextline?: number;
}

/** The chart of accounts' part the stand-in needs: A/R accounts (accttype AcctRec) and others. */
export const ACCOUNTS = [
  { id: 119, accttype: 'AcctRec', name: '1200 Accounts Receivable' },
  { id: 120, accttype: 'AcctRec', name: '1210 A/R - Intercompany' },
  { id: 600, accttype: 'Expense', name: '6600 Bad Debt' },
  { id: 210, accttype: 'AcctPay', name: '2000 Accounts Payable' },
  { id: 300, accttype: 'Equity', name: '3000 Opening Balance' },
] as const;
export const AR_ACCOUNT = 119;
const RECEIVABLE = new Set<number>(ACCOUNTS.filter((a) => a.accttype === 'AcctRec').map((a) => a.id));
export const isReceivable = (account: number) => RECEIVABLE.has(account);

export interface DeletedRecord {
  recordid: number;
  recordtypeid: string;
  deleteddate: string;
}

export const CURRENCIES = [
  { id: 1, symbol: 'USD' },
  { id: 2, symbol: 'CAD' },
  { id: 3, symbol: 'EUR' },
  { id: 4, symbol: 'JPY' },
] as const;

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number) => String(n).padStart(2, '0');
function clockOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(
    d.getUTCMinutes(),
  )}:${pad(d.getUTCSeconds())}`;
}

export class NetsuiteCompany {
  readonly subsidiaries: Subsidiary[] = [
    { id: 1, name: 'Duely Demo Holdings Inc.', parent: null, currency: 'USD' },
    { id: 2, name: 'Duely Demo Canada Ltd.', parent: 1, currency: 'CAD' },
    { id: 3, name: 'Duely Demo GmbH', parent: 1, currency: 'EUR' },
    { id: 4, name: 'Duely Demo K.K.', parent: 1, currency: 'JPY' },
  ];
  readonly customers = new Map<number, Customer>();
  readonly txns = new Map<number, Txn>();
  links: Link[] = [];
  readonly deleted: DeletedRecord[] = [];
  /**
   * Custom body fields the account defines (SuiteQL refuses others). A payment-link SuiteApp keeps each invoice's
   * customer-facing pay link in custbody_duely_paylink; most invoices have one (every fifth id has none).
   */
  readonly customBodyFields = new Set(['custbody_duely_paylink']);
  /** Account clock in ms (wall time of the account, handled as UTC). */
  private nowMs: number;
  private nextId = 100;
  private readonly random: () => number;

  constructor(options: { seed?: number; start?: string } = {}) {
    this.random = rng(options.seed ?? 42);
    this.nowMs = Date.parse(`${options.start ?? '2026-04-01 08:00:00'}Z`.replace(' ', 'T'));
  }

  get clock(): string {
    return clockOf(this.nowMs);
  }
  /**
   * Minutes SYSDATE runs ahead of the zone lastmodifieddate and deleteddate are printed in (0: the same zone, what
   * the connector assumes; whether real NetSuite does is not documented). Tests set it to check polling survives.
   */
  sysdateSkewMinutes = 0;
  /**
   * Transactions whose amount unpaid SuiteQL prints as NULL (the column left out of the row, as SuiteQL does with
   * every NULL). Whether and when real NetSuite does is not documented; tests set it to check nothing reads it as 0.
   */
  readonly nullUnpaid = new Set<number>();
  /** Accounting books (Multi-Book): each prints every accounting line once more. */
  accountingBooks = 1;
  /** What `SELECT SYSDATE FROM DUAL` answers. */
  get sysdate(): string {
    return clockOf(this.nowMs + this.sysdateSkewMinutes * 60_000);
  }
  /** The account clock as an instant (its wall time read as UTC, as Duely stores every NetSuite time). */
  get now(): Date {
    return new Date(this.nowMs);
  }
  get today(): string {
    return this.clock.slice(0, 10);
  }

  /** Moves the account clock on (a second per change keeps lastmodifieddates distinct and ordered). */
  advance(minutes: number): void {
    this.nowMs += minutes * 60_000;
  }
  private tick(): string {
    this.nowMs += 1000;
    return this.clock;
  }

  private id(): number {
    this.nextId += 1 + Math.floor(this.random() * 3);
    return this.nextId;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  addCustomer(subsidiary: number, currency?: string): Customer {
    const sub = this.subsidiaries.find((s) => s.id === subsidiary);
    if (!sub) throw new Error(`no subsidiary ${subsidiary}`);
    const id = this.id();
    const c: Customer = {
      id,
      companyname: `Customer ${id} (${sub.name.split(' ').at(-1)})`,
      email: `ap${id}@example.com`,
      currency: currency ?? sub.currency,
      subsidiary,
      lastmodified: this.tick(),
    };
    this.customers.set(id, c);
    return c;
  }

  private addTxn(type: TxnType, customer: Customer, totalMinor: number, dueDays: number | null): Txn {
    const id = this.id();
    const prefix = { CustInvc: 'INV', CustPymt: 'PYMT', CustCred: 'CM', DepAppl: 'DEPAPPL', Journal: 'JE' }[
      type
    ];
    const due =
      dueDays === null ? null : new Date(Date.parse(`${this.today}T00:00:00Z`) + dueDays * 86_400_000);
    const t: Txn = {
      id,
      type,
      tranid: `${prefix}${id}`,
      trandate: this.today,
      duedate: due ? due.toISOString().slice(0, 10) : null,
      entity: customer.id,
      currency: customer.currency,
      subsidiary: customer.subsidiary,
      totalMinor,
      voided: false,
      lastmodified: this.tick(),
      closedate: null,
      custom:
        type === 'CustInvc' && id % 5 !== 0
          ? { custbody_duely_paylink: `https://pay.example.com/netsuite/inv/${id}` }
          : {},
    };
    this.txns.set(id, t);
    return t;
  }

  addInvoice(customer: Customer, totalMinor: number, dueDays = 30): Txn {
    return this.addTxn('CustInvc', customer, totalMinor, dueDays);
  }

  /** An invoice the approval workflow routed for approval: Pending Approval (E), not posted. */
  addInvoicePendingApproval(customer: Customer, totalMinor: number, dueDays = 30): Txn {
    const t = this.addTxn('CustInvc', customer, totalMinor, dueDays);
    t.approval = 'pending';
    return t;
  }

  /** The approver approves (the invoice posts: Open) or rejects (Rejected, still not posted): an edit of the invoice. */
  decideApproval(id: number, decision: 'approve' | 'reject'): void {
    const t = this.txns.get(id);
    if (t?.type !== 'CustInvc' || t.approval !== 'pending')
      throw new Error(`no invoice ${id} pending approval`);
    if (decision === 'approve') delete t.approval;
    else t.approval = 'rejected';
    t.lastmodified = this.tick();
  }

  /** A payment applied to invoices (amounts in minor units); anything not applied stays unapplied. */
  addPayment(
    customer: Customer,
    totalMinor: number,
    applications: Array<{ invoice: number; amountMinor: number }>,
  ): Txn {
    const p = this.addTxn('CustPymt', customer, totalMinor, null);
    for (const a of applications) this.apply(p.id, a.invoice, a.amountMinor);
    return p;
  }

  /** A customer deposit applied to invoices: a deposit application of exactly the amounts applied. */
  addDepositApplication(
    customer: Customer,
    applications: Array<{ invoice: number; amountMinor: number }>,
  ): Txn {
    const total = applications.reduce((sum, a) => sum + a.amountMinor, 0);
    const d = this.addTxn('DepAppl', customer, total, null);
    for (const a of applications) this.apply(d.id, a.invoice, a.amountMinor);
    return d;
  }

  /**
   * A journal entry crediting the customer's A/R, applied to invoices (a write-off or a correction keyed as a
   * journal). Not synced, and it touches no payment, credit memo or deposit application: only the invoices' amount
   * unpaid shows it.
   */
  addJournalCredit(customer: Customer, applications: Array<{ invoice: number; amountMinor: number }>): Txn {
    const total = applications.reduce((sum, a) => sum + a.amountMinor, 0);
    const j = this.addJournal(customer.currency, [
      { account: 600, debit: total },
      { account: AR_ACCOUNT, customer, credit: total },
    ]);
    for (const a of applications) this.apply(j.id, a.invoice, a.amountMinor);
    return j;
  }

  /**
   * A journal entry in `currency` (its lines balanced, or not: the stand-in does not check) with lines on accounts;
   * lines on A/R name the customer. The header's entity is the first customer named (NetSuite's is empty).
   */
  addJournal(currency: string, lines: JournalInput): Txn {
    const first = lines.find((l) => l.customer)?.customer;
    const holder = { ...(first ?? ([...this.customers.values()][0] as Customer)), currency };
    const j = this.addTxn(
      'Journal',
      holder,
      lines.reduce((sum, l) => sum + (l.debit ?? 0), 0),
      null,
    );
    j.entity = first?.id ?? 0;
    j.lines = journalLines(lines);
    return j;
  }

  /** Edits a journal entry's lines (an edit of the entry: its lastmodifieddate moves). Links to lines gone drop. */
  editJournal(id: number, lines: JournalInput) {
    const j = this.txns.get(id);
    if (j?.type !== 'Journal') throw new Error(`no journal entry ${id}`);
    j.lines = journalLines(lines);
    j.totalMinor = lines.reduce((sum, l) => sum + (l.debit ?? 0), 0);
    this.links = this.links.filter(
      (l) =>
        !(l.previousdoc === id && (l.previousline ?? 0) >= lines.length) &&
        !(l.nextdoc === id && (l.nextline ?? 0) >= lines.length),
    );
    j.lastmodified = this.tick();
  }

  /** What remains of a journal line on A/R: a debit's amount unpaid, a credit's amount unused (0 once voided). */
  journalOpen(j: Txn, line: JournalLine): number {
    if (j.voided) return 0;
    const { journal } = this.appliedSums();
    const used = journal.get(`${j.id}:${line.line}`) ?? 0;
    return line.debitMinor > 0 ? line.debitMinor - used : line.creditMinor - used;
  }

  /**
   * A payment (of `totalMinor`, applied to `invoices`) that also pays journal debit lines and applies journal credit
   * lines (to the invoices: what the credits cover of them is not cash). As NetSuite's payment form: total = invoices
   * + debits paid - credits applied. Only the payment is modified.
   */
  addJournalPayment(
    customer: Customer,
    totalMinor: number,
    options: {
      invoices?: Array<{ invoice: number; amountMinor: number }>;
      journals: Array<{ journal: number; line: number; amountMinor: number }>;
    },
  ): Txn {
    const p = this.addTxn('CustPymt', customer, totalMinor, null);
    for (const a of options.invoices ?? []) {
      const inv = this.txns.get(a.invoice);
      if (inv?.type !== 'CustInvc' || a.amountMinor > this.unpaid(inv)) throw new Error('bad application');
      this.links.push({ previousdoc: a.invoice, nextdoc: p.id, amountMinor: a.amountMinor });
      if (this.unpaid(inv) === 0) inv.closedate = this.today;
    }
    for (const a of options.journals) {
      const j = this.txns.get(a.journal);
      const line = j?.lines?.[a.line];
      if (!j || !line || j.voided || !isReceivable(line.account) || line.entity !== customer.id)
        throw new Error('bad journal application');
      if (j.currency !== p.currency) throw new Error('NetSuite applies only within one currency');
      if (a.amountMinor <= 0 || a.amountMinor > this.journalOpen(j, line))
        throw new Error(`journal application of ${a.amountMinor} does not fit`);
      this.links.push({
        previousdoc: a.journal,
        previousline: a.line,
        nextdoc: p.id,
        amountMinor: a.amountMinor,
      });
    }
    if (this.unused(p) < 0) throw new Error('payment total below what it applies');
    p.lastmodified = this.tick();
    return p;
  }

  addCreditMemo(customer: Customer, totalMinor: number): Txn {
    return this.addTxn('CustCred', customer, totalMinor, null);
  }

  /** Applies part of a payment or credit memo to an invoice. Touches the payment/credit memo only. */
  apply(nextdoc: number, invoice: number, amountMinor: number): void {
    const from = this.txns.get(nextdoc);
    const inv = this.txns.get(invoice);
    if (!from || !inv || inv.type !== 'CustInvc' || from.voided || inv.voided || inv.approval)
      throw new Error('bad application');
    if (from.currency !== inv.currency) throw new Error('NetSuite applies only within one currency');
    if (amountMinor <= 0 || amountMinor > this.unpaid(inv) || amountMinor > this.unused(from)) {
      throw new Error(`application of ${amountMinor} does not fit`);
    }
    const nextline = from.type === 'Journal' ? from.lines?.findIndex((l) => l.creditMinor > 0) : undefined;
    this.links.push({
      previousdoc: invoice,
      nextdoc: nextdoc,
      amountMinor,
      ...(nextline === undefined ? {} : { nextline }),
    });
    from.lastmodified = this.tick();
    if (this.unpaid(inv) === 0) inv.closedate = this.today;
  }

  /**
   * A payment entered on the wrong customer moved to the right one: its applications (to the first customer's
   * invoices and journal lines) are dropped, its money is the new customer's, unapplied. Only the payment is modified.
   */
  movePayment(id: number, to: Customer): void {
    const p = this.txns.get(id);
    if (p?.type !== 'CustPymt') throw new Error(`no payment ${id}`);
    for (const l of this.links) {
      const inv = l.nextdoc === id ? this.txns.get(l.previousdoc) : undefined;
      if (inv?.type === 'CustInvc') inv.closedate = null;
    }
    this.links = this.links.filter((l) => l.nextdoc !== id);
    p.entity = to.id;
    p.lastmodified = this.tick();
  }

  /** Removes every application of a payment/credit memo to an invoice (edit the payment, uncheck the line). */
  unapply(nextdoc: number, invoice: number): void {
    this.links = this.links.filter((l) => !(l.nextdoc === nextdoc && l.previousdoc === invoice));
    const from = this.txns.get(nextdoc);
    if (from) from.lastmodified = this.tick();
    const inv = this.txns.get(invoice);
    if (inv) inv.closedate = null;
  }

  /** Void: amounts to zero, applications dropped. The voided transaction is modified; linked invoices are not. */
  void(id: number): void {
    const t = this.txns.get(id);
    if (!t) throw new Error(`no transaction ${id}`);
    for (const l of this.links) {
      if (l.nextdoc === id || l.previousdoc === id) {
        const inv = this.txns.get(l.previousdoc);
        if (inv) inv.closedate = null;
      }
    }
    this.links = this.links.filter((l) => l.nextdoc !== id && l.previousdoc !== id);
    t.voided = true;
    t.totalMinor = 0;
    t.lastmodified = this.tick();
  }

  delete(id: number): void {
    const t = this.txns.get(id);
    if (!t) throw new Error(`no transaction ${id}`);
    for (const l of this.links) {
      if (l.nextdoc === id) {
        const inv = this.txns.get(l.previousdoc);
        if (inv) inv.closedate = null;
      }
    }
    this.links = this.links.filter((l) => l.nextdoc !== id && l.previousdoc !== id);
    this.txns.delete(id);
    const recordtypeid =
      t.type === 'CustInvc'
        ? 'invoice'
        : t.type === 'CustPymt'
          ? 'customerpayment'
          : t.type === 'Journal'
            ? 'journalentry'
            : 'creditmemo';
    this.deleted.push({ recordid: id, recordtypeid, deleteddate: this.tick() });
  }

  /**
   * Duplicate resolution's merge: every transaction of `from` moves to `into` and `from` is deleted (a DeletedRecord
   * row). Whether the moved transactions' lastmodifieddate moves is not documented: the stand-in takes the case
   * that hides the move (it does not), as for applications.
   */
  mergeCustomer(from: number, into: number): void {
    if (!this.customers.has(from) || !this.customers.has(into)) throw new Error('no such customer');
    for (const t of this.txns.values()) {
      if (t.entity === from) t.entity = into;
      // A journal entry names its customers per line: the merged customer's A/R lines move too.
      for (const line of t.lines ?? []) if (line.entity === from) line.entity = into;
    }
    this.customers.delete(from);
    this.deleted.push({ recordid: from, recordtypeid: 'customer', deleteddate: this.tick() });
  }

  /** Invoice amount unpaid (credit memo: credit left) in minor units. */
  unpaid(t: Txn): number {
    if (t.voided) return 0;
    if (t.type === 'CustInvc') return t.totalMinor - (this.appliedSums().to.get(t.id) ?? 0);
    return this.unused(t);
  }

  /** What a payment or credit memo has not applied yet (a journal credit a payment applied is money it gained). */
  unused(t: Txn): number {
    if (t.voided) return 0;
    if (t.type === 'Journal') {
      const credit = t.lines?.find((l) => l.creditMinor > 0);
      return credit ? this.journalOpen(t, credit) : 0;
    }
    return t.totalMinor - (this.appliedSums().from.get(t.id) ?? 0);
  }

  /**
   * Applied amounts per invoice (`to`) and per payment/credit memo (`from`), rebuilt only when `links` changed
   * (appended to, or replaced by a filter). Serving a SuiteQL page reads every row's amount unpaid: summing the links
   * per row made the stand-in, not the connector, the bottleneck of a large sync (quadratic in the ledger).
   */
  private appliedSums(): {
    to: Map<number, number>;
    from: Map<number, number>;
    journal: Map<string, number>;
  } {
    const memo = this.sumsMemo;
    if (memo && memo.links === this.links && memo.length === this.links.length) return memo;
    const to = new Map<number, number>();
    const from = new Map<number, number>();
    const journal = new Map<string, number>();
    const add = <K>(m: Map<K, number>, k: K, n: number) => m.set(k, (m.get(k) ?? 0) + n);
    for (const l of this.links) {
      if (l.previousline !== undefined) {
        // A journal line the payment paid (debit: the payment spends on it) or applied (credit: the payment gains).
        const j = this.txns.get(l.previousdoc);
        const credit = (j?.lines?.[l.previousline]?.creditMinor ?? 0) > 0;
        add(journal, `${l.previousdoc}:${l.previousline}`, l.amountMinor);
        add(from, l.nextdoc, credit ? -l.amountMinor : l.amountMinor);
        continue;
      }
      add(to, l.previousdoc, l.amountMinor);
      add(from, l.nextdoc, l.amountMinor);
      if (l.nextline !== undefined) add(journal, `${l.nextdoc}:${l.nextline}`, l.amountMinor);
    }
    this.sumsMemo = { links: this.links, length: this.links.length, to, from, journal };
    return this.sumsMemo;
  }

  private sumsMemo: {
    links: Link[];
    length: number;
    to: Map<number, number>;
    from: Map<number, number>;
    journal: Map<string, number>;
  } | null = null;

  /**
   * Customer balances as NetSuite shows them, per customer and currency: open invoices plus journal debits unpaid,
   * less payments' and credit memos' unapplied amounts and journal credits unused (in minor units).
   */
  customerBalances(): Map<string, number> {
    const out = new Map<string, number>();
    const add = (customer: number, currency: string, n: number) => {
      const k = `${customer}:${currency}`;
      out.set(k, (out.get(k) ?? 0) + n);
    };
    for (const t of this.txns.values()) {
      if (t.voided) continue;
      if (t.type === 'CustInvc' && !t.approval) add(t.entity, t.currency, this.unpaid(t));
      else if (t.type === 'CustPymt' || t.type === 'CustCred') add(t.entity, t.currency, -this.unused(t));
      else if (t.type === 'Journal')
        for (const line of t.lines ?? []) {
          if (!isReceivable(line.account) || line.entity === null) continue;
          const open = this.journalOpen(t, line);
          add(line.entity, t.currency, line.debitMinor > 0 ? open : -open);
        }
    }
    for (const [k, v] of out) if (v === 0) out.delete(k);
    return out;
  }

  /** The ledger the connector must reproduce: every live invoice's open balance by id, in its currency. */
  openBalances(): Map<string, { currency: string; balanceMinor: number; status: string }> {
    const out = new Map<string, { currency: string; balanceMinor: number; status: string }>();
    for (const t of this.txns.values()) {
      if (t.type !== 'CustInvc') continue;
      // Not posted (pending approval or rejected): nothing is receivable, and Duely keeps it out of A/R as void.
      if (t.approval) {
        out.set(String(t.id), { currency: t.currency, balanceMinor: 0, status: 'void' });
        continue;
      }
      const balanceMinor = this.unpaid(t);
      out.set(String(t.id), {
        currency: t.currency,
        balanceMinor,
        status: t.voided ? 'void' : balanceMinor === 0 ? 'paid' : 'open',
      });
    }
    return out;
  }

  money(minor: number, currency: string): string {
    return fromMinor(minor, currency);
  }

  /** Amount in a currency's minor units, sized like real invoices (JPY amounts have no decimals). */
  private amount(currency: string): number {
    const major = 50 + Math.floor(this.random() * 5000);
    if (currency === 'JPY') return major * 100;
    return major * 100 + Math.floor(this.random() * 100);
  }

  /** The starting company: customers in every subsidiary (some billing in another currency), open history. */
  static generate(options: { seed?: number; customers?: number; start?: string } = {}): NetsuiteCompany {
    const c = new NetsuiteCompany(options);
    const n = options.customers ?? 12;
    for (let i = 0; i < n; i++) {
      const sub = c.subsidiaries[i % c.subsidiaries.length] as Subsidiary;
      // Every fourth Canadian customer is billed in USD: transaction currency != subsidiary currency.
      c.addCustomer(sub.id, sub.id === 2 && i % 8 === 1 ? 'USD' : undefined);
    }
    for (let day = 0; day < 20; day++) {
      c.simulateDay();
    }
    return c;
  }

  /**
   * Journal entries to A/R as a bookkeeper keys them (the demo's): an opening balance debited to a customer, part of
   * it paid since; a rebate credited on account, unapplied; a balance moved from one customer to another.
   */
  addJournalHistory(): void {
    const [a, b, c] = [...this.customers.values()];
    if (!a || !b || !c) return;
    const opening = this.addJournal(a.currency, [
      { account: AR_ACCOUNT, customer: a, debit: 150_000 },
      { account: 300, credit: 150_000 },
    ]);
    this.addJournalPayment(a, 40_000, { journals: [{ journal: opening.id, line: 0, amountMinor: 40_000 }] });
    this.addJournal(b.currency, [
      { account: 600, debit: 25_000 },
      { account: AR_ACCOUNT, customer: b, credit: 25_000 },
    ]);
    if (c.currency === a.currency)
      this.addJournal(a.currency, [
        { account: AR_ACCOUNT, customer: a, debit: 10_000 },
        { account: AR_ACCOUNT, customer: c, credit: 10_000 },
      ]);
  }

  /** One business day: new invoices, partial and multi-invoice payments, credits, voids, deletions, un-applies. */
  simulateDay(): void {
    const customers = [...this.customers.values()];
    for (let i = 0; i < 4; i++) {
      const cust = this.pick(customers);
      this.addInvoice(cust, this.amount(cust.currency), this.pick([15, 30, 45]));
    }
    this.advance(60);
    const open = () =>
      [...this.txns.values()].filter((t) => t.type === 'CustInvc' && !t.approval && this.unpaid(t) > 0);
    // Payments: a full one, a partial one, one across every open invoice of a customer (plus unapplied money).
    for (let i = 0; i < 3 && open().length > 0; i++) {
      const inv = this.pick(open());
      const cust = this.customers.get(inv.entity) as Customer;
      const mine = open().filter((t) => t.entity === cust.id && t.currency === inv.currency);
      if (i === 2 && mine.length > 1) {
        const apps = mine.map((t) => ({ invoice: t.id, amountMinor: this.unpaid(t) }));
        const total = apps.reduce((s, a) => s + a.amountMinor, 0);
        this.addPayment(cust, total + (inv.currency === 'JPY' ? 500 : 1234), apps);
      } else {
        const due = this.unpaid(inv);
        const part = i === 1 ? Math.max(1, Math.floor(due / 3)) : due;
        this.addPayment(cust, part, [{ invoice: inv.id, amountMinor: part }]);
      }
      this.advance(30);
    }
    // A credit memo applied in part.
    if (open().length > 0 && this.random() < 0.6) {
      const inv = this.pick(open());
      const cust = this.customers.get(inv.entity) as Customer;
      const cm = this.addCreditMemo(
        { ...cust, currency: inv.currency },
        Math.max(1, Math.floor(this.unpaid(inv) / 2)),
      );
      this.apply(cm.id, inv.id, Math.max(1, Math.floor(this.unused(cm) / 2)));
    }
    const payments = () => [...this.txns.values()].filter((t) => t.type === 'CustPymt' && !t.voided);
    const r = this.random();
    if (r < 0.2 && payments().length > 0) this.void(this.pick(payments()).id);
    else if (r < 0.4 && payments().length > 0) this.delete(this.pick(payments()).id);
    else if (r < 0.55 && open().length > 0) this.void(this.pick(open()).id);
    else if (r < 0.7 && open().length > 0) this.delete(this.pick(open()).id);
    else if (r < 0.85) {
      const link = this.links.length > 0 ? this.pick(this.links) : null;
      if (link) this.unapply(link.nextdoc, link.previousdoc);
    }
    this.advance(24 * 60 - 60 - 90);
  }
}
