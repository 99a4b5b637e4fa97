import { describe, expect, it } from 'vitest';
import { localParts } from '../../src/dunning/local-time';
import {
  chooseSendTime,
  type EngagementRecord,
  nextAllowedTime,
  type SendTimeInput,
} from '../../src/dunning/send-time';

const exploit = () => 0.99; // never explores
const base: SendTimeInput = {
  now: new Date('2026-11-24T06:00:00Z'), // Tuesday 07:00 in Berlin
  tenantTimezone: 'Europe/Berlin',
  debtorTimezone: null,
  businessDays: [1, 2, 3, 4, 5],
  businessHours: { start: 8, end: 18 },
  quietHours: { start: 20, end: 8 },
  holidays: [],
  engagement: [],
  rng: exploit,
};
const local = (d: Date, tz = 'Europe/Berlin') => {
  const p = localParts(d, tz);
  return `${p.date} ${String(p.hour).padStart(2, '0')}:${String(p.minute).padStart(2, '0')}`;
};
const records = (
  n: number,
  r: Omit<EngagementRecord, 'opened' | 'clicked' | 'paidAfter'> & Partial<EngagementRecord>,
) => Array.from({ length: n }, () => ({ opened: false, clicked: false, paidAfter: false, ...r }));

describe('chooseSendTime', () => {
  it('without history, prefers 9:00 local on a mid-week day', () => {
    expect(local(chooseSendTime(base))).toBe('2026-11-24 09:00');
  });

  it("uses the debtor's timezone over the tenant's", () => {
    const at = chooseSendTime({ ...base, debtorTimezone: 'America/Los_Angeles' });
    expect(local(at, 'America/Los_Angeles')).toBe('2026-11-24 09:00');
    expect(at.toISOString()).toBe('2026-11-24T17:00:00.000Z');
  });

  it('does not wait days for a better weekday: Friday evening goes out the next business morning', () => {
    const friday = { ...base, now: new Date('2026-11-27T17:30:00Z') }; // Fri 18:30 Berlin
    expect(local(chooseSendTime(friday))).toBe('2026-11-30 09:00'); // Monday
  });

  it('skips weekends and holidays', () => {
    const friday = { ...base, now: new Date('2026-11-27T17:30:00Z'), holidays: ['2026-11-30'] };
    expect(local(chooseSendTime(friday))).toBe('2026-12-01 09:00');
  });

  it('respects quiet hours that wrap midnight even inside business hours', () => {
    const wide = { ...base, businessHours: { start: 6, end: 23 }, quietHours: { start: 21, end: 9 } };
    const at = chooseSendTime({ ...wide, now: new Date('2026-11-24T20:30:00Z') }); // Tue 21:30 Berlin
    expect(local(at)).toBe('2026-11-25 09:00');
  });

  it('sends at once when now is inside the best slot', () => {
    const now = new Date('2026-11-24T08:40:00Z'); // Tue 09:40 Berlin
    expect(chooseSendTime({ ...base, now })).toEqual(now);
  });

  it('learns a debtor who pays after Wednesday-afternoon messages and ignores Tuesday mornings', () => {
    const engagement = [
      ...records(10, { localHour: 14, localWeekday: 3, opened: true, paidAfter: true }),
      ...records(10, { localHour: 9, localWeekday: 2 }),
    ];
    const monday = { ...base, now: new Date('2026-11-23T07:00:00Z'), engagement };
    expect(local(chooseSendTime(monday))).toBe('2026-11-25 14:00');
  });

  it('a few opens do not outweigh the prior', () => {
    const engagement = records(1, { localHour: 16, localWeekday: 2, opened: true });
    expect(local(chooseSendTime({ ...base, engagement }))).toBe('2026-11-24 09:00');
  });

  it('explores only when the rng says so, within the next two days of slots', () => {
    const draws = [0.05, 0.999];
    const at = chooseSendTime({ ...base, rng: () => draws.shift() ?? 0.5 });
    expect(local(at)).toBe('2026-11-25 17:00'); // last slot of the two-day exploration set
    const again = [0.05, 0.0];
    expect(local(chooseSendTime({ ...base, rng: () => again.shift() ?? 0.5 }))).toBe('2026-11-24 08:00');
  });

  it('is deterministic for the same rng', () => {
    const seeded = () => {
      let s = 42;
      return () => {
        s = (s * 16807) % 2147483647;
        return (s - 1) / 2147483646;
      };
    };
    expect(chooseSendTime({ ...base, rng: seeded() })).toEqual(chooseSendTime({ ...base, rng: seeded() }));
  });

  it('handles the DST change: 9:00 New York before and after the November switch', () => {
    const tz = 'America/New_York';
    const before = chooseSendTime({ ...base, debtorTimezone: tz, now: new Date('2026-10-27T10:00:00Z') });
    const after = chooseSendTime({ ...base, debtorTimezone: tz, now: new Date('2026-11-03T10:00:00Z') });
    expect([before.toISOString(), after.toISOString()]).toEqual([
      '2026-10-27T13:00:00.000Z',
      '2026-11-03T14:00:00.000Z',
    ]);
  });

  it('fails loudly when the window allows nothing', () => {
    expect(() => chooseSendTime({ ...base, businessDays: [] })).toThrow(/no allowed send time/);
  });
});

describe('nextAllowedTime', () => {
  it('is the next open hour, not the best one', () => {
    const at = nextAllowedTime({ ...base, timeZone: 'Europe/Berlin', now: new Date('2026-11-27T17:30:00Z') });
    expect(local(at)).toBe('2026-11-30 08:00');
  });
});
