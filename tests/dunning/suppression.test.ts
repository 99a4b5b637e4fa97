import { describe, expect, it } from 'vitest';
import {
  checkSuppression,
  type LiveInvoice,
  type SuppressionInput,
  staleUpload,
} from '../../src/dunning/suppression';

const NOW = new Date('2026-11-24T09:00:00Z'); // Tuesday 10:00 Berlin
const inv = (id: string, extra: Partial<LiveInvoice> = {}): LiveInvoice => ({
  invoiceId: id,
  number: id.toUpperCase(),
  status: 'open',
  openBalanceMinor: 100_000,
  currency: 'EUR',
  disputed: false,
  excluded: false,
  pausedUntil: null,
  promiseUntil: null,
  ...extra,
});

type Patch = {
  now?: Date;
  invoices?: LiveInvoice[];
  customer?: Partial<SuppressionInput['customer']>;
  message?: Partial<SuppressionInput['message']>;
  connection?: SuppressionInput['connection'];
  window?: Partial<SuppressionInput['window']>;
};
function state(p: Patch = {}): SuppressionInput {
  return {
    now: p.now ?? NOW,
    today: '2026-11-24',
    message: {
      invoiceIds: ['a', 'b'],
      plannedBalances: [
        { invoiceId: 'a', openBalanceMinor: 100_000 },
        { invoiceId: 'b', openBalanceMinor: 100_000 },
      ],
      requiresApproval: false,
      approval: null,
      ...p.message,
    },
    invoices: p.invoices ?? [inv('a'), inv('b')],
    customer: { optedOut: false, bounced: false, excluded: false, pausedUntil: null, ...p.customer },
    connection: p.connection ?? { status: 'active' },
    window: {
      timeZone: 'Europe/Berlin',
      businessDays: [1, 2, 3, 4, 5],
      businessHours: { start: 8, end: 18 },
      quietHours: { start: 20, end: 8 },
      holidays: [],
      ...p.window,
    },
  };
}

describe('checkSuppression', () => {
  it.each<[string, Patch, string, string, boolean]>([
    ['everything in order', {}, 'send', 'ok', false],
    [
      'both invoices paid',
      { invoices: [inv('a', { status: 'paid', openBalanceMinor: 0 }), inv('b', { openBalanceMinor: 0 })] },
      'skip',
      'paid',
      false,
    ],
    [
      'one paid, one voided',
      { invoices: [inv('a', { status: 'paid' }), inv('b', { status: 'void' })] },
      'skip',
      'paid',
      false,
    ],
    [
      'both voided or deleted',
      { invoices: [inv('a', { status: 'void' })] },
      'skip',
      'void_or_deleted',
      false,
    ],
    [
      'both disputed',
      { invoices: [inv('a', { disputed: true }), inv('b', { disputed: true })] },
      'skip',
      'disputed',
      false,
    ],
    [
      'one paid, the other still owed',
      { invoices: [inv('a', { status: 'paid' }), inv('b')] },
      'skip',
      'paid',
      true,
    ],
    [
      'one disputed, the other still owed',
      { invoices: [inv('a'), inv('b', { disputed: true })] },
      'skip',
      'disputed',
      true,
    ],
    [
      'invoice paused',
      { invoices: [inv('a', { pausedUntil: '2026-11-30' }), inv('b', { pausedUntil: '2026-11-30' })] },
      'skip',
      'invoice_paused',
      false,
    ],
    ['pause ended', { invoices: [inv('a', { pausedUntil: '2026-11-24' }), inv('b')] }, 'send', 'ok', false],
    [
      'promise to pay active',
      { invoices: [inv('a', { promiseUntil: '2026-11-24' }), inv('b', { promiseUntil: '2026-11-26' })] },
      'skip',
      'promise_to_pay',
      false,
    ],
    [
      'promise lapsed',
      { invoices: [inv('a', { promiseUntil: '2026-11-23' }), inv('b')] },
      'send',
      'ok',
      false,
    ],
    [
      'invoice excluded',
      { invoices: [inv('a', { excluded: true }), inv('b', { excluded: true })] },
      'skip',
      'invoice_excluded',
      false,
    ],
    [
      'partial payment since planning',
      { invoices: [inv('a', { openBalanceMinor: 60_000 }), inv('b')] },
      'skip',
      'balance_changed',
      true,
    ],
    [
      'balance moved by under 1%',
      { invoices: [inv('a', { openBalanceMinor: 99_500 }), inv('b')] },
      'send',
      'ok',
      false,
    ],
    ['opted out', { customer: { optedOut: true } }, 'skip', 'opted_out', false],
    ['address bounced', { customer: { bounced: true } }, 'skip', 'bounced', false],
    ['customer excluded', { customer: { excluded: true } }, 'skip', 'customer_excluded', false],
    ['customer paused', { customer: { pausedUntil: '2026-12-01' } }, 'skip', 'customer_paused', false],
    [
      'connection disconnected',
      { connection: { status: 'disconnected' } },
      'skip',
      'connection_disconnected',
      false,
    ],
    [
      'connection needs reconnect',
      { connection: { status: 'needs_reconnect' } },
      'hold',
      'connection_needs_reconnect',
      false,
    ],
    [
      'awaiting approval',
      { message: { requiresApproval: true, approval: 'pending' } },
      'hold',
      'awaiting_approval',
      false,
    ],
    ['approved', { message: { requiresApproval: true, approval: 'approved' } }, 'send', 'ok', false],
    [
      'rejected by reviewer',
      { message: { requiresApproval: true, approval: 'rejected' } },
      'skip',
      'approval_rejected',
      false,
    ],
    ['quiet hours', { now: new Date('2026-11-24T20:00:00Z') }, 'defer', 'quiet_hours', false],
    [
      'before business hours',
      { now: new Date('2026-11-24T06:30:00Z'), window: { quietHours: null } },
      'defer',
      'outside_business_hours',
      false,
    ],
    ['weekend', { now: new Date('2026-11-28T10:00:00Z') }, 'defer', 'non_business_day', false],
    ['holiday', { window: { holidays: ['2026-11-24'] } }, 'defer', 'holiday', false],
  ])('%s → %s (%s)', (_, patch, action, code, replan) => {
    const d = checkSuppression(state(patch));
    expect({ action: d.action, code: d.code, replan: d.replan }).toEqual({ action, code, replan });
    expect(d.reason.length).toBeGreaterThan(5);
  });

  it('an opt-out wins over everything else', () => {
    const d = checkSuppression(
      state({
        customer: { optedOut: true },
        connection: { status: 'needs_reconnect' },
        message: { requiresApproval: true, approval: 'pending' },
      }),
    );
    expect(d.code).toBe('opted_out');
  });

  it('a paid invoice is skipped even while the message awaits approval or sits in quiet hours', () => {
    const paid = [inv('a', { status: 'paid' }), inv('b', { status: 'paid' })];
    const d = checkSuppression(
      state({
        invoices: paid,
        message: { requiresApproval: true, approval: 'pending' },
        now: new Date('2026-11-24T21:00:00Z'),
      }),
    );
    expect(d.code).toBe('paid');
  });

  it('defers to the next allowed time in the debtor timezone', () => {
    const d = checkSuppression(state({ now: new Date('2026-11-27T19:30:00Z') })); // Friday 20:30 Berlin
    expect(d.until?.toISOString()).toBe('2026-11-30T07:00:00.000Z'); // Monday 08:00 Berlin
  });

  it('names the invoices and amounts in the reason', () => {
    const d = checkSuppression(
      state({ invoices: [inv('a', { openBalanceMinor: 60_000 }), inv('b', { status: 'paid' })] }),
    );
    expect(d.reason).toBe(
      'Invoice A balance changed from €1,000.00 to €600.00 since planning; Invoice B is paid; re-plan the rest',
    );
  });

  it('treats a missing invoice row as deleted', () => {
    expect(checkSuppression(state({ invoices: [] }))).toMatchObject({
      action: 'skip',
      code: 'void_or_deleted',
    });
  });
});

describe('a ledger that is an upload (a CSV company)', () => {
  // NOW is Tuesday 2026-11-24 10:00 Berlin; the company's day is read in its own zone.
  const upload = (at: string, maxAgeDays = 3) => ({
    at: new Date(at),
    maxAgeDays,
    timeZone: 'Europe/Berlin',
  });

  it('holds a reminder while the latest upload is older than the limit, naming its day and age', () => {
    const d = checkSuppression({ ...state(), upload: upload('2026-11-18T16:00:00Z') });
    expect(d).toMatchObject({ action: 'hold', code: 'ledger_stale', replan: false });
    expect(d.reason).toBe(
      'The ledger is the upload of Nov 18, 6 days old (reminders wait once it is over 3 days old): upload a newer export to send',
    );
  });

  it('sends from an upload within the limit, counted in calendar days of the company', () => {
    // Nov 20 23:30 UTC is Nov 21 in Berlin: 3 days old on Nov 24, not over the limit.
    expect(checkSuppression({ ...state(), upload: upload('2026-11-20T23:30:00Z') }).action).toBe('send');
    expect(checkSuppression({ ...state(), upload: upload('2026-11-20T22:30:00Z') }).code).toBe(
      'ledger_stale',
    );
    expect(checkSuppression({ ...state(), upload: upload('2026-11-18T16:00:00Z', 7) }).action).toBe('send');
  });

  it('the debtor’s own choices still come first; a live ledger is never held for age', () => {
    const stale = upload('2026-11-01T09:00:00Z');
    expect(checkSuppression({ ...state({ customer: { optedOut: true } }), upload: stale }).code).toBe(
      'opted_out',
    );
    expect(checkSuppression({ ...state(), upload: null }).action).toBe('send');
  });

  it('an invoice the latest upload did not list is as of the latest upload that did', () => {
    const today = upload('2026-11-24T08:00:00Z');
    const unlisted = (listedAt: string | null, leftOut: number | null = null) => ({
      ...today,
      unlisted: { invoiceIds: ['b'], leftOut, listedAt: listedAt ? new Date(listedAt) : null },
    });
    const old = checkSuppression({ ...state(), upload: unlisted('2026-11-18T16:00:00Z') });
    expect(old).toMatchObject({ action: 'hold', code: 'ledger_stale' });
    expect(old.reason).toBe(
      'The figures of invoice B are the upload of Nov 18, 6 days old (the upload of Nov 24 did not list invoice B; reminders wait once they are over 3 days old): upload an export that lists it to send',
    );
    // Listed by yesterday's full export, left out of today's file of new invoices: recent enough.
    expect(checkSuppression({ ...state(), upload: unlisted('2026-11-23T08:00:00Z') }).action).toBe('send');
    expect(checkSuppression({ ...state(), upload: unlisted(null) }).reason).toBe(
      'No upload lists invoice B with its figures (the upload of Nov 24 did not list invoice B): upload an export that lists it to send',
    );
    expect(checkSuppression({ ...state(), upload: unlisted('2026-11-18T16:00:00Z', 1200) }).reason).toContain(
      'the upload of Nov 24 left out 1,200 open invoices, maybe invoice B;',
    );
  });

  it('holds a reminder from an old export uploaded today: its newest invoice or payment dates the ledger', () => {
    // A 2019 SAP export uploaded this morning: the upload is fresh, its figures are 2019's (a debtor may have paid in
    // the years since). The statement read "2690 days overdue", due to go out once approved.
    const old = { ...upload('2026-11-24T08:00:00Z'), exportOn: '2019-08-31' };
    const d = checkSuppression({ ...state(), upload: old });
    expect(d).toMatchObject({ action: 'hold', code: 'ledger_stale', replan: false });
    expect(d.reason).toBe(
      'The ledger is the upload of Nov 24, an export whose newest invoice or payment is dated Aug 31, 2019, 2,642 days ago (reminders wait while it has nothing in the last 30 days: a debtor may have paid since): upload a current export to send',
    );
    // The Dashboard's banner (GET …/dunning/today uploadTooOld): the export's day, its age and the limit it is over.
    expect(staleUpload(old, NOW)).toMatchObject({ uploadedOn: '2019-08-31', ageDays: 2642, maxAgeDays: 30 });
    // An export whose latest entry is a few weeks old is a quiet month, not an old file.
    expect(checkSuppression({ ...state(), upload: { ...old, exportOn: '2026-10-25' } }).action).toBe('send');
    expect(checkSuppression({ ...state(), upload: { ...old, exportOn: '2026-10-24' } }).code).toBe(
      'ledger_stale',
    );
    // A longer upload limit is a longer quiet period too.
    expect(
      checkSuppression({ ...state(), upload: { ...old, maxAgeDays: 60, exportOn: '2026-10-01' } }).action,
    ).toBe('send');
  });

  it('names the year of an upload from another year', () => {
    const d = checkSuppression({ ...state(), upload: upload('2025-12-30T12:00:00Z', 30) });
    expect(d.reason).toMatch(/^The ledger is the upload of Dec 30, 2025, 329 days old/);
  });
});
