/** All "now" in Duely comes from a Clock, so backtests, demos and tests can run as of any date. */
import { isIsoDate } from '../connectors/dates';

export interface Clock {
  now(): Date;
  /**
   * The real time, when `now` is moved away from it (DUELY_NOW / --now): what a provider's signed timestamp is
   * checked against, since the provider signs with the real clock. Absent when `now` is real or frozen (tests).
   */
  wall?(): Date;
  /**
   * True for the real time itself: no DUELY_NOW / --now, not a test's clock. Under a clock someone set, that day is
   * the day every figure is as of; under the real one, a CSV company's figures are as of its export's day (an old
   * export imported today is a ledger of then: analytics ledgerDay).
   */
  readonly real?: boolean;
}

/** The time to check a provider's signed timestamp against: the real time behind a moved clock, else its now. */
export function wallTime(clock: Clock): Date {
  return clock.wall ? clock.wall() : clock.now();
}

export const systemClock: Clock = { now: () => new Date(), real: true };

/** A clock frozen at one instant (tests, backtests). */
export function fixedClock(at: Date | string): Clock {
  const t = typeof at === 'string' ? parseClockDate(at).getTime() : at.getTime();
  return { now: () => new Date(t) };
}

/**
 * A clock that starts at `start` and then advances with real time: what DUELY_NOW / --now give a running server,
 * so scheduled work still moves forward during a demo.
 */
export function offsetClock(start: Date | string, real: Clock = systemClock): Clock {
  const base = typeof start === 'string' ? parseClockDate(start).getTime() : start.getTime();
  const offset = base - real.now().getTime();
  return { now: () => new Date(real.now().getTime() + offset), wall: () => real.now() };
}

/** A settable clock for tests that need time to pass. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: Date | string) {
    this.t = typeof start === 'string' ? parseClockDate(start).getTime() : start.getTime();
  }
  now(): Date {
    return new Date(this.t);
  }
  set(at: Date | string): void {
    this.t = typeof at === 'string' ? parseClockDate(at).getTime() : at.getTime();
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * "2013-07-01" means the start of that day in UTC; a full ISO instant (2013-07-01T12:00:00Z) is taken as is.
 * Anything else is refused, including a day that does not exist (2019-02-30, which Date would read as March 2)
 * and text Date would guess at ("1" is 2001-01-01).
 */
export function parseClockDate(value: string): Date {
  const day = /^\d{4}-\d{2}-\d{2}$/.test(value);
  const d = day ? new Date(`${value}T00:00:00Z`) : /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime()) || (day && !isIsoDate(value))) throw new Error(`not a date: ${value}`);
  return d;
}

/** Calendar date (YYYY-MM-DD) of an instant in UTC: the date kernel's isoDay. */
export { isoDay } from '../connectors/dates';
