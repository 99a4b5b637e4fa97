import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addDays, localParts } from '../../src/dunning/local-time';
import { type CustomerPrediction, holdsOf, plan } from '../../src/dunning/planner';
import { DEFAULT_POLICY } from '../../src/dunning/policy';
import { reasonsAsOf, reasonText } from '../../src/dunning/reason-text';
import {
  customer,
  historyOf,
  input,
  invoice,
  NOW,
  prediction,
  risk,
  sent,
  settings,
  TODAY,
} from './planner-fixtures';

const decisionOf = (r: ReturnType<typeof plan>, customerId: string) =>
  r.decisions.find((d) => d.customerId === customerId);

describe('plan: which step, and only one', () => {
  it('plans the due step with a human reason and a snapshot', () => {
    const inv = invoice('1042', 'c1', 14);
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [inv],
        history: sent('c1', '1042', ['standard:1:0'], 10),
        customerPredictions: [risk('c1', 'medium')],
        invoicePredictions: [prediction('1042', 0.8, 21, inv.dueDate, 'high')],
      }),
    );
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0]!;
    expect(m).toMatchObject({
      customerId: 'c1',
      to: ['ap@c1.example'],
      invoiceIds: ['1042'],
      steps: [{ invoiceId: '1042', stepKey: 'standard:2:0' }],
      stepKey: 'standard:2:0',
      tone: 'firm',
      template: 'reminder',
      channel: 'email',
      requiresApproval: false,
      approvalReason: null,
    });
    expect(m.reason).toBe(
      "Invoice 1042 is 14 days overdue; step 3 of 'Standard' (firm); model predicts payment 21 days late (invoice risk: high)",
    );
    expect(m.snapshot.invoices[0]).toMatchObject({
      daysOverdue: 14,
      openBalanceMinor: 100_000,
      stepKey: 'standard:2:0',
      prediction: { pLate: 0.8 },
    });
    expect(m.snapshot.totals).toEqual([{ currency: 'EUR', openMinor: 100_000 }]);
    expect(m.snapshot.sequence).toEqual({ id: 'standard', name: 'Standard', selectedBy: 'default' });
    expect(m.snapshot.customerRisk).toEqual({ riskScore: 0.5, riskBand: 'medium', slowingAlert: false });
    expect(m.key).toMatch(/^dm_[0-9a-f]{24}$/);
  });

  it('very old debt: the reason says collection is unlikely within 90 days, never "payment 1148 days late"', () => {
    // The demo's catch-up case: 418 days overdue, the model's conditional pay date 1148 days after the due date and a
    // 2% chance of collection within 90 days. A far-off date is no forecast a controller can use.
    const inv = invoice('2920', 'c1', 418);
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [inv],
        invoicePredictions: [{ ...prediction('2920', 1, 1148, inv.dueDate, 'high'), pCollect90: 0.02 }],
      }),
    );
    const m = r.messages[0]!;
    expect(m.reason).toContain('Invoice 2920 is 418 days overdue');
    expect(m.reason).toContain('collection unlikely within 90 days (2% chance; invoice risk: high)');
    expect(m.reason).not.toMatch(/1148|days late/);
    // An overdue invoice still likely to be collected keeps its forecast, a long one also in months or years.
    const likely = plan(
      input({
        customers: [customer('c1')],
        invoices: [inv],
        invoicePredictions: [{ ...prediction('2920', 1, 530, inv.dueDate, 'high'), pCollect90: 0.6 }],
      }),
    );
    expect(likely.messages[0]!.reason).toContain(
      'model predicts payment 530 days late (about 17 months; invoice risk: high)',
    );
  });

  it('a debtor never written to gets the gentlest step first, however old the debt: a reviewed catch-up statement', () => {
    const r = plan(input({ customers: [customer('c1')], invoices: [invoice('i1', 'c1', 40)] }));
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0]!;
    expect(m).toMatchObject({
      steps: [{ invoiceId: 'i1', stepKey: 'standard:1:0' }],
      tone: 'neutral',
      template: 'statement',
      requiresApproval: true,
      approvalReason:
        'catch-up: first message to Customer c1, whose oldest invoice is 40 days overdue; sent as a statement of account',
    });
    expect(m.snapshot.catchUp).toBe(true);
    // The first contact says so, not "step 2 of 'Standard'" (as if a first reminder had gone out before).
    expect(m.reason).toMatch(
      /^Catch-up \(first contact, statement of account\): Invoice I1 is 40 days overdue; first contact in sequence 'Standard' \(neutral\)/,
    );
    expect(m.reason).not.toMatch(/step \d/);
    // A reason stored before this wording is read the same way when the message is shown or rendered again.
    const stored = { ...m.snapshot.reasonParts!, rest: ["step 2 of 'Standard' (neutral)"] };
    expect(reasonText(stored, m.snapshot.sendDate!)).toContain(
      "first contact in sequence 'Standard' (neutral)",
    );
  });

  // A statement of account says "N open invoices, X in total": the catch-up listed only the overdue ones, so a
  // debtor with a ¥150,000 overdue invoice and a ¥2,000 one due in two weeks read "1 open invoice, ¥150,000 in
  // total" (a statement someone asks for lists every open invoice not on hold; so does the catch-up now).
  it('a catch-up statement lists every open invoice not on hold, the not-yet-due ones too', () => {
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [
          invoice('old', 'c1', 66, { currency: 'JPY', totalMinor: 150_000, openBalanceMinor: 150_000 }),
          invoice('soon', 'c1', -14, { currency: 'JPY', totalMinor: 2_000, openBalanceMinor: 2_000 }),
          invoice('held', 'c1', -20, { override: { excluded: true } }),
        ],
      }),
    );
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0]!;
    expect(m.template).toBe('statement');
    expect(m.invoiceIds).toEqual(['old', 'soon']);
    expect(m.steps).toEqual([{ invoiceId: 'old', stepKey: 'standard:1:0' }]);
    expect(m.snapshot.totals).toEqual([{ currency: 'JPY', openMinor: 152_000 }]);
    expect(m.snapshot.invoices.find((i) => i.invoiceId === 'soon')).toMatchObject({
      stepKey: null,
      daysOverdue: 0,
    });
    // The "why" counts the listed invoice not yet due as such, not as "1 more overdue invoice".
    expect(m.reason).toMatch(/; 1 more invoice listed, not yet overdue$/);
    expect(m.reason).not.toContain('overdue invoice');
    // An ordinary reminder still lists only what is due or overdue.
    const fresh = plan(
      input({
        customers: [customer('c1')],
        invoices: [invoice('i1', 'c1', 2), invoice('soon', 'c1', -14)],
      }),
    );
    expect(fresh.messages[0]).toMatchObject({ template: 'reminder', invoiceIds: ['i1'] });
  });

  // The email thanks a low-risk debtor who "has always paid reliably": the band alone said so to a debtor who had
  // never paid an invoice (a new customer the model scores low) and to one who paid weeks late several times.
  it('calls a debtor a reliable payer only with a history of paying on time, not for a low risk band alone', () => {
    const reliable = (paidHistory?: { paid: number; late: number }) =>
      plan(
        input({
          customers: [customer('c1', paidHistory ? { paidHistory } : {})],
          invoices: [invoice('i1', 'c1', 5)],
          customerPredictions: [risk('c1', 'low')],
        }),
      ).messages[0]!.snapshot.reliablePayer;
    expect(reliable()).toBe(false);
    expect(reliable({ paid: 0, late: 0 })).toBe(false);
    expect(reliable({ paid: 2, late: 0 })).toBe(false);
    expect(reliable({ paid: 12, late: 2 })).toBe(false);
    expect(reliable({ paid: 12, late: 0 })).toBe(true);
    const medium = plan(
      input({
        customers: [customer('c1', { paidHistory: { paid: 12, late: 0 } })],
        invoices: [invoice('i1', 'c1', 5)],
        customerPredictions: [risk('c1', 'medium')],
      }),
    );
    expect(medium.messages[0]!.snapshot.reliablePayer).toBe(false);
  });

  it('a never-contacted debtor with a freshly overdue invoice gets the ordinary first reminder', () => {
    const r = plan(input({ customers: [customer('c1')], invoices: [invoice('i1', 'c1', 2)] }));
    expect(r.messages[0]).toMatchObject({
      stepKey: 'standard:1:0',
      tone: 'neutral',
      template: 'reminder',
      requiresApproval: false,
    });
    expect(r.messages[0]!.snapshot.catchUp).toBe(false);
  });

  it("escalates one step at a time, each after the sequence's spacing from the previous reminder", () => {
    const run = (daysAgo: number) =>
      plan(
        input({
          customers: [customer('c1')],
          invoices: [invoice('i1', 'c1', 40)],
          history: sent('c1', 'i1', ['standard:1:0'], daysAgo),
        }),
      );
    // Step 2 (+1) → step 3 (+10): 9 days apart, whatever the invoice's age says.
    const early = run(5);
    expect(early.messages).toEqual([]);
    expect(decisionOf(early, 'c1')).toMatchObject({ code: 'not_due' });
    expect(decisionOf(early, 'c1')!.reason).toBe(
      "Invoice I1: step 3 of 'Standard' (firm) on 2026-11-28, 9 days after the previous reminder (2026-11-19)",
    );
    const due = run(9);
    expect(due.messages.map((m) => [m.stepKey, m.tone, m.template])).toEqual([
      ['standard:2:0', 'firm', 'reminder'],
    ]);
  });

  it("carries the step's own wording into the snapshot (not for a catch-up statement)", () => {
    const policy = structuredClone(DEFAULT_POLICY);
    policy.sequences[1]!.steps[1]!.copy = {
      subject: 'Invoice {{invoice_list}}',
      body: 'Please pay {{total}}.',
    };
    const r = plan(input({ policy, customers: [customer('c1')], invoices: [invoice('i1', 'c1', 2)] }));
    expect(r.messages[0]!.snapshot.copy).toEqual({
      subject: 'Invoice {{invoice_list}}',
      body: 'Please pay {{total}}.',
    });
    const old = plan(input({ policy, customers: [customer('c1')], invoices: [invoice('i1', 'c1', 40)] }));
    expect(old.messages[0]!.snapshot.copy).toBeUndefined();
  });

  it('waits for the previous step to be sent before the next one', () => {
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [invoice('i1', 'c1', 40)],
        history: sent('c1', 'i1', ['standard:1:0'], 20, 'planned'),
      }),
    );
    expect(r.messages).toEqual([]);
    expect(decisionOf(r, 'c1')!.invoices[0]!.reason).toContain('is not sent yet');
  });

  it('a final notice only follows reminders that reached the debtor, and always needs approval', () => {
    const received = plan(
      input({
        customers: [customer('c1')],
        invoices: [invoice('i1', 'c1', 40, { openBalanceMinor: 10_000 })],
        history: sent('c1', 'i1', ['standard:1:0', 'standard:2:0'], 15),
      }),
    );
    expect(received.messages[0]).toMatchObject({
      stepKey: 'standard:3:0',
      tone: 'final',
      requiresApproval: true,
      approvalReason: 'a final notice always needs approval',
    });
    // Both earlier reminders were skipped by a reviewer: nothing reached the debtor, so no final notice.
    const skipped = plan(
      input({
        customers: [customer('c1')],
        invoices: [invoice('i1', 'c1', 40, { openBalanceMinor: 10_000 })],
        history: sent('c1', 'i1', ['standard:1:0', 'standard:2:0'], 15, 'skipped'),
      }),
    );
    expect(skipped.messages).toEqual([]);
    expect(decisionOf(skipped, 'c1')!.invoices[0]!.reason).toContain(
      'waits until an earlier reminder has been sent',
    );
  });

  it('is idempotent: same input, same output; planned steps are never planned again', () => {
    const inp = input({
      customers: [customer('c1'), customer('c2')],
      invoices: [invoice('a', 'c1', 2), invoice('b', 'c2', 12)],
    });
    const first = plan(inp);
    expect(plan(inp)).toEqual(first);
    expect(first.messages).toHaveLength(2);

    const again = plan({ ...inp, history: historyOf(first.messages) });
    expect(again.messages).toEqual([]);
    expect(decisionOf(again, 'c1')).toMatchObject({ outcome: 'nothing_due', code: 'already_done' });
    expect(decisionOf(again, 'c1')!.reason).toMatch(
      /step 2 of 'Standard' \(neutral\) already planned on .*; next step on/,
    );
  });

  it("plans the same send times for the same ledger whatever its rows' ids (another database, another run)", () => {
    const ledger = (ids: string[]) =>
      input({
        customers: ids.map((id, k) => customer(id, { name: `Debtor ${k}` })),
        invoices: ids.map((id, k) => invoice(`${id}-inv`, id, 3 + (k % 20), { number: `INV-${k}` })),
      });
    const ids = (tag: string) => Array.from({ length: 60 }, (_, k) => `${tag}-${k}-${randomUUID()}`);
    const sendTimes = (r: ReturnType<typeof plan>, inp: ReturnType<typeof ledger>) => {
      const name = new Map(inp.customers.map((c) => [c.id, c.name]));
      return r.messages.map((m) => `${name.get(m.customerId)} ${m.sendAt.toISOString()}`).sort();
    };
    const a = ledger(ids('a'));
    const b = ledger(ids('b'));
    const first = sendTimes(plan(a), a);
    expect(first).toHaveLength(60);
    // Some of them explore another slot than the first (chooseSendTime's rng), the same ones both times.
    expect(new Set(first.map((x) => x.split(' ').pop())).size).toBeGreaterThan(1);
    expect(sendTimes(plan(b), b)).toEqual(first);
  });

  it('moves to the next step once it falls due, even though an earlier one was sent', () => {
    const first = plan(input({ customers: [customer('c1')], invoices: [invoice('a', 'c1', 2)] }));
    const later = new Date(NOW.getTime() + 9 * 86_400_000); // 11 days overdue → firm step
    const next = plan(
      input({
        now: later,
        customers: [customer('c1')],
        invoices: [invoice('a', 'c1', 2)],
        history: historyOf(first.messages, 'sent'),
      }),
    );
    expect(next.messages.map((m) => m.stepKey)).toEqual(['standard:2:0']);
    expect(first.messages[0]!.snapshot.previousReminders).toBe(0);
    expect(next.messages[0]!.snapshot.previousReminders).toBe(1);
  });
});

describe('plan: consolidation', () => {
  it('sends one message per customer listing every overdue invoice, in the strongest tone', () => {
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [
          invoice('a', 'c1', 1), // neutral due
          invoice('b', 'c1', 11), // firm due
          invoice('c', 'c1', 26), // final due
          invoice('d', 'c1', 5), // overdue, its neutral step already sent
          invoice('e', 'c1', -10), // not due yet
        ],
        history: [
          ...sent('c1', 'b', ['standard:1:0'], 10), // firm due 9 days after it
          ...sent('c1', 'c', ['standard:1:0', 'standard:2:0'], 15), // final due 15 days after the firm one
          {
            customerId: 'c1',
            invoiceId: 'd',
            stepKey: 'standard:1:0',
            tone: 'neutral',
            status: 'sent',
            at: new Date('2026-11-20T09:00:00Z'),
          },
        ],
      }),
    );
    expect(r.messages).toHaveLength(1);
    const m = r.messages[0]!;
    expect(m.tone).toBe('final');
    expect(m.stepKey).toBe('standard:3:0');
    expect(m.invoiceIds).toEqual(['c', 'b', 'd', 'a']); // by due date
    expect(m.steps).toEqual([
      { invoiceId: 'a', stepKey: 'standard:1:0' },
      { invoiceId: 'b', stepKey: 'standard:2:0' },
      { invoiceId: 'c', stepKey: 'standard:3:0' },
    ]);
    expect(m.reason).toContain('also due: B (firm), A (neutral); 1 more overdue invoice listed');
    expect(m.snapshot.totals).toEqual([{ currency: 'EUR', openMinor: 400_000 }]);
    const d = decisionOf(r, 'c1')!;
    expect(d.invoices.find((i) => i.invoiceId === 'd')?.code).toBe('included');
    expect(d.invoices.find((i) => i.invoiceId === 'e')?.code).toBe('not_due');
  });

  it('waits when the customer was contacted within the last few days, whatever fell due since', () => {
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [invoice('a', 'c1', 1)],
        history: [
          {
            customerId: 'c1',
            invoiceId: 'old',
            stepKey: 'standard:2:0',
            tone: 'firm',
            status: 'sent',
            at: new Date('2026-11-23T09:00:00Z'),
          },
        ],
      }),
    );
    expect(r.messages).toEqual([]);
    expect(decisionOf(r, 'c1')).toMatchObject({ outcome: 'skipped', code: 'recently_contacted' });
    expect(decisionOf(r, 'c1')!.reason).toContain('next can go on 2026-11-26');
  });

  it('a skipped (never delivered) message does not count as contact', () => {
    const r = plan(
      input({
        customers: [customer('c1')],
        invoices: [invoice('a', 'c1', 1)],
        history: [
          {
            customerId: 'c1',
            invoiceId: 'old',
            stepKey: 'standard:2:0',
            tone: 'firm',
            status: 'skipped',
            at: new Date('2026-11-23T09:00:00Z'),
          },
        ],
      }),
    );
    expect(r.messages).toHaveLength(1);
  });
});

describe('plan: segment-driven paths', () => {
  const at = (overdue: number, band: 'low' | 'medium' | 'high', pLate = 0.1, slowing = false) => {
    const inv = invoice('i', 'c', overdue);
    const r = plan(
      input({
        customers: [customer('c')],
        invoices: [inv],
        customerPredictions: [risk('c', band, slowing)],
        invoicePredictions: [prediction('i', pLate, pLate >= 0.5 ? 10 : 0, inv.dueDate, band)],
      }),
    );
    return r.messages[0]
      ? `${r.messages[0].stepKey} ${r.messages[0].tone}`
      : `none (${decisionOf(r, 'c')?.code})`;
  };

  it.each([
    // overdue, band, pLate, slowing, expected
    [-3, 'low', 0.1, false, 'none (not_due)'], // reliable payer: no pre-due nudge
    [-3, 'low', 0.8, false, 'reliable:0:0 friendly'], // … unless the model predicts lateness
    [-3, 'medium', 0.2, false, 'none (not_due)'],
    [-3, 'medium', 0.6, false, 'standard:0:0 friendly'],
    [-5, 'high', 0.9, false, 'high-risk:0:0 friendly'], // high risk starts earlier
    [7, 'low', 0.1, false, 'reliable:1:0 friendly'],
    [7, 'medium', 0.1, false, 'standard:1:0 neutral'],
    // First contact is the gentlest overdue step of the path, even where the path is firmer at that age.
    [7, 'high', 0.9, false, 'high-risk:1:0 neutral'],
    [7, 'medium', 0.1, true, 'high-risk:1:0 neutral'], // a slowing customer gets the high-risk path too
  ] as const)('%i days, %s risk, pLate %d, slowing %s → %s', (overdue, band, pLate, slowing, expected) => {
    expect(at(overdue, band, pLate, slowing)).toBe(expected);
  });

  it('takes the customer band as the risk module cut it: a score is never re-banded by cut-offs of its own', () => {
    // Customer scores are expected days late / 90: 0.2 (18 days) is "medium" for the risk module, 0.5 "high".
    // The planner follows the band it is given, whatever a probability-style 0.33/0.66 cut of the score would say.
    const pathOf = (riskScore: number, riskBand: 'low' | 'medium' | 'high') => {
      const inv = invoice('i', 'c', 7);
      const r = plan(
        input({
          customers: [customer('c')],
          invoices: [inv],
          customerPredictions: [{ customerId: 'c', riskScore, riskBand, slowingAlert: false }],
          invoicePredictions: [prediction('i', 0.1, 0, inv.dueDate, 'low')],
        }),
      );
      return r.messages[0]?.stepKey.split(':')[0];
    };
    expect(pathOf(0.2, 'medium')).toBe('standard');
    expect(pathOf(0.5, 'high')).toBe('high-risk');
    expect(pathOf(0.9, 'low')).toBe('reliable');
    expect(pathOf(0.05, 'high')).toBe('high-risk');
    // Without a customer score the riskiest scored invoice decides.
    const inv = invoice('i', 'c', 7);
    const noScore = plan(
      input({
        customers: [customer('c')],
        invoices: [inv],
        invoicePredictions: [prediction('i', 0.9, 10, inv.dueDate, 'high')],
      }),
    );
    expect(noScore.messages[0]?.stepKey.split(':')[0]).toBe('high-risk');
    // A customer prediction must carry its band.
    // @ts-expect-error riskBand is required
    const missing: CustomerPrediction = { customerId: 'c', riskScore: 0.5, slowingAlert: false };
    expect(missing.riskScore).toBe(0.5);
  });

  it('repeats the last step until the limit, then stops', () => {
    const run = (overdue: number, history = [] as ReturnType<typeof historyOf>) =>
      plan(
        input({
          customers: [customer('c')],
          invoices: [invoice('i', 'c', overdue)],
          customerPredictions: [risk('c', 'low')],
          history,
        }),
      );
    const through = (keys: string[]) => sent('c', 'i', keys, 14);
    expect(run(44, through(['reliable:1:0', 'reliable:2:0', 'reliable:3:0'])).messages[0]?.stepKey).toBe(
      'reliable:3:1',
    );
    expect(
      run(80, through(['reliable:1:0', 'reliable:2:0', 'reliable:3:0', 'reliable:3:1', 'reliable:3:2']))
        .messages[0]?.stepKey,
    ).toBe('reliable:3:3');
    const done = run(120, [
      {
        customerId: 'c',
        invoiceId: 'i',
        stepKey: 'reliable:3:3',
        tone: 'firm',
        status: 'sent',
        at: new Date('2026-10-01T09:00:00Z'),
      },
    ]);
    expect(done.messages).toEqual([]);
    expect(decisionOf(done, 'c')!.reason).toContain("'Reliable' is complete");
  });

  it('uses an explicit sequence override over the segment rules, per customer and per invoice', () => {
    const r = plan(
      input({
        customers: [customer('c', { override: { excluded: false, sequenceId: 'high-risk' } })],
        invoices: [
          invoice('i', 'c', 7),
          invoice('j', 'c', 7, { override: { excluded: false, sequenceId: 'reliable' } }),
        ],
        customerPredictions: [risk('c', 'low')],
      }),
    );
    expect(r.messages[0]!.steps).toEqual([
      { invoiceId: 'i', stepKey: 'high-risk:1:0' },
      { invoiceId: 'j', stepKey: 'reliable:1:0' },
    ]);
  });

  it('selects by tags and amount range', () => {
    const policy = {
      ...input({}).policy,
      rules: [
        { sequenceId: 'high-risk', when: { tagsAny: ['public-sector'] } },
        { sequenceId: 'reliable', when: { amount: { currency: 'EUR', maxMinor: 50_000 } } },
      ],
    };
    const r = plan(
      input({
        policy,
        customers: [customer('gov', { tags: ['public-sector'] }), customer('small'), customer('big')],
        invoices: [
          invoice('g', 'gov', 7),
          invoice('s', 'small', 7, { openBalanceMinor: 20_000 }),
          invoice('b', 'big', 7),
        ],
      }),
    );
    expect(r.messages.map((m) => `${m.customerId} ${m.sequenceId}`)).toEqual([
      'gov high-risk',
      'small reliable',
      'big standard',
    ]);
  });

  it('never steps back to a gentler tone after the customer moved to a softer sequence', () => {
    const r = plan(
      input({
        customers: [customer('c')],
        invoices: [invoice('i', 'c', 15)],
        customerPredictions: [risk('c', 'low')], // reliable now: +14 neutral is due
        history: [
          {
            customerId: 'c',
            invoiceId: 'i',
            stepKey: 'standard:2:0',
            tone: 'firm',
            status: 'sent',
            at: new Date('2026-11-19T09:00:00Z'),
          },
        ],
      }),
    );
    // The firm reminder places the invoice after Reliable's neutral step; its firm step (+30) is not due yet.
    expect(r.messages).toEqual([]);
    expect(decisionOf(r, 'c')!.code).toBe('already_done');
    // Later the firm reminder counts as Reliable's firm step: its repeat (day 44) comes in its time.
    const later = plan(
      input({
        now: new Date(NOW.getTime() + 29 * 86_400_000),
        customers: [customer('c')],
        invoices: [invoice('i', 'c', 15)],
        customerPredictions: [risk('c', 'low')],
        history: sent('c', 'i', ['standard:2:0'], 5),
      }),
    );
    expect(
      later.messages.map((m) => m.stepKey),
      JSON.stringify(later.decisions),
    ).toEqual(['reliable:3:1']);
  });
});

describe('plan: holds and blocks', () => {
  const one = (c = customer('c'), inv = invoice('i', 'c', 12), extra = {}) =>
    plan(input({ customers: [c], invoices: [inv], ...extra }));

  it.each([
    ['excluded customer', customer('c', { override: { excluded: true } }), 'customer_excluded'],
    ['opted out', customer('c', { optedOut: true }), 'opted_out'],
    ['bounced address', customer('c', { bounced: true }), 'bounced'],
    ['no address', customer('c', { emails: [] }), 'no_contact'],
    [
      'paused customer',
      customer('c', { override: { excluded: false, pausedUntil: '2026-12-01' } }),
      'customer_paused',
    ],
  ])('%s → skipped', (_, c, code) => {
    const r = one(c);
    expect(r.messages).toEqual([]);
    expect(decisionOf(r, 'c')).toMatchObject({ outcome: 'skipped', code });
  });

  it.each([
    ['zero balance', invoice('i', 'c', 12, { openBalanceMinor: 0 }), {}, 'zero_balance'],
    ['excluded invoice', invoice('i', 'c', 12, { override: { excluded: true } }), {}, 'invoice_excluded'],
    [
      'paused invoice',
      invoice('i', 'c', 12, { override: { excluded: false, pausedUntil: '2026-11-25' } }),
      {},
      'invoice_paused',
    ],
    [
      'open dispute',
      invoice('i', 'c', 12),
      { disputes: [{ invoiceId: 'i', openedOn: '2026-11-20', until: null, resolved: false }] },
      'disputed',
    ],
    [
      'dispute paused to a date',
      invoice('i', 'c', 12),
      { disputes: [{ invoiceId: 'i', openedOn: '2026-11-20', until: '2026-11-30', resolved: false }] },
      'disputed',
    ],
    [
      'promise to pay',
      invoice('i', 'c', 12),
      { promises: [{ customerId: 'c', invoiceIds: ['i'], promisedDate: '2026-11-23', graceDays: 2 }] },
      'promise_to_pay',
    ],
  ])('%s → nothing sent', (_, inv, extra, code) => {
    const r = one(customer('c'), inv, extra);
    expect(r.messages).toEqual([]);
    expect(decisionOf(r, 'c')).toMatchObject({ outcome: 'nothing_due', code });
  });

  it.each([
    ['pause ended today', invoice('i', 'c', 12, { override: { excluded: false, pausedUntil: TODAY } }), {}],
    [
      'resolved dispute',
      invoice('i', 'c', 12),
      { disputes: [{ invoiceId: 'i', openedOn: '2026-11-01', until: null, resolved: true }] },
    ],
    [
      'dispute pause over',
      invoice('i', 'c', 12),
      { disputes: [{ invoiceId: 'i', openedOn: '2026-11-01', until: TODAY, resolved: false }] },
    ],
    [
      'broken promise (past grace)',
      invoice('i', 'c', 12),
      { promises: [{ customerId: 'c', invoiceIds: ['i'], promisedDate: '2026-11-21', graceDays: 2 }] },
    ],
  ])('%s → reminders resume', (_, inv, extra) => {
    expect(one(customer('c'), inv, extra).messages).toHaveLength(1);
  });

  it('a held invoice is neither chased nor listed, while the others still are', () => {
    const r = plan(
      input({
        customers: [customer('c')],
        invoices: [invoice('i', 'c', 12), invoice('j', 'c', 12)],
        disputes: [{ invoiceId: 'j', openedOn: '2026-11-20', until: null, resolved: false }],
      }),
    );
    expect(r.messages[0]!.invoiceIds).toEqual(['i']);
  });

  it('with several promises on one invoice, the latest promised date governs', () => {
    const promises = [
      { customerId: 'c', invoiceIds: ['i'], promisedDate: '2026-11-30', graceDays: 0 },
      { customerId: 'c', invoiceIds: ['i'], promisedDate: '2026-11-10', graceDays: 0 },
    ];
    expect(decisionOf(one(customer('c'), invoice('i', 'c', 12), { promises }), 'c')!.code).toBe(
      'promise_to_pay',
    );
  });

  it('an invoice routed to another contact gets its own message; the rest stay consolidated', () => {
    const r = plan(
      input({
        customers: [customer('c')],
        invoices: [
          invoice('i', 'c', 12),
          invoice('j', 'c', 3),
          invoice('k', 'c', 12, { override: { excluded: false, contactEmails: ['projects@c.example'] } }),
        ],
      }),
    );
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['ap@c.example'], invoiceIds: ['i', 'j'] },
      { to: ['projects@c.example'], invoiceIds: ['k'] },
    ]);
    expect(new Set(r.messages.map((m) => m.key)).size).toBe(2);
  });

  it('groups whose recipients overlap become one message to the union: nobody gets two reminders from one run', () => {
    // An invoice contact override sharing an address (in another case) with the customer's contacts, and one that
    // overlaps it only through that override's second address: one message, every invoice, each address once.
    const invoices = [
      invoice('i', 'c', 12),
      invoice('j', 'c', 3, {
        override: { excluded: false, contactEmails: ['AP@c.example', 'ops@c.example'] },
      }),
      invoice('k', 'c', 12, {
        override: { excluded: false, contactEmails: ['ops@c.example', 'cfo@c.example'] },
      }),
      invoice('l', 'c', 12, { override: { excluded: false, contactEmails: ['projects@c.example'] } }),
    ];
    const c = customer('c', { emails: ['ap@c.example', 'boss@c.example'] });
    const r = plan(input({ customers: [c], invoices }));
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      {
        to: ['ap@c.example', 'boss@c.example', 'ops@c.example', 'cfo@c.example'],
        invoiceIds: ['i', 'k', 'j'],
      },
      { to: ['projects@c.example'], invoiceIds: ['l'] },
    ]);
    const addresses = r.messages.flatMap((m) => m.to.map((a) => a.toLowerCase()));
    expect(new Set(addresses).size).toBe(addresses.length);
    // Deterministic whatever order the ledger returns the invoices in: same keys, recipients and invoices.
    const reversed = plan(input({ customers: [c], invoices: [...invoices].reverse() }));
    const shape = (x: typeof r) =>
      x.messages
        .map((m) => ({ key: m.key, to: m.to, invoiceIds: m.invoiceIds, steps: m.steps }))
        .sort((a, b) => a.key.localeCompare(b.key));
    expect(shape(reversed)).toEqual(shape(r));
  });

  it("an invoice's own BillEmail is where it is chased, for any customer; the same address as the customer's is one message", () => {
    const r = plan(
      input({
        customers: [customer('c', { emails: ['ap@c.example', 'boss@c.example'] })],
        invoices: [
          invoice('i', 'c', 12),
          invoice('j', 'c', 12, { billEmails: ['payables@c.example'] }),
          invoice('k', 'c', 3, { billEmails: ['Boss@c.example'] }),
        ],
      }),
    );
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['ap@c.example', 'boss@c.example'], invoiceIds: ['i', 'k'] },
      { to: ['payables@c.example'], invoiceIds: ['j'] },
    ]);
  });

  it("a BillEmail that is one of the customer's addresses (the ledger's copy of it) keeps every address of the customer", () => {
    // QuickBooks and NetSuite copy the customer's email onto each invoice and Duely keeps its first address: chasing
    // only that one would drop the customer's other billing contacts.
    const r = plan(
      input({
        customers: [customer('c', { emails: ['ap@c.example', 'boss@c.example'] })],
        invoices: [invoice('k', 'c', 12, { billEmails: ['AP@c.example'] })],
      }),
    );
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['ap@c.example', 'boss@c.example'], invoiceIds: ['k'] },
    ]);
  });

  it('a BillEmail of several addresses: every one of them receives the reminder, in one message', () => {
    const r = plan(
      input({
        customers: [customer('c', { emails: ['office@c.example'] })],
        invoices: [
          invoice('i', 'c', 12),
          invoice('j', 'c', 12, { billEmails: ['payables@c.example', 'Controller@c.example'] }),
        ],
      }),
    );
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['payables@c.example', 'Controller@c.example'], invoiceIds: ['j'] },
      { to: ['office@c.example'], invoiceIds: ['i'] },
    ]);
  });

  it("a BillEmail list: all among the customer's addresses keeps every address of the customer; one beyond them routes the invoice to the list, in one message with the customer's", () => {
    const c = customer('c', { emails: ['ap@c.example', 'boss@c.example'] });
    // The ledger's copy of the customer's addresses (all of them, or some): the customer's addresses, as before.
    const copied = plan(
      input({
        customers: [c],
        invoices: [invoice('k', 'c', 12, { billEmails: ['Boss@c.example', 'AP@c.example'] })],
      }),
    );
    expect(copied.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['ap@c.example', 'boss@c.example'], invoiceIds: ['k'] },
    ]);
    // Someone added an address that is not the customer's: the invoice goes to its list; it shares ap@ with the
    // customer's other invoice, so one message to everyone concerned lists both (nobody gets two).
    const r = plan(
      input({
        customers: [c],
        invoices: [
          invoice('i', 'c', 12),
          invoice('k', 'c', 12, { billEmails: ['AP@c.example', 'legal@law.example'] }),
        ],
      }),
    );
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['ap@c.example', 'boss@c.example', 'legal@law.example'], invoiceIds: ['i', 'k'] },
    ]);
  });

  it("a BillEmail that is an address the customer had (a stale copy) follows the customer's current addresses; one it never had still routes, with the old address replaced", () => {
    // QuickBooks keeps the old address on the invoices written before the customer's email changed.
    const c = customer('c', { emails: ['billing@c.example'], formerEmails: ['ap@c.example'] });
    const r = plan(
      input({
        customers: [c],
        invoices: [
          invoice('k', 'c', 12, { billEmails: ['AP@c.example'] }),
          invoice('j', 'c', 12, { billEmails: ['ap@c.example', 'payables@group.example'] }),
        ],
      }),
    );
    // j was routed to the group's payables and the customer's (then) address: the group's payables and the
    // customer's address now; it shares that with k, so one message lists both.
    expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['billing@c.example', 'payables@group.example'], invoiceIds: ['j', 'k'] },
    ]);
    // No current address left: the BillEmail is all there is (the invoice keeps it).
    const none = plan(
      input({
        customers: [customer('c', { emails: [], formerEmails: ['ap@c.example'] })],
        invoices: [invoice('k', 'c', 12, { billEmails: ['ap@c.example'] })],
      }),
    );
    expect(none.messages.map((m) => m.to)).toEqual([['ap@c.example']]);
  });

  it.each([
    ['no address', customer('c', { emails: [] }), 'no_contact'],
    ['every address bounced', customer('c', { bounced: true }), 'bounced'],
  ])(
    '%s, but an invoice names its own recipient: that invoice is chased there, the other waits',
    (_, c, code) => {
      const own = invoice('j', 'c', 12, { billEmails: ['payables@c.example'] });
      const routed = invoice('k', 'c', 12, {
        override: { excluded: false, contactEmails: ['pm@c.example'] },
      });
      const r = plan(input({ customers: [c], invoices: [invoice('i', 'c', 12), own, routed] }));
      expect(r.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
        { to: ['payables@c.example'], invoiceIds: ['j'] },
        { to: ['pm@c.example'], invoiceIds: ['k'] },
      ]);
      expect(decisionOf(r, 'c')).toMatchObject({ outcome: 'message' });
      expect(decisionOf(r, 'c')?.invoices).toContainEqual(expect.objectContaining({ invoiceId: 'i', code }));
      // Held invoice by invoice: the messages to the invoices' own recipients are not withdrawn, the rest are.
      const holds = holdsOf(input({ customers: [c], invoices: [invoice('i', 'c', 12), own, routed] }));
      expect(holds.customers.has('c')).toBe(false);
      expect(holds.invoices.get('i')).toMatchObject({ code });
      expect(holds.invoices.has('j')).toBe(false);
      // Without any invoice naming a recipient the whole customer is held, as before.
      expect(
        holdsOf(input({ customers: [c], invoices: [invoice('i', 'c', 12)] })).customers.get('c'),
      ).toMatchObject({
        code,
      });
    },
  );

  it('recipients by precedence: invoice contact override, customer dunning contact, invoice BillEmail, billing emails', () => {
    const billed = invoice('j', 'c', 12, { billEmails: ['payables@c.example'] });
    // The customer's dunning contact is the finance team's choice: it wins over the invoice's BillEmail.
    const withContact = plan(
      input({
        customers: [customer('c', { override: { excluded: false, contactEmails: ['cfo@c.example'] } })],
        invoices: [invoice('i', 'c', 12), billed],
      }),
    );
    expect(withContact.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['cfo@c.example'], invoiceIds: ['i', 'j'] },
    ]);
    // An invoice contact override wins over both.
    const routed = plan(
      input({
        customers: [customer('c', { override: { excluded: false, contactEmails: ['cfo@c.example'] } })],
        invoices: [
          invoice('i', 'c', 12),
          { ...billed, override: { excluded: false, contactEmails: ['projects@c.example'] } },
        ],
      }),
    );
    expect(routed.messages.map((m) => ({ to: m.to, invoiceIds: m.invoiceIds }))).toEqual([
      { to: ['cfo@c.example'], invoiceIds: ['i'] },
      { to: ['projects@c.example'], invoiceIds: ['j'] },
    ]);
  });

  it('a contact override replaces a bounced billing address', () => {
    const c = customer('c', {
      bounced: true,
      override: { excluded: false, contactEmails: ['cfo@c.example'] },
    });
    expect(one(c).messages[0]!.to).toEqual(['cfo@c.example']);
  });
});

describe('plan: approval', () => {
  it('final notice above the tenant threshold needs approval, below it does not', () => {
    const history = sent('c', 'i', ['standard:1:0', 'standard:2:0'], 15);
    const big = plan(
      input({
        customers: [customer('c')],
        invoices: [invoice('i', 'c', 26, { openBalanceMinor: 750_000 })],
        history,
      }),
    );
    expect(big.messages[0]).toMatchObject({ tone: 'final', requiresApproval: true });
    expect(big.messages[0]!.approvalReason).toBe(
      'open total €7,500.00 is above the approval threshold €5,000.00; a final notice always needs approval',
    );
    const small = plan(
      input({
        customers: [customer('c')],
        invoices: [invoice('i', 'c', 26, { openBalanceMinor: 10_000 })],
        history,
      }),
    );
    expect(small.messages[0]).toMatchObject({
      tone: 'final',
      requiresApproval: true,
      approvalReason: 'a final notice always needs approval',
    });
  });

  it('high-risk final notices always need approval; strategic accounts need it for firm messages', () => {
    const hr = plan(
      input({
        customers: [customer('c')],
        invoices: [invoice('i', 'c', 21)],
        customerPredictions: [risk('c', 'high')],
        history: sent('c', 'i', ['high-risk:1:0', 'high-risk:2:0'], 14),
      }),
    );
    expect(hr.messages[0]!.approvalReason).toBe(
      "step 4 of 'High risk' always needs approval; a final notice always needs approval",
    );
    const strategic = plan(
      input({
        customers: [customer('c', { strategic: true })],
        invoices: [invoice('i', 'c', 12)],
        history: sent('c', 'i', ['standard:1:0'], 10),
      }),
    );
    expect(strategic.messages[0]!.approvalReason).toBe(
      'Customer c is a strategic account and this message is firm',
    );
    const gentle = plan(
      input({ customers: [customer('c', { strategic: true })], invoices: [invoice('i', 'c', 2)] }),
    );
    expect(gentle.messages[0]!.requiresApproval).toBe(false);
  });
});

describe("plan: a catch-up's approval reason", () => {
  // The catch-up is a statement of account, the first contact: its approval reason used to name the step the debt
  // had reached ("step 2 of 'High risk' always needs approval"), as if that reminder were what a reviewer approves.
  const withRule = (rule: { type: 'always' } | { type: 'high_risk' }) => ({
    ...DEFAULT_POLICY,
    sequences: DEFAULT_POLICY.sequences.map((q) => ({
      ...q,
      steps: q.steps.map((st) => ({ ...st, approval: rule })),
    })),
  });
  const catchUp = (rule: { type: 'always' } | { type: 'high_risk' }, extra = {}) =>
    plan(
      input({
        policy: withRule(rule),
        customers: [customer('c', extra)],
        invoices: [invoice('i', 'c', 25), invoice('j', 'c', 12)],
        customerPredictions: [risk('c', 'high')],
      }),
    ).messages[0]!;

  it('describes what is sent, the first contact (catch-up statement), never the configured step', () => {
    const high = catchUp({ type: 'high_risk' });
    expect(high).toMatchObject({ template: 'statement', requiresApproval: true });
    expect(high.snapshot.catchUp).toBe(true);
    expect(high.approvalReason).toBe(
      'catch-up: first message to Customer c, whose oldest invoice is 25 days overdue; sent as a statement of account; first contact (catch-up statement) for a high-risk customer needs approval',
    );
    const always = catchUp({ type: 'always' });
    expect(always.approvalReason).toBe(
      'catch-up: first message to Customer c, whose oldest invoice is 25 days overdue; sent as a statement of account; first contact (catch-up statement) always needs approval',
    );
    expect(always.approvalReason).not.toMatch(/step \d/);
    // One planned before this wording is read the same way when it is shown or rendered again.
    const planned = high.approvalReason!.split('; first contact')[0]!;
    const stored = `${planned}; step 2 of 'High risk' always needs approval; high-risk customer; a final notice always needs approval`;
    expect(reasonsAsOf({ ...high, approvalReason: stored }, high.snapshot.sendDate!).approvalReason).toBe(
      `${planned}; first contact (catch-up statement) always needs approval; first contact (catch-up statement) for a high-risk customer needs approval`,
    );
  });

  it('a strategic account: the statement is named as what it is, not as a firm message', () => {
    const policy = {
      ...DEFAULT_POLICY,
      sequences: DEFAULT_POLICY.sequences.map((q) =>
        q.id === 'standard' ? { ...q, steps: q.steps.filter((st) => st.tone !== 'neutral') } : q,
      ),
    };
    const m = plan(
      input({
        policy,
        customers: [customer('c', { strategic: true })],
        invoices: [invoice('i', 'c', 12)],
      }),
    ).messages[0]!;
    expect(m).toMatchObject({ template: 'statement', tone: 'firm' });
    expect(m.approvalReason).toContain(
      'Customer c is a strategic account and this first contact (catch-up statement) stands in for a firm reminder',
    );
    expect(m.approvalReason).not.toMatch(/this message is firm/);
  });
});

describe('plan: time', () => {
  it("counts days in the debtor's timezone", () => {
    const late = new Date('2026-11-24T23:30:00Z'); // 25th in Berlin, still the 24th in Los Angeles
    const inv = invoice('i', 'c', 0); // due 2026-11-24
    const berlin = plan(input({ now: late, customers: [customer('c')], invoices: [inv] }));
    const la = plan(
      input({ now: late, customers: [customer('c', { timezone: 'America/Los_Angeles' })], invoices: [inv] }),
    );
    expect(berlin.messages[0]?.stepKey).toBe('standard:1:0'); // +1 reached
    expect(la.messages).toEqual([]);
  });

  it("days overdue in the snapshot are counted to the send date in the debtor's zone, not the planning day", () => {
    // 07:00 UTC on the 24th is still the 23rd in Los Angeles; the message goes out in LA business hours on the 24th.
    const r = plan(
      input({
        customers: [customer('c', { timezone: 'America/Los_Angeles' })],
        invoices: [invoice('i', 'c', 5)], // due 2026-11-19
      }),
    );
    const m = r.messages[0]!;
    expect(m.snapshot.asOf).toBe('2026-11-23');
    expect(m.snapshot.sendDate).toBe('2026-11-24');
    expect(localParts(m.sendAt, 'America/Los_Angeles').date).toBe('2026-11-24');
    expect(m.snapshot.invoices[0]!.daysOverdue).toBe(5);
  });

  it('schedules inside business hours in the debtor timezone, never in the past', () => {
    const r = plan(
      input({
        customers: [customer('c', { timezone: 'America/New_York' })],
        invoices: [invoice('i', 'c', 12)],
      }),
    );
    const at = r.messages[0]!.sendAt;
    const local = localParts(at, 'America/New_York');
    expect(at.getTime()).toBeGreaterThanOrEqual(NOW.getTime());
    expect(local.hour).toBeGreaterThanOrEqual(settings.businessHours.start);
    expect(local.hour).toBeLessThan(settings.businessHours.end);
    expect(local.weekday).toBeLessThanOrEqual(5);
    expect(local.date <= addDays(TODAY, 2)).toBe(true);
  });
});
