/**
 * The sandbox's in-memory QuickBooks company: a seeded simulation, day by day, of customers with distinct payment
 * habits invoicing over two years up to the sandbox clock. Amounts are integer cents; rendering to QuickBooks JSON
 * happens in render.ts. The same simulation step runs for history and for advance(), so the future is as lifelike
 * as the past.
 */
import { createRng, type Rng } from './random';

export const DAY_MS = 86_400_000;

export type Habit = 'reliable' | 'slightly_late' | 'chronically_late' | 'slowing' | 'new';

export interface Row {
  id: string;
  syncToken: number;
  createdAt: number;
  updatedAt: number;
}

export interface SbCustomer extends Row {
  name: string;
  email: string;
  state: string | null;
  country: string | null;
  habit: Habit;
  termsDays: number;
  batchPayer: boolean;
  startDay: number;
  balanceMinor: number;
  active: boolean;
}

export interface SbInvoice extends Row {
  docNumber: string;
  customerId: string;
  txnDay: number;
  dueDay: number;
  totalMinor: number;
  balanceMinor: number;
  billEmail: string | null;
  voided: boolean;
  deleted: boolean;
  emailed: boolean;
  /** Payment ids that touched this invoice (LinkedTxn). */
  paymentIds: string[];
}

export interface SbPaymentLine {
  txnId: string;
  txnType: 'Invoice' | 'CreditMemo' | 'JournalEntry';
  amountMinor: number;
  /** Open balance of the linked transaction before this payment (LineEx txnOpenBalance). */
  openBalanceMinor: number;
}

export interface SbPayment extends Row {
  customerId: string;
  txnDay: number;
  totalMinor: number;
  unappliedMinor: number;
  lines: SbPaymentLine[];
  /** QuickBooks' own note on the zero-amount payments it creates to apply credit. */
  privateNote: string | null;
}

export interface SbCreditMemo extends Row {
  docNumber: string;
  customerId: string;
  txnDay: number;
  totalMinor: number;
  remainingMinor: number;
}

/** A chart-of-accounts entry (only what journal entries need: its type). */
export interface SbAccount extends Row {
  name: string;
  accountType: string;
  active: boolean;
}

/** One line of a journal entry: a debit or credit to an account, naming a customer on A/R lines. */
export interface SbJournalLine {
  postingType: 'Debit' | 'Credit';
  accountId: string;
  customerId: string | null;
  amountMinor: number;
}

export interface SbJournalEntry extends Row {
  docNumber: string;
  txnDay: number;
  lines: SbJournalLine[];
  deleted: boolean;
}

/** The sandbox chart of accounts: the A/R account journal entries credit, and the accounts they offset. */
export const SANDBOX_ACCOUNTS = {
  receivable: '84',
  inactiveReceivable: '85',
  undeposited: '35',
  badDebts: '90',
} as const;

export type EntityName = 'Customer' | 'Invoice' | 'Payment' | 'CreditMemo' | 'JournalEntry' | 'Account';
export interface Change {
  name: EntityName;
  id: string;
  operation: 'Create' | 'Update' | 'Delete' | 'Void';
  at: number;
}

type Event =
  | { kind: 'pay'; invoiceId: string; amountMinor: number }
  | { kind: 'credit'; invoiceId: string; amountMinor: number; apply: boolean }
  | { kind: 'void'; invoiceId: string }
  | { kind: 'delete'; invoiceId: string }
  | { kind: 'unapplied'; customerId: string; amountMinor: number };

export interface CompanyOptions {
  seed: number;
  now: Date;
  customers: number;
  invoices: number;
  /** History length in days (two years). */
  historyDays?: number;
}

const HABITS: Array<[Habit, number]> = [
  ['reliable', 0.35],
  ['slightly_late', 0.25],
  ['chronically_late', 0.15],
  ['slowing', 0.12],
  ['new', 0.13],
];
const US_STATES = ['CA', 'NY', 'TX', 'FL', 'IL', 'WA', 'MA', 'CO', 'GA', 'AZ', 'NJ', 'OR', 'PA', 'OH', 'MN'];
const NAME_A = [
  'Blue',
  'Harbor',
  'Summit',
  'Cedar',
  'Golden',
  'Maple',
  'Pioneer',
  'Silver',
  'Granite',
  'Oak',
  'Riverside',
  'Northwind',
  'Bright',
  'Coastal',
  'Prairie',
];
const NAME_B = [
  'Bakery',
  'Builders',
  'Consulting',
  'Dental',
  'Design',
  'Farms',
  'Fitness',
  'Logistics',
  'Media',
  'Motors',
  'Outfitters',
  'Plumbing',
  'Studio',
  'Supply',
  'Travel',
];
const NAME_C = ['LLC', 'Inc.', 'Co.', '& Sons', 'Group', 'Partners'];

function pickHabit(r: number): Habit {
  let cumulative = 0;
  for (const [habit, share] of HABITS) {
    cumulative += share;
    if (r < cumulative) return habit;
  }
  return 'reliable';
}

export class Company {
  readonly customers = new Map<string, SbCustomer>();
  readonly invoices = new Map<string, SbInvoice>();
  readonly payments = new Map<string, SbPayment>();
  readonly creditMemos = new Map<string, SbCreditMemo>();
  readonly journalEntries = new Map<string, SbJournalEntry>();
  readonly accounts = new Map<string, SbAccount>();
  /** Insertion-ordered rows per entity: the default query order. */
  readonly order: Record<EntityName, Row[]> = {
    Customer: [],
    Invoice: [],
    Payment: [],
    CreditMemo: [],
    JournalEntry: [],
    Account: [],
  };

  private readonly rng: Rng;
  private readonly schedule = new Map<number, Event[]>();
  private readonly originDay: number;
  private readonly dailyInvoices: number;
  private day: number;
  private clock: number;
  private nextTxnId = 1;
  private nextDoc = 1001;
  private recording: Change[] | null = null;
  private customerList: SbCustomer[] = [];
  private weights: number[] = [];
  private poolDay = Number.NaN;
  private pool: SbCustomer[] = [];
  private poolWeights: number[] = [];

  constructor(private readonly options: CompanyOptions) {
    this.rng = createRng(options.seed);
    const historyDays = options.historyDays ?? 730;
    this.clock = options.now.getTime();
    this.originDay = Math.floor(this.clock / DAY_MS);
    this.dailyInvoices = options.invoices / historyDays;
    const firstDay = this.originDay - historyDays;
    this.day = firstDay - 1;
    this.createAccounts(firstDay * DAY_MS);
    this.createCustomers(firstDay);
    // History: exactly `invoices` issue days spread over the period, then simulate up to today.
    const issueDays: number[] = Array.from(
      { length: options.invoices },
      () => firstDay + Math.floor(this.rng() * historyDays),
    );
    issueDays.sort((a, b) => a - b);
    let next = 0;
    const deletedIndex = Math.floor(options.invoices * 0.98);
    for (let d = firstDay; d <= this.originDay; d++) {
      let count = 0;
      while (next < issueDays.length && issueDays[next] === d) {
        next++;
        count++;
      }
      this.step(d, count, (i) => i === deletedIndex - (next - count));
    }
  }

  now(): number {
    return this.clock;
  }

  /** Moves the clock forward, issuing invoices and settling them as each customer's habit says. */
  advance(days: number): Change[] {
    const changes: Change[] = [];
    this.recording = changes;
    const end = this.clock + days * DAY_MS;
    for (let d = this.day + 1; d <= Math.floor(end / DAY_MS); d++) {
      const count = Math.floor(this.dailyInvoices) + (this.rng() < this.dailyInvoices % 1 ? 1 : 0);
      this.clock = Math.min(end, Math.max(this.clock, d * DAY_MS));
      this.step(d, count, () => false, end);
    }
    this.clock = end;
    this.recording = null;
    return changes;
  }

  /** Records a payment now (full open balance by default), as if the customer paid in QuickBooks. */
  recordPayment(invoiceId: string, amountMinor?: number): { payment: SbPayment | null; changes: Change[] } {
    const changes: Change[] = [];
    this.recording = changes;
    const invoice = this.invoices.get(invoiceId);
    const payment = invoice
      ? this.pay(
          invoice.customerId,
          [{ invoiceId, amountMinor: amountMinor ?? invoice.balanceMinor }],
          this.clock,
        )
      : null;
    this.recording = null;
    return { payment, changes };
  }

  /** Runs a manual change (void, delete) at the current clock and returns what changed. */
  mutate(change: (company: this) => void): Change[] {
    const changes: Change[] = [];
    this.recording = changes;
    try {
      change(this);
    } finally {
      this.recording = null;
    }
    return changes;
  }

  /** Ground truth: open balance of every invoice that still exists. */
  balances(): Map<string, number> {
    const out = new Map<string, number>();
    for (const invoice of this.invoices.values())
      if (!invoice.deleted) out.set(invoice.id, invoice.balanceMinor);
    return out;
  }

  private createAccounts(at: number): void {
    const accounts: Array<[string, string, string, boolean]> = [
      [SANDBOX_ACCOUNTS.undeposited, 'Undeposited Funds', 'Other Current Asset', true],
      [SANDBOX_ACCOUNTS.receivable, 'Accounts Receivable (A/R)', 'Accounts Receivable', true],
      [SANDBOX_ACCOUNTS.inactiveReceivable, 'A/R - old', 'Accounts Receivable', false],
      [SANDBOX_ACCOUNTS.badDebts, 'Bad debts', 'Expense', true],
    ];
    for (const [id, name, accountType, active] of accounts) {
      const account: SbAccount = {
        id,
        syncToken: 0,
        createdAt: at,
        updatedAt: at,
        name,
        accountType,
        active,
      };
      this.accounts.set(id, account);
      this.order.Account.push(account);
    }
  }

  /**
   * A journal entry crediting A/R for a customer (a write-off, a netting, a correction) against `offsetAccountId`,
   * as a bookkeeper enters it: the customer's balance drops, no invoice changes until a payment links the two.
   */
  journalCredit(
    customerId: string,
    amountMinor: number,
    opts: { arAccountId?: string; offsetAccountId?: string; extraLines?: SbJournalLine[] } = {},
  ): SbJournalEntry {
    const at = this.clock;
    const entry: SbJournalEntry = {
      id: this.txnId(),
      syncToken: 0,
      createdAt: at,
      updatedAt: at,
      docNumber: `JE-${this.nextDoc++}`,
      txnDay: Math.floor(at / DAY_MS),
      lines: [
        {
          postingType: 'Debit',
          accountId: opts.offsetAccountId ?? SANDBOX_ACCOUNTS.badDebts,
          customerId: null,
          amountMinor,
        },
        {
          postingType: 'Credit',
          accountId: opts.arAccountId ?? SANDBOX_ACCOUNTS.receivable,
          customerId,
          amountMinor,
        },
        ...(opts.extraLines ?? []),
      ],
      deleted: false,
    };
    this.journalEntries.set(entry.id, entry);
    this.order.JournalEntry.push(entry);
    this.record('JournalEntry', entry.id, 'Create', at);
    const customer = this.customers.get(customerId);
    if (customer) {
      customer.balanceMinor -= amountMinor;
      this.touch(customer, at);
    }
    return entry;
  }

  /** QuickBooks' zero-amount payment linking a journal entry's A/R credit to an invoice ("Receive payment"). */
  applyJournalCredit(entryId: string, invoiceId: string, amountMinor: number): SbPayment | null {
    const entry = this.journalEntries.get(entryId);
    const invoice = this.invoices.get(invoiceId);
    if (!entry || entry.deleted || !invoice) return null;
    const at = this.clock;
    const amount = Math.min(amountMinor, invoice.balanceMinor);
    const payment = this.linkCredit(
      invoice,
      { txnId: entry.id, txnType: 'JournalEntry', openBalanceMinor: amount },
      amount,
      at,
      Math.floor(at / DAY_MS),
    );
    this.applyToInvoice(invoice.id, amount, payment.id, at);
    return payment;
  }

  deleteJournalEntry(entryId: string, at = this.clock): void {
    const entry = this.journalEntries.get(entryId);
    if (!entry || entry.deleted) return;
    entry.deleted = true;
    this.touch(entry, at);
    this.record('JournalEntry', entry.id, 'Delete', at);
  }

  private createCustomers(firstDay: number): void {
    const { rng } = this;
    for (let i = 1; i <= this.options.customers; i++) {
      const habit = pickHabit(rng());
      const startDay = habit === 'new' ? this.originDay - rng.int(20, 120) : firstDay + rng.int(0, 60);
      const name = `${rng.pick(NAME_A)} ${rng.pick(NAME_B)} ${rng.pick(NAME_C)} ${i}`;
      const place = rng();
      const [country, state] =
        place < 0.45
          ? ['USA', rng.pick(US_STATES)]
          : place < 0.85
            ? [null, rng.pick(US_STATES)]
            : place < 0.93
              ? ['Canada', 'ON']
              : ['United Kingdom', null];
      const createdAt = startDay * DAY_MS + 17 * 3_600_000;
      const customer: SbCustomer = {
        id: String(i),
        syncToken: 0,
        createdAt,
        updatedAt: createdAt,
        name,
        email: `billing@${name
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-')
          .replace(/^-|-$/g, '')}.example.com`,
        state,
        country,
        habit,
        termsDays: rng.pick([15, 30, 30, 30, 45, 60]),
        batchPayer: rng.chance(0.3),
        startDay,
        balanceMinor: 0,
        active: true,
      };
      this.customers.set(customer.id, customer);
      this.order.Customer.push(customer);
      this.customerList.push(customer);
      // A few large customers get most of the invoices, as in real ledgers.
      this.weights.push(1 / (0.3 + rng()) ** 1.5);
    }
  }

  /** Weighted pick among customers already trading on `day` (pools change only when a customer starts). */
  private pickCustomer(day: number): SbCustomer {
    if (this.poolDay !== day) {
      this.poolDay = day;
      this.pool = this.customerList.filter((c) => c.startDay <= day);
      if (this.pool.length === 0) this.pool = this.customerList;
      let total = 0;
      this.poolWeights = this.pool.map((c) => {
        total += this.weights[Number(c.id) - 1] ?? 1;
        return total;
      });
    }
    const r = this.rng() * (this.poolWeights[this.poolWeights.length - 1] ?? 0);
    let lo = 0;
    let hi = this.poolWeights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.poolWeights[mid] ?? 0) < r) lo = mid + 1;
      else hi = mid;
    }
    return this.pool[lo] as SbCustomer;
  }

  /** One simulated day: issue `count` invoices, then run the events due that day. */
  private step(day: number, count: number, isDeleted: (i: number) => boolean, clockCap = this.clock): void {
    this.day = day;
    const at = (minutes: number) => Math.min(clockCap, day * DAY_MS + (16 * 60 + minutes) * 60_000);
    for (let i = 0; i < count; i++) {
      const customer = this.pickCustomer(day);
      const invoice = this.issue(customer, day, at(this.rng.int(0, 120)));
      this.plan(invoice, customer, isDeleted(i));
    }
    const events = this.schedule.get(day) ?? [];
    this.schedule.delete(day);
    const cash = new Map<string, Array<{ invoiceId: string; amountMinor: number }>>();
    for (const event of events) {
      const when = at(this.rng.int(150, 420));
      if (event.kind === 'pay') {
        const invoice = this.invoices.get(event.invoiceId);
        if (!invoice) continue;
        const customer = this.customers.get(invoice.customerId);
        // Batch payers settle everything due the same day with one payment spanning several invoices.
        const key = customer?.batchPayer
          ? invoice.customerId
          : `${invoice.customerId}:${event.invoiceId}:${cash.size}`;
        cash.set(key, [
          ...(cash.get(key) ?? []),
          { invoiceId: event.invoiceId, amountMinor: event.amountMinor },
        ]);
      } else if (event.kind === 'credit') this.credit(event.invoiceId, event.amountMinor, event.apply, when);
      else if (event.kind === 'void') this.voidInvoice(event.invoiceId, when);
      else if (event.kind === 'delete') this.deleteInvoice(event.invoiceId, when);
      else this.pay(event.customerId, [], when, event.amountMinor);
    }
    for (const [key, lines] of cash) this.pay(key.split(':')[0] as string, lines, at(this.rng.int(150, 420)));
  }

  private schedulePush(day: number, event: Event): void {
    const list = this.schedule.get(day);
    if (list) list.push(event);
    else this.schedule.set(day, [event]);
  }

  /** Bumped on every change, so readers can cache derived views (the server's filtered query lists). */
  revision = 0;

  private touch(row: Row, at: number): void {
    this.revision++;
    row.syncToken++;
    row.updatedAt = Math.max(row.updatedAt, at);
  }

  private record(name: EntityName, id: string, operation: Change['operation'], at: number): void {
    this.revision++;
    this.recording?.push({ name, id, operation, at });
  }

  private txnId(): string {
    return String(this.nextTxnId++);
  }

  private issue(customer: SbCustomer, day: number, at: number): SbInvoice {
    const { rng } = this;
    const base = Math.exp(6 + (Number(customer.id) % 7) * 0.25);
    const totalMinor = Math.max(2_000, Math.round(base * (0.5 + rng()) * 100));
    const invoice: SbInvoice = {
      id: this.txnId(),
      syncToken: 0,
      createdAt: at,
      updatedAt: at,
      docNumber: String(this.nextDoc++),
      customerId: customer.id,
      txnDay: day,
      dueDay: day + customer.termsDays,
      totalMinor,
      balanceMinor: totalMinor,
      billEmail: rng.chance(0.85) ? customer.email : null,
      voided: false,
      deleted: false,
      emailed: rng.chance(0.8),
      paymentIds: [],
    };
    this.invoices.set(invoice.id, invoice);
    this.order.Invoice.push(invoice);
    customer.balanceMinor += totalMinor;
    this.touch(customer, at);
    this.record('Invoice', invoice.id, 'Create', at);
    return invoice;
  }

  /** Days after the due date this customer pays this invoice (negative = early), or null = never. */
  private delay(customer: SbCustomer, invoice: SbInvoice): number | null {
    const { rng } = this;
    switch (customer.habit) {
      case 'reliable':
        return rng.chance(0.005) ? null : rng.int(-10, 2);
      case 'slightly_late':
        return rng.chance(0.01) ? null : rng.int(2, 16);
      case 'chronically_late':
        return rng.chance(0.06) ? null : rng.int(20, 80);
      case 'slowing': {
        // On time until a year before the sandbox's start, then later and later (and still slipping afterwards).
        const progress = Math.min(1.5, Math.max(0, (invoice.txnDay - (this.originDay - 365)) / 270));
        return rng.int(-5, 4) + Math.round(progress * 45);
      }
      case 'new':
        return rng.int(-3, 25);
    }
  }

  private plan(invoice: SbInvoice, customer: SbCustomer, deleted: boolean) {
    const { rng } = this;
    if (deleted) return this.schedulePush(invoice.txnDay + 2, { kind: 'delete', invoiceId: invoice.id });
    if (rng.chance(0.004))
      return this.schedulePush(invoice.txnDay + rng.int(1, 10), { kind: 'void', invoiceId: invoice.id });
    const delay = this.delay(customer, invoice);
    if (delay === null) return;
    const payDay = Math.max(invoice.txnDay + 1, invoice.dueDay + delay);
    let remaining = invoice.totalMinor;
    if (rng.chance(0.025)) {
      const credit = Math.round(invoice.totalMinor * (0.1 + rng() * 0.2));
      const apply = rng.chance(0.85);
      this.schedulePush(invoice.txnDay + rng.int(1, Math.max(1, payDay - invoice.txnDay)), {
        kind: 'credit',
        invoiceId: invoice.id,
        amountMinor: credit,
        apply,
      });
      if (apply) remaining -= credit;
    }
    if (rng.chance(0.12) && payDay - invoice.txnDay > 6) {
      const first = Math.round(remaining * (0.3 + rng() * 0.4));
      this.schedulePush(payDay - rng.int(3, Math.min(25, payDay - invoice.txnDay - 1)), {
        kind: 'pay',
        invoiceId: invoice.id,
        amountMinor: first,
      });
      remaining -= first;
      // Some partially paid invoices are never finished.
      if (rng.chance(0.15)) return;
    }
    this.schedulePush(payDay, { kind: 'pay', invoiceId: invoice.id, amountMinor: remaining });
    if (rng.chance(0.004)) {
      this.schedulePush(payDay + rng.int(0, 20), {
        kind: 'unapplied',
        customerId: customer.id,
        amountMinor: rng.int(50, 500) * 100,
      });
    }
  }

  /** Creates a payment with one Invoice line per entry (clamped to open balances) plus `unappliedMinor`. */
  private pay(
    customerId: string,
    entries: Array<{ invoiceId: string; amountMinor: number }>,
    at: number,
    unappliedMinor = 0,
  ): SbPayment | null {
    const customer = this.customers.get(customerId);
    if (!customer) return null;
    const lines: SbPaymentLine[] = [];
    for (const { invoiceId, amountMinor } of entries) {
      const invoice = this.invoices.get(invoiceId);
      if (!invoice || invoice.voided || invoice.deleted) continue;
      const amount = Math.min(amountMinor, invoice.balanceMinor);
      if (amount <= 0) continue;
      lines.push({
        txnId: invoiceId,
        txnType: 'Invoice',
        amountMinor: amount,
        openBalanceMinor: invoice.balanceMinor,
      });
    }
    if (lines.length === 0 && unappliedMinor === 0) return null;
    const applied = lines.reduce((n, l) => n + l.amountMinor, 0);
    const payment: SbPayment = {
      id: this.txnId(),
      syncToken: 0,
      createdAt: at,
      updatedAt: at,
      customerId,
      txnDay: Math.floor(at / DAY_MS),
      totalMinor: applied + unappliedMinor,
      unappliedMinor,
      lines,
      privateNote: null,
    };
    this.payments.set(payment.id, payment);
    this.order.Payment.push(payment);
    this.record('Payment', payment.id, 'Create', at);
    for (const line of lines) this.applyToInvoice(line.txnId, line.amountMinor, payment.id, at);
    customer.balanceMinor -= payment.totalMinor;
    this.touch(customer, at);
    return payment;
  }

  private applyToInvoice(invoiceId: string, amountMinor: number, paymentId: string, at: number): void {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice) return;
    invoice.balanceMinor -= amountMinor;
    invoice.paymentIds.push(paymentId);
    this.touch(invoice, at);
    this.record('Invoice', invoice.id, 'Update', at);
  }

  /** A credit memo, and (when applied) QuickBooks' zero-amount payment linking it to the invoice. */
  private credit(invoiceId: string, amountMinor: number, apply: boolean, at: number): void {
    const invoice = this.invoices.get(invoiceId);
    const customer = invoice && this.customers.get(invoice.customerId);
    if (!invoice || !customer || invoice.voided || invoice.deleted) return;
    const memo: SbCreditMemo = {
      id: this.txnId(),
      syncToken: 0,
      createdAt: at,
      updatedAt: at,
      docNumber: String(this.nextDoc++),
      customerId: customer.id,
      txnDay: Math.floor(at / DAY_MS),
      totalMinor: amountMinor,
      remainingMinor: amountMinor,
    };
    this.creditMemos.set(memo.id, memo);
    this.order.CreditMemo.push(memo);
    this.record('CreditMemo', memo.id, 'Create', at);
    customer.balanceMinor -= amountMinor;
    this.touch(customer, at);
    const amount = Math.min(amountMinor, invoice.balanceMinor);
    if (!apply || amount <= 0) return;
    const payment = this.linkCredit(
      invoice,
      { txnId: memo.id, txnType: 'CreditMemo', openBalanceMinor: memo.remainingMinor },
      amount,
      at,
      memo.txnDay,
    );
    memo.remainingMinor -= amount;
    this.touch(memo, at);
    this.applyToInvoice(invoice.id, amount, payment.id, at);
  }

  /**
   * QuickBooks' zero-amount payment linking a credit (a credit memo, a journal entry's A/R credit) to an invoice:
   * one line applying `amount` to the invoice, one taking it from the credit. Recorded as created; the caller
   * applies it to the invoice.
   */
  private linkCredit(
    invoice: SbInvoice,
    credit: { txnId: string; txnType: 'CreditMemo' | 'JournalEntry'; openBalanceMinor: number },
    amount: number,
    at: number,
    txnDay: number,
  ): SbPayment {
    const payment: SbPayment = {
      id: this.txnId(),
      syncToken: 0,
      createdAt: at,
      updatedAt: at,
      customerId: invoice.customerId,
      txnDay,
      totalMinor: 0,
      unappliedMinor: 0,
      lines: [
        {
          txnId: invoice.id,
          txnType: 'Invoice',
          amountMinor: amount,
          openBalanceMinor: invoice.balanceMinor,
        },
        { ...credit, amountMinor: amount },
      ],
      privateNote: 'Created by QB Online to link credits to charges.',
    };
    this.payments.set(payment.id, payment);
    this.order.Payment.push(payment);
    this.record('Payment', payment.id, 'Create', at);
    return payment;
  }

  voidInvoice(invoiceId: string, at = this.clock): void {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice || invoice.voided || invoice.deleted || invoice.paymentIds.length > 0) return;
    const customer = this.customers.get(invoice.customerId);
    if (customer) customer.balanceMinor -= invoice.balanceMinor;
    invoice.voided = true;
    invoice.totalMinor = 0;
    invoice.balanceMinor = 0;
    this.touch(invoice, at);
    this.record('Invoice', invoice.id, 'Void', at);
  }

  deleteInvoice(invoiceId: string, at = this.clock): void {
    const invoice = this.invoices.get(invoiceId);
    if (!invoice || invoice.deleted || invoice.paymentIds.length > 0) return;
    const customer = this.customers.get(invoice.customerId);
    if (customer) customer.balanceMinor -= invoice.balanceMinor;
    invoice.deleted = true;
    this.touch(invoice, at);
    this.record('Invoice', invoice.id, 'Delete', at);
  }
}
