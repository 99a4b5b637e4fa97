/**
 * A generated NetSuite OneWorld company held in memory: subsidiaries with their base currencies, customers,
 * invoices, payments (partial and across several invoices), credit memos and their applications, voids and
 * deletions, and a clock that moves on. It behaves as the connector expects NetSuite to:
 *  - amounts are kept in integer minor units of the transaction's currency and printed as decimal strings;
 *  - applying, un-applying or deleting a payment changes the payment only: the invoice's lastmodifieddate does
 *    NOT move (issue 12: do not rely on it), while its amount unpaid does;
 *  - a void zeroes the transaction and drops its applications; a deletion removes it and leaves a DeletedRecord;
 *  - an invoice under approval routing (Pending Approval, or Rejected) does not post: no payment can be applied to
 *    it; approving it is an edit of the invoice (its lastmodifieddate moves) and it becomes Open.
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
}

export interface Link {
  /** The invoice. */
  previousdoc: number;
  /** The payment or credit memo. */
  nextdoc: number;
  amountMinor: number;
}

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
    const j = this.addTxn('Journal', customer, total, null);
    for (const a of applications) this.apply(j.id, a.invoice, a.amountMinor);
    return j;
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
    this.links.push({ previousdoc: invoice, nextdoc: nextdoc, amountMinor });
    from.lastmodified = this.tick();
    if (this.unpaid(inv) === 0) inv.closedate = this.today;
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
      t.type === 'CustInvc' ? 'invoice' : t.type === 'CustPymt' ? 'customerpayment' : 'creditmemo';
    this.deleted.push({ recordid: id, recordtypeid, deleteddate: this.tick() });
  }

  /**
   * Duplicate resolution's merge: every transaction of `from` moves to `into` and `from` is deleted (a DeletedRecord
   * row). Whether the moved transactions' lastmodifieddate moves is not documented: the stand-in takes the case
   * that hides the move (it does not), as for applications.
   */
  mergeCustomer(from: number, into: number): void {
    if (!this.customers.has(from) || !this.customers.has(into)) throw new Error('no such customer');
    for (const t of this.txns.values()) if (t.entity === from) t.entity = into;
    this.customers.delete(from);
    this.deleted.push({ recordid: from, recordtypeid: 'customer', deleteddate: this.tick() });
  }

  /** Invoice amount unpaid (credit memo: credit left) in minor units. */
  unpaid(t: Txn): number {
    if (t.voided) return 0;
    if (t.type === 'CustInvc') return t.totalMinor - (this.appliedSums().to.get(t.id) ?? 0);
    return this.unused(t);
  }

  /** What a payment or credit memo has not applied yet. */
  unused(t: Txn): number {
    if (t.voided) return 0;
    return t.totalMinor - (this.appliedSums().from.get(t.id) ?? 0);
  }

  /**
   * Applied amounts per invoice (`to`) and per payment/credit memo (`from`), rebuilt only when `links` changed
   * (appended to, or replaced by a filter). Serving a SuiteQL page reads every row's amount unpaid: summing the links
   * per row made the stand-in, not the connector, the bottleneck of a large sync (quadratic in the ledger).
   */
  private appliedSums(): { to: Map<number, number>; from: Map<number, number> } {
    const memo = this.sumsMemo;
    if (memo && memo.links === this.links && memo.length === this.links.length) return memo;
    const to = new Map<number, number>();
    const from = new Map<number, number>();
    for (const l of this.links) {
      to.set(l.previousdoc, (to.get(l.previousdoc) ?? 0) + l.amountMinor);
      from.set(l.nextdoc, (from.get(l.nextdoc) ?? 0) + l.amountMinor);
    }
    this.sumsMemo = { links: this.links, length: this.links.length, to, from };
    return this.sumsMemo;
  }

  private sumsMemo: {
    links: Link[];
    length: number;
    to: Map<number, number>;
    from: Map<number, number>;
  } | null = null;

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
