import { describe, expect, it } from 'vitest';
import { fixedClock, ManualClock, offsetClock, wallTime } from '../../src/clock';

describe('wallTime: what a provider-signed timestamp is checked against', () => {
  it('behind a moved clock (DUELY_NOW / --now) is the real time, not the moved one', () => {
    const clock = offsetClock('2013-07-01');
    expect(clock.now().toISOString().slice(0, 10)).toBe('2013-07-01');
    expect(Math.abs(wallTime(clock).getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('a frozen or manual clock (tests, backtests) is its own time', () => {
    expect(wallTime(fixedClock('2013-07-01')).toISOString()).toBe('2013-07-01T00:00:00.000Z');
    expect(wallTime(new ManualClock('2014-01-02')).toISOString()).toBe('2014-01-02T00:00:00.000Z');
  });
});
