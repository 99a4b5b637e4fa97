/**
 * Calendar arithmetic and timezone conversion on Intl alone (no tz library). Calendar dates are ISO strings
 * (YYYY-MM-DD) and are manipulated at UTC noon, so DST never moves a day.
 */
import { addDays, daysBetween } from '../../connectors/dates';

export type IsoDate = string;

export interface LocalParts {
  date: IsoDate;
  hour: number;
  minute: number;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function localParts(instant: Date, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(instant)) parts[p.type] = p.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  return { date, hour: Number(parts.hour), minute: Number(parts.minute), weekday: isoWeekday(date) };
}

/** The time zone a debtor's dates are in: the customer's, else the company's, else UTC. */
export function debtorZone(
  customer: { timezone: string | null } | null | undefined,
  tenant: { timezone: string | null } | null | undefined,
): string {
  return customer?.timezone || tenant?.timezone || 'UTC';
}

/**
 * The instant at which the wall clock in `timeZone` shows `date` `hour`:`minute`. Two passes settle DST: the
 * offset is read at the first guess, then re-read at the corrected instant. A wall time that does not exist
 * (spring-forward gap) lands just after the gap.
 */
export function zonedInstant(date: IsoDate, hour: number, minute: number, timeZone: string): Date {
  const wall = Date.UTC(...ymd(date), hour, minute);
  let guess = wall - offsetMs(new Date(wall), timeZone);
  const corrected = wall - offsetMs(new Date(guess), timeZone);
  if (corrected !== guess) guess = corrected;
  return new Date(guess);
}

function offsetMs(instant: Date, timeZone: string): number {
  const p = localParts(instant, timeZone);
  const asUtc = Date.UTC(...ymd(p.date), p.hour, p.minute);
  return asUtc - Math.floor(instant.getTime() / 60_000) * 60_000;
}

/** The date kernel's addDays. */
export { addDays };

/** a − b in whole days (the date kernel's daysBetween(b, a)). */
export function diffDays(a: IsoDate, b: IsoDate): number {
  return daysBetween(b, a);
}

export function isoWeekday(date: IsoDate): number {
  return ((new Date(noon(date)).getUTCDay() + 6) % 7) + 1;
}

function noon(date: IsoDate): number {
  const t = Date.UTC(...ymd(date), 12);
  if (Number.isNaN(t)) throw new RangeError(`not an ISO date: ${date}`);
  return t;
}

function ymd(date: IsoDate): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new RangeError(`not an ISO date: ${date}`);
  return [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
}
