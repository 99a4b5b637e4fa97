/** The Customer page's pure logic: the merged timeline, the risk trend's words, the override/promise/dispute forms. */
import { describe, expect, it } from 'vitest';
import type { DunningMessage } from '../../src/web/components/dunning';
import type { CustomerDetail, InvoiceRow } from '../../src/web/lib/types';
import {
  apiFieldErrors,
  buildTimeline,
  type CreditMemoRow,
  type CustomerRiskView,
  type DisputeRow,
  filterTimeline,
  ledgerToday,
  localDayTime,
  messageState,
  overrideFormOf,
  overrideSummary,
  type PromiseRow,
  parseAmount,
  parseEmails,
  promiseState,
  riskInputsInWords,
  riskSummary,
  trendWords,
  validateDispute,
  validateOverride,
  validatePromise,
} from '../../src/web/pages/customer/customer-timeline';

const CUST = 'c-1';

function invoice(over: Partial<InvoiceRow> & { id: string }): InvoiceRow {
  return {
    externalId: over.id.toUpperCase(),
    number: null,
    customerId: CUST,
    issueDate: '2013-05-01',
    dueDate: '2013-05-31',
    currency: 'USD',
    totalMinor: 100_000,
    balanceMinor: 100_000,
    status: 'open',
    paidDate: null,
    daysOverdue: 0,
    ...over,
  };
}

function message(over: Partial<DunningMessage> & { id: string }): DunningMessage {
  return {
    customerId: CUST,
    kind: 'reminder',
    to: ['ap@acme.example'],
    channel: 'email',
    invoiceIds: ['i-2'],
    stepKey: 'standard:1',
    sequenceId: 'standard',
    tone: 'friendly',
    template: 'reminder',
    approvalVersion: 'v1',
    status: 'sent',
    sendAt: '2013-06-03T14:00:00Z',
    sentAt: null,
    requiresApproval: false,
    editedSubject: null,
    editedIntro: null,
    subject: null,
    statusCode: null,
    providerId: null,
    deliveryStatus: null,
    error: null,
    createdAt: '2013-06-01T00:00:00Z',
    why: {
      reason: 'step 1 of Standard: 3 days overdue',
      approvalReason: null,
      statusReason: null,
      templateVersion: null,
      snapshot: { totals: [{ currency: 'USD', openMinor: 60_000 }] },
    },
    events: [],
    ...over,
  };
}

const invoices = [
  invoice({
    id: 'i-1',
    number: 'INV-1',
    issueDate: '2013-04-01',
    dueDate: '2013-05-01',
    status: 'paid',
    balanceMinor: 0,
    paidDate: '2013-05-03',
  }),
  invoice({
    id: 'i-2',
    number: 'INV-2',
    issueDate: '2013-05-01',
    dueDate: '2013-05-31',
    balanceMinor: 60_000,
    daysOverdue: 31,
  }),
  invoice({ id: 'i-3', issueDate: '2013-06-20', dueDate: '2013-07-20' }),
];
const payments: CustomerDetail['payments'] = [
  {
    id: 'p-1',
    externalId: 'PAY-1',
    date: '2013-05-03',
    currency: 'USD',
    amountMinor: 140_000,
    unappliedMinor: 0,
    allocations: [
      { invoiceId: 'i-1', amountMinor: 100_000, date: '2013-05-03' },
      { invoiceId: 'i-2', amountMinor: 40_000, date: '2013-05-03' },
    ],
  },
];
const promise = (over: Partial<PromiseRow> = {}): PromiseRow => ({
  id: 'pr-1',
  customerId: CUST,
  invoiceIds: ['i-2'],
  promisedDate: '2013-07-15',
  amountMinor: 60_000,
  graceDays: 2,
  note: 'CFO on the phone',
  cancelledAt: null,
  createdAt: '2026-01-01T10:00:00Z',
  ...over,
});
const dispute = (over: Partial<DisputeRow> = {}): DisputeRow => ({
  id: 'd-1',
  invoiceId: 'i-2',
  openedOn: '2013-06-10',
  until: null,
  reason: 'Goods damaged',
  resolvedAt: null,
  createdAt: '2026-01-01T10:00:00Z',
  ...over,
});

const base = {
  customerId: CUST,
  invoices,
  payments,
  messages: [] as DunningMessage[],
  promises: [] as PromiseRow[],
  disputes: [] as DisputeRow[],
  today: '2013-07-01',
  timeZone: 'UTC',
};

describe('buildTimeline', () => {
  it('merges every kind, newest first, timed entries above the same day’s dated ones', () => {
    const t = buildTimeline({
      ...base,
      messages: [
        message({
          id: 'm-sent',
          status: 'sent',
          sentAt: '2013-06-03T14:05:00Z',
          deliveryStatus: 'delivered',
        }),
        message({ id: 'm-held', status: 'awaiting_approval', sendAt: '2013-07-02T09:00:00Z' }),
        // Same day as INV-3's issue date, later in the day: listed above it.
        message({ id: 'm-same-day', status: 'skipped', sendAt: '2013-06-20T10:00:00Z' }),
      ],
      promises: [promise()],
      disputes: [dispute({ resolvedAt: '2013-06-25T16:30:00Z' })],
    });
    expect(t.map((e) => e.key)).toEqual([
      'promise:pr-1', // 2013-07-15 (promised date)
      'message:m-held', // 2013-07-02 09:00
      'dispute-resolved:d-1', // 2013-06-25 16:30
      'message:m-same-day', // 2013-06-20 10:00
      'invoice:i-3', // 2013-06-20
      'dispute:d-1', // 2013-06-10
      'message:m-sent', // 2013-06-03 14:05
      'payment:p-1', // 2013-05-03: the payment above …
      'invoice:i-2', // 2013-05-01
      'invoice:i-1', // 2013-04-01
    ]);
    expect(t.find((e) => e.key === 'message:m-sent')).toMatchObject({
      day: '2013-06-03',
      time: '14:05',
      status: { label: 'delivered', tone: 'ok' },
      amounts: [{ minor: 60_000, currency: 'USD' }],
      detail: 'step 1 of Standard: 3 days overdue',
      upcoming: false,
    });
    expect(t.find((e) => e.key === 'message:m-held')).toMatchObject({
      status: { label: 'held for approval', tone: 'warn' },
      upcoming: true,
    });
  });

  it('describes invoices, payments, promises and disputes with their amounts and states', () => {
    const t = buildTimeline({ ...base, promises: [promise()], disputes: [dispute()] });
    const by = (key: string) => t.find((e) => e.key === key)!;
    expect(by('invoice:i-1')).toMatchObject({
      title: 'Invoice INV-1 issued',
      status: { label: 'paid', tone: 'ok' },
      detail: 'Due May 1, 2013, paid May 3, 2013',
      amounts: [{ minor: 100_000, currency: 'USD' }],
    });
    expect(by('invoice:i-2')).toMatchObject({
      status: { label: '31 days overdue', tone: 'bad' },
      detail: 'Due May 31, 2013, $600.00 still open',
    });
    // No number: the external id.
    expect(by('invoice:i-3')).toMatchObject({ title: 'Invoice I-3 issued', status: { label: 'open' } });
    expect(by('payment:p-1')).toMatchObject({
      title: 'Payment PAY-1 received',
      detail: 'Applied to INV-1, INV-2',
      amounts: [{ minor: 140_000, currency: 'USD' }],
    });
    expect(by('promise:pr-1')).toMatchObject({
      day: '2013-07-15',
      title: 'Promised to pay by Jul 15, 2013',
      amounts: [{ minor: 60_000, currency: 'USD' }],
      status: { label: 'promised', tone: 'info' },
      detail: 'For INV-2 · 2 grace days · CFO on the phone',
      upcoming: true,
    });
    expect(by('dispute:d-1')).toMatchObject({
      title: 'Dispute opened on invoice INV-2',
      status: { label: 'open dispute', tone: 'warn' },
      detail: 'Goods damaged · reminders held until resolved',
    });
  });

  it('a credit memo is listed with its total, what remains and the invoices it was applied to', () => {
    const memo = (over: Partial<CreditMemoRow> = {}): CreditMemoRow => ({
      id: 'cm-1',
      externalId: 'CM-7',
      date: '2013-06-12',
      currency: 'USD',
      totalMinor: 50_000,
      remainingMinor: 12_500,
      status: 'active',
      applications: [
        { invoiceId: 'i-2', amountMinor: 30_000, date: '2013-06-12' },
        { invoiceId: 'i-3', amountMinor: 7_500, date: '2013-06-20' },
      ],
      ...over,
    });
    const t = buildTimeline({
      ...base,
      creditMemos: [
        memo(),
        memo({ id: 'cm-2', externalId: 'CM-8', remainingMinor: 0, date: '2013-06-25' }),
        memo({ id: 'cm-3', externalId: 'CM-9', status: 'void', applications: [] }),
      ],
    });
    const by = (key: string) => t.find((e) => e.key === key)!;
    expect(by('credit:cm-1')).toMatchObject({
      kind: 'credit',
      day: '2013-06-12',
      title: 'Credit memo CM-7 issued',
      amounts: [{ minor: 50_000, currency: 'USD' }],
      status: { label: '$125.00 remaining', tone: 'info' },
      detail: 'Applied to INV-2 $300.00 on Jun 12, 2013, I-3 $75.00 on Jun 20, 2013; $125.00 remaining',
    });
    expect(by('credit:cm-2').status).toEqual({ label: 'fully applied', tone: 'ok' });
    expect(by('credit:cm-3')).toMatchObject({ status: { label: 'void', tone: 'muted' }, detail: null });
    // Newest first among the rest; a money event, not a message.
    expect(t.findIndex((e) => e.key === 'credit:cm-2')).toBeLessThan(
      t.findIndex((e) => e.key === 'credit:cm-1'),
    );
    expect(filterTimeline(t, 'money').map((e) => e.key)).toContain('credit:cm-1');
    expect(filterTimeline(t, 'messages').map((e) => e.key)).not.toContain('credit:cm-1');
    // JPY has no minor digits: the kernel formats it exactly.
    const yen = buildTimeline({
      ...base,
      creditMemos: [memo({ currency: 'JPY', totalMinor: 5000, remainingMinor: 1200 })],
    });
    expect(yen.find((e) => e.kind === 'credit')!.status.label).toBe('¥1,200 remaining');
  });

  it('a credit memo applied (a zero-amount payment) says so with what it settled, not "received $0.00"', () => {
    const t = buildTimeline({
      ...base,
      payments: [
        {
          id: 'p-cm',
          externalId: 'PAY-9',
          date: '2013-06-05',
          currency: 'USD',
          amountMinor: 0,
          unappliedMinor: 0,
          allocations: [{ invoiceId: 'i-2', amountMinor: 25_000, date: '2013-06-05' }],
        },
        {
          id: 'p-mixed',
          externalId: 'PAY-10',
          date: '2013-06-06',
          currency: 'USD',
          amountMinor: 10_000,
          unappliedMinor: 0,
          allocations: [{ invoiceId: 'i-2', amountMinor: 15_000, date: '2013-06-06' }],
        },
      ],
    });
    const by = (key: string) => t.find((e) => e.key === key)!;
    expect(by('payment:p-cm')).toMatchObject({
      title: 'Credit memo applied',
      status: { label: 'credit memo applied', tone: 'ok' },
      amounts: [{ minor: 25_000, currency: 'USD' }],
      detail: 'Applied to INV-2',
    });
    expect(by('payment:p-mixed')).toMatchObject({
      title: 'Payment PAY-10 received',
      amounts: [{ minor: 10_000, currency: 'USD' }],
      detail: 'Applied to INV-2; $50.00 from a credit memo',
    });
  });

  it('a journal entry crediting the account is named as the journal entry, and so is its credit when applied', () => {
    const t = buildTimeline({
      ...base,
      creditMemos: [
        {
          id: 'je-1',
          externalId: 'JE:900:1',
          journalEntryId: '900',
          number: 'WO-17',
          date: '2013-06-02',
          currency: 'USD',
          totalMinor: 40_000,
          remainingMinor: 15_000,
          status: 'active',
          applications: [],
        },
      ],
      payments: [
        {
          id: 'p-je',
          externalId: 'PAY-11',
          date: '2013-06-07',
          currency: 'USD',
          amountMinor: 0,
          unappliedMinor: 0,
          allocations: [{ invoiceId: 'i-2', amountMinor: 25_000, date: '2013-06-07', creditMemoId: 'je-1' }],
        },
        {
          id: 'p-mixed-je',
          externalId: 'PAY-12',
          date: '2013-06-08',
          currency: 'USD',
          amountMinor: 10_000,
          unappliedMinor: 0,
          allocations: [
            { invoiceId: 'i-2', amountMinor: 5_000, date: '2013-06-08', creditMemoId: 'je-1' },
            { invoiceId: 'i-2', amountMinor: 10_000, date: '2013-06-08', creditMemoId: null },
          ],
        },
      ],
    });
    const by = (key: string) => t.find((e) => e.key === key)!;
    expect(by('credit:je-1')).toMatchObject({
      title: 'Journal entry WO-17 credited the account',
      status: { label: '$150.00 remaining', tone: 'info' },
    });
    expect(by('payment:p-je')).toMatchObject({
      title: 'Journal entry credit applied',
      status: { label: 'journal entry credit applied', tone: 'ok' },
    });
    expect(by('payment:p-mixed-je').detail).toBe('Applied to INV-2; $50.00 from a journal entry credit');
  });

  it('leaves out other customers’ messages and promises, cancelled promises, disputes on foreign invoices', () => {
    const t = buildTimeline({
      ...base,
      messages: [message({ id: 'm-other', customerId: 'c-2' })],
      promises: [
        promise({ id: 'pr-other', customerId: 'c-2' }),
        promise({ id: 'pr-x', cancelledAt: '2013-06-30T00:00:00Z' }),
      ],
      disputes: [dispute({ id: 'd-other', invoiceId: 'i-99' })],
    });
    expect(t.map((e) => e.kind).sort()).toEqual(['invoice', 'invoice', 'invoice', 'payment']);
  });

  it('shows a skipped or failed message with its reason', () => {
    const skipped = buildTimeline({
      ...base,
      invoices: [],
      payments: [],
      messages: [
        message({
          id: 'm-s',
          status: 'skipped',
          why: { ...message({ id: 'x' }).why, statusReason: 'invoice paid before sending' },
        }),
        message({
          id: 'm-f',
          status: 'failed',
          error: 'mailbox unavailable',
          sendAt: '2013-06-02T10:00:00Z',
        }),
      ],
    });
    expect(skipped[0]).toMatchObject({
      status: { label: 'skipped', tone: 'muted' },
      detail: 'step 1 of Standard: 3 days overdue — invoice paid before sending',
      title: 'Friendly reminder to ap@acme.example',
    });
    expect(skipped[1]).toMatchObject({
      status: { label: 'failed', tone: 'bad' },
      detail: 'step 1 of Standard: 3 days overdue — mailbox unavailable',
    });
  });

  it('lists instants on the viewer’s local day', () => {
    expect(localDayTime('2013-07-01T02:30:00Z', 'America/New_York')).toEqual({
      day: '2013-06-30',
      time: '22:30',
    });
    const t = buildTimeline({
      ...base,
      invoices: [],
      payments: [],
      messages: [message({ id: 'm', sentAt: '2013-07-01T02:30:00Z' })],
      timeZone: 'America/New_York',
    });
    expect(t[0]).toMatchObject({ day: '2013-06-30', time: '22:30' });
  });

  it('filters by kind', () => {
    const t = buildTimeline({
      ...base,
      messages: [message({ id: 'm' })],
      promises: [promise()],
      disputes: [dispute()],
    });
    expect(filterTimeline(t, 'all')).toHaveLength(t.length);
    expect(filterTimeline(t, 'money').map((e) => e.kind)).toEqual([
      'invoice',
      'payment',
      'invoice',
      'invoice',
    ]);
    expect(filterTimeline(t, 'messages').map((e) => e.key)).toEqual(['message:m']);
    expect(filterTimeline(t, 'promises').map((e) => e.kind)).toEqual(['promise', 'dispute']);
  });
});

describe('states', () => {
  it('messages: delivery after sending, bounce is bad, held is a warning', () => {
    expect(messageState(message({ id: 'a', status: 'sent', deliveryStatus: 'bounced' }))).toEqual({
      label: 'bounced',
      tone: 'bad',
    });
    expect(messageState(message({ id: 'a', status: 'sent', deliveryStatus: 'soft_bounced' }))).toEqual({
      label: 'soft bounced',
      tone: 'warn',
    });
    expect(messageState(message({ id: 'a', status: 'sent' }))).toEqual({ label: 'sent', tone: 'ok' });
    expect(messageState(message({ id: 'a', status: 'planned' }))).toEqual({
      label: 'would send',
      tone: 'info',
    });
  });

  it('promises: kept once the invoices are paid, broken after the date and grace days', () => {
    const byId = new Map(invoices.map((i) => [i.id, i]));
    expect(promiseState(promise({ invoiceIds: ['i-1'] }), byId, '2013-08-01').label).toBe('kept');
    expect(promiseState(promise(), byId, '2013-07-17').label).toBe('promised'); // 15th + 2 grace days
    expect(promiseState(promise(), byId, '2013-07-18')).toEqual({ label: 'broken', tone: 'bad' });
    expect(promiseState(promise(), byId, null).label).toBe('promised');
  });

  it("the server's today from an overdue invoice", () => {
    expect(ledgerToday(invoices)).toBe('2013-07-01');
    expect(ledgerToday([invoices[0]!, invoices[2]!])).toBeNull();
  });
});

describe('risk trend', () => {
  const risk: CustomerRiskView = {
    scored: true,
    customerId: CUST,
    score: 42,
    trend30: 8,
    trend90: -3,
    slowingAlert: false,
    message: null,
    modelVersion: 'v1',
    asOf: '2013-07-01T00:00:00Z',
    band: 'high',
    history: [
      { day: '2013-04-02', score: 45 },
      { day: '2013-06-01', score: 34 },
      { day: '2013-07-01', score: 42 },
    ],
    reasons: [],
  };
  it('arrows: a rising score is worse', () => {
    expect(trendWords(8, 30)).toEqual({ arrow: '↑', text: 'up 8 points in 30 days', tone: 'bad' });
    expect(trendWords(-1, 90)).toEqual({ arrow: '↓', text: 'down 1 point in 90 days', tone: 'ok' });
    expect(trendWords(0, 30)?.arrow).toBe('→');
    expect(trendWords(null, 30)).toBeNull();
  });
  it('a summary sentence as the chart’s text alternative', () => {
    // The 30-day change starts from the score 30 days before, the 90-day one from 90 days before (issue 16:
    // "up 1 point in 30 days, from 96 on Sep 4" mixed the 90-day point into the 30-day sentence).
    expect(riskSummary(risk)).toBe(
      'Risk score 42 of 100 (high risk) as of Jul 1, 2013; up 8 points in 30 days (from 34 on Jun 1, 2013); ' +
        'down 3 points in 90 days (from 45 on Apr 2, 2013).',
    );
    // Only a 90-day point: its change alone, never labelled as 30 days.
    expect(
      riskSummary({
        ...risk,
        trend30: null,
        history: [
          { day: '2013-04-02', score: 45 },
          { day: '2013-07-01', score: 42 },
        ],
      }),
    ).toBe(
      'Risk score 42 of 100 (high risk) as of Jul 1, 2013; down 3 points in 90 days (from 45 on Apr 2, 2013).',
    );
    expect(
      riskSummary({ ...risk, trend30: null, trend90: null, history: [{ day: '2013-07-01', score: 42 }] }),
    ).toBe('Risk score 42 of 100 (high risk) as of Jul 1, 2013 (no earlier score).');
  });
  it('the score’s inputs in words, and nothing for a score stored before they were', () => {
    expect(riskInputsInWords({ ...risk, pLate: 0.874, pSevere: 0.41, expectedDaysLate: 24 })).toBe(
      'A new invoice to this customer: 87% chance of being paid late, 41% of more than 30 days late; payment ' +
        'expected about 24 days after the due date. The score is the expected days late (counting at most 90) out of 90.',
    );
    expect(riskInputsInWords({ ...risk, pLate: 0.1, pSevere: 0, expectedDaysLate: 0 })).toMatch(
      /payment expected by the due date/,
    );
    expect(riskInputsInWords(risk)).toBeNull();
  });
  it('names the open debt when it, not the payment habit, sets the score; the trends are the habit’s', () => {
    const byDebt = { ...risk, score: 70, habitScore: 42, openDebtScore: 70 };
    expect(riskSummary(byDebt)).toBe(
      'Risk score 70 of 100 (high risk) as of Jul 1, 2013, set by the open debt; payment habit 42 of 100; ' +
        'payment habit up 8 points in 30 days (from 34 on Jun 1, 2013); payment habit down 3 points in 90 days ' +
        '(from 45 on Apr 2, 2013).',
    );
    expect(riskInputsInWords({ ...byDebt, pLate: 0.1, pSevere: 0, expectedDaysLate: 0 })).toBe(
      'A new invoice to this customer: 10% chance of being paid late, 0% of more than 30 days late; payment ' +
        'expected by the due date. What is open now: 70% of the balance is not expected to be collected within 90 ' +
        'days. The score is the higher of the payment habit (the expected days late, counting at most 90, out of ' +
        '90: 42) and that share.',
    );
    // The habit sets it: the summary reads as before.
    expect(riskSummary({ ...risk, habitScore: 42, openDebtScore: 10 })).toMatch(
      /^Risk score 42 of 100 \(high risk\) as of Jul 1, 2013; up 8/,
    );
  });
});

describe('forms', () => {
  it('override: the full PUT body, emails parsed, blanks as null', () => {
    const r = validateOverride(
      CUST,
      {
        pausedUntil: '2013-07-20',
        excluded: false,
        sequenceId: 'gentle',
        contactEmails: 'a@x.com; b@y.com ,',
        note: ' ',
      },
      '2013-07-01',
      ['standard', 'gentle'],
    );
    expect(r).toEqual({
      ok: true,
      body: {
        customerId: CUST,
        pausedUntil: '2013-07-20',
        excluded: false,
        sequenceId: 'gentle',
        contactEmails: ['a@x.com', 'b@y.com'],
        note: null,
      },
    });
    expect(parseEmails('')).toEqual([]);
  });

  it('override: errors by field', () => {
    const r = validateOverride(
      CUST,
      {
        pausedUntil: '2013-06-30',
        excluded: true,
        sequenceId: 'gone',
        contactEmails: 'a@x.com, nope',
        note: '',
      },
      '2013-07-01',
      ['standard'],
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual({
      pausedUntil: 'Choose a date after Jul 1, 2013.',
      sequenceId: 'This sequence is no longer in the policy.',
      contactEmails: 'Not an email address: nope.',
    });
    expect(validateOverride(CUST, { ...overrideFormOf(null), pausedUntil: '2013-02-30' }, null, []).ok).toBe(
      false,
    );
    // A stored pause that has passed does not block saving the other fields.
    expect(
      validateOverride(
        CUST,
        { ...overrideFormOf(null), pausedUntil: '2013-06-30' },
        '2013-07-01',
        [],
        '2013-06-30',
      ).ok,
    ).toBe(true);
  });

  it('promise: invoices and a date are required; the amount is parsed exactly', () => {
    const bad = validatePromise(
      CUST,
      { invoiceIds: [], promisedDate: '', amount: '12.3.4', note: '' },
      '2013-07-01',
      'USD',
    );
    expect(bad).toEqual({
      ok: false,
      errors: {
        invoiceIds: 'Choose at least one invoice.',
        promisedDate: 'Enter the date they promised to pay by.',
        amountMinor: 'Enter a positive amount, like 1200.50.',
      },
    });
    const past = validatePromise(
      CUST,
      { invoiceIds: ['i-2'], promisedDate: '2013-06-30', amount: '', note: '' },
      '2013-07-01',
      'USD',
    );
    expect(past.ok).toBe(false);
    expect(
      validatePromise(
        CUST,
        { invoiceIds: ['i-2'], promisedDate: '2013-07-15', amount: '600.10', note: ' call back ' },
        '2013-07-01',
        'USD',
      ),
    ).toEqual({
      ok: true,
      body: {
        customerId: CUST,
        invoiceIds: ['i-2'],
        promisedDate: '2013-07-15',
        amountMinor: 60_010,
        note: 'call back',
      },
    });
  });

  it('amounts: exact minor units, no more decimals than the currency has', () => {
    expect(parseAmount('600.10', 'USD')).toBe(60_010);
    expect(parseAmount(' 1,250.5 ', 'USD')).toBe(125_050);
    expect(parseAmount('19.99', 'USD')).toBe(1_999);
    expect(parseAmount('1500', 'JPY')).toBe(1_500);
    for (const bad of ['1.999', '0', '0.00', '-5', '12.3.4', '1,25', 'abc', '', '15.5'])
      expect(parseAmount(bad, bad === '15.5' ? 'JPY' : 'USD'), bad).toBeNull();
  });

  it('dispute: invoice and a note are required; until is optional and in the future', () => {
    expect(validateDispute({ invoiceId: '', reason: ' ', until: '' }, null)).toEqual({
      ok: false,
      errors: { invoiceId: 'Choose the disputed invoice.', reason: 'Say what the customer disputes.' },
    });
    expect(validateDispute({ invoiceId: 'i-2', reason: 'x', until: '2013-07-01' }, '2013-07-01').ok).toBe(
      false,
    );
    expect(validateDispute({ invoiceId: 'i-2', reason: ' Damaged ', until: '' }, '2013-07-01')).toEqual({
      ok: true,
      body: { invoiceId: 'i-2', reason: 'Damaged', until: null },
    });
  });

  it("maps the API's field errors to the form's fields", () => {
    expect(
      apiFieldErrors([
        { field: 'contactEmails.1', message: 'Invalid email address' },
        { field: 'sequenceId', message: "no sequence with id 'x'" },
      ]),
    ).toEqual({ contactEmails: 'Invalid email address', sequenceId: "no sequence with id 'x'" });
    expect(apiFieldErrors(undefined)).toEqual({});
  });

  it('summarises the stored override', () => {
    expect(overrideSummary(null, (id) => id)).toEqual([]);
    expect(
      overrideSummary(
        {
          id: 'o',
          customerId: CUST,
          invoiceId: null,
          pausedUntil: '2013-07-20',
          excluded: true,
          sequenceId: 'gentle',
          contactEmails: ['a@x.com'],
          note: null,
          updatedAt: '2013-07-01T00:00:00Z',
        },
        () => 'Gentle',
      ),
    ).toEqual([
      'Reminders paused until Jul 20, 2013',
      'Excluded from automation',
      'Sequence forced: Gentle',
      'Reminders go to a@x.com',
    ]);
  });
});
