import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY,
  dunningSettingsSchema,
  parsePolicy,
  parsePolicyForWrite,
  parseWith,
  promiseToPaySchema,
} from '../../src/dunning/policy';

const seq = (steps: unknown[], extra: Record<string, unknown> = {}) => ({
  defaultSequenceId: 's',
  sequences: [{ id: 's', name: 'S', steps, ...extra }],
});
const errorsOf = (input: unknown) => {
  const r = parsePolicyForWrite(input);
  return r.ok ? [] : r.errors;
};

describe('parsePolicy', () => {
  it('accepts the default policy and fills step defaults', () => {
    const r = parsePolicy(DEFAULT_POLICY);
    expect(r.ok).toBe(true);
    const step = parsePolicy(seq([{ offsetDays: 1, tone: 'neutral' }]));
    expect(step.ok && step.value.sequences[0]!.steps[0]).toEqual({
      offsetDays: 1,
      tone: 'neutral',
      channel: 'email',
      template: 'reminder',
      approval: { type: 'never' },
      onlyIfPredictedLate: false,
    });
  });

  it.each([
    ['empty sequence', seq([]), 'sequences[0].steps: a sequence needs at least one step'],
    [
      'duplicate offsets',
      seq([
        { offsetDays: 3, tone: 'friendly' },
        { offsetDays: 3, tone: 'neutral' },
      ]),
      'sequences[0].steps[1].offsetDays: duplicate offset 3',
    ],
    [
      'unsorted offsets',
      seq([
        { offsetDays: 10, tone: 'neutral' },
        { offsetDays: 1, tone: 'firm' },
      ]),
      'sequences[0].steps[1].offsetDays: steps must be sorted by offsetDays: 1 comes after 10',
    ],
    [
      'offset too early',
      seq([{ offsetDays: -45, tone: 'friendly' }]),
      'sequences[0].steps[0].offsetDays: at most 30 days before',
    ],
    ['non-integer offset', seq([{ offsetDays: 1.5, tone: 'friendly' }]), 'sequences[0].steps[0].offsetDays:'],
    ['unknown tone', seq([{ offsetDays: 1, tone: 'angry' }]), 'sequences[0].steps[0].tone:'],
    [
      'channel not available yet',
      seq([{ offsetDays: 1, tone: 'neutral', channel: 'sms' }]),
      "sequences[0].steps[0].channel: channel 'sms' is not available yet",
    ],
    [
      'final notice before the end',
      seq([
        { offsetDays: 10, tone: 'final' },
        { offsetDays: 20, tone: 'firm' },
      ]),
      'sequences[0].steps[0].tone: a final notice must be the last step',
    ],
    [
      'repeating a final notice',
      seq([{ offsetDays: 10, tone: 'final' }], { repeat: { everyDays: 7, maxRepeats: 2 } }),
      'sequences[0].repeat: a final notice is not repeated',
    ],
    // A final notice waits for an earlier reminder that reached the debtor. Without an overdue step before it, debt
    // already overdue on day one never had one: the planner planned nothing for anyone, silently ("not due").
    [
      'a sequence that starts with its final notice',
      seq([{ offsetDays: 0, tone: 'final' }]),
      'sequences[0].steps[0].tone: a final notice needs an overdue reminder before it',
    ],
    [
      'a final notice after only a pre-due nudge',
      seq([
        { offsetDays: -3, tone: 'friendly' },
        { offsetDays: 25, tone: 'final' },
      ]),
      'sequences[0].steps[1].tone: a final notice needs an overdue reminder before it',
    ],
    [
      'a final notice after only a predicted-late reminder',
      seq([
        { offsetDays: 5, tone: 'neutral', onlyIfPredictedLate: true },
        { offsetDays: 25, tone: 'final' },
      ]),
      'sequences[0].steps[1].tone: a final notice needs an overdue reminder before it',
    ],
    [
      'repeats too frequent',
      seq([{ offsetDays: 10, tone: 'firm' }], { repeat: { everyDays: 1, maxRepeats: 2 } }),
      'sequences[0].repeat.everyDays: at least 3 days between repeats',
    ],
    [
      'repeats beyond a year',
      seq([{ offsetDays: 300, tone: 'firm' }], { repeat: { everyDays: 30, maxRepeats: 5 } }),
      'sequences[0].repeat.maxRepeats: repeats run to day 450',
    ],
    [
      'approval rule unknown',
      seq([{ offsetDays: 1, tone: 'neutral', approval: { type: 'sometimes' } }]),
      'sequences[0].steps[0].approval.type:',
    ],
    [
      'default sequence missing',
      { ...seq([{ offsetDays: 1, tone: 'neutral' }]), defaultSequenceId: 'x' },
      "defaultSequenceId: no sequence with id 'x'",
    ],
    [
      'rule pointing nowhere',
      {
        ...seq([{ offsetDays: 1, tone: 'neutral' }]),
        rules: [{ sequenceId: 'nope', when: { riskBands: ['high'] } }],
      },
      "rules[0].sequenceId: no sequence with id 'nope'",
    ],
    [
      'empty segment',
      { ...seq([{ offsetDays: 1, tone: 'neutral' }]), rules: [{ sequenceId: 's', when: {} }] },
      'rules[0].when: a segment needs at least one condition',
    ],
    [
      'inverted amount range',
      {
        ...seq([{ offsetDays: 1, tone: 'neutral' }]),
        rules: [{ sequenceId: 's', when: { amount: { currency: 'EUR', minMinor: 500, maxMinor: 100 } } }],
      },
      'rules[0].when.amount.minMinor: minMinor must not exceed maxMinor',
    ],
  ])('rejects %s, naming the field', (_, input, expected) => {
    const errors = errorsOf(input);
    expect(
      errors.some((e) => e.startsWith(expected)),
      errors.join('\n'),
    ).toBe(true);
  });

  it('a stored version a PUT would now refuse still reads (planning never breaks on an older policy)', () => {
    const finalFirst = seq([{ offsetDays: 0, tone: 'final' }]);
    expect(parsePolicy(finalFirst).ok).toBe(true);
    expect(parsePolicyForWrite(finalFirst).ok).toBe(false);
    expect(parsePolicyForWrite(DEFAULT_POLICY).ok).toBe(true);
  });

  it('rejects duplicate sequence ids', () => {
    const s = { id: 's', name: 'S', steps: [{ offsetDays: 1, tone: 'neutral' }] };
    expect(errorsOf({ defaultSequenceId: 's', sequences: [s, s] })).toContain(
      "sequences[1].id: duplicate sequence id 's'",
    );
  });

  it('reports every problem at once', () => {
    expect(
      errorsOf(
        seq([
          { offsetDays: 5, tone: 'final' },
          { offsetDays: 5, tone: 'friendly', channel: 'whatsapp' },
        ]),
      ),
    ).toHaveLength(3);
  });
});

describe('default policy', () => {
  const byId = Object.fromEntries(DEFAULT_POLICY.sequences.map((s) => [s.id, s]));
  it('reliable has no unconditional pre-due nudge; high risk starts earlier and needs approval for its final notice', () => {
    expect(byId.reliable!.steps.filter((s) => s.offsetDays < 0).every((s) => s.onlyIfPredictedLate)).toBe(
      true,
    );
    expect(byId['high-risk']!.steps[0]!.offsetDays).toBeLessThan(byId.standard!.steps[0]!.offsetDays);
    expect(byId['high-risk']!.steps.at(-1)).toMatchObject({ tone: 'final', approval: { type: 'always' } });
  });
});

describe('other schemas', () => {
  it('settings validate timezone and hours', () => {
    const r = parseWith(dunningSettingsSchema, {
      timezone: 'Mars/Olympus',
      businessDays: [1, 2, 3],
      businessHours: { start: 17, end: 9 },
      approvalThresholdMinor: 500000,
    });
    expect(r.ok ? [] : r.errors).toEqual([
      'timezone: not an IANA timezone',
      'businessHours: start must be before end',
    ]);
  });

  it('settings must leave at least one sendable hour', () => {
    const r = parseWith(dunningSettingsSchema, {
      timezone: 'Europe/Berlin',
      businessDays: [1, 2, 3, 4, 5],
      businessHours: { start: 9, end: 17 },
      quietHours: { start: 8, end: 18 },
      approvalThresholdMinor: 500000,
    });
    expect(r.ok ? [] : r.errors).toEqual([
      'quietHours: quiet hours cover all business hours, so nothing could ever be sent',
    ]);
  });

  it('a promise to pay gets a default grace period', () => {
    const r = parseWith(promiseToPaySchema, {
      customerId: 'c',
      invoiceIds: ['i'],
      promisedDate: '2026-12-15',
    });
    expect(r.ok && r.value.graceDays).toBe(2);
  });
});
