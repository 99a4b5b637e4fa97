/**
 * The date kernel: calendar days as ISO strings (YYYY-MM-DD), arithmetic on them, and the calendar day of an
 * instant in a time zone. Pure (Intl only, no node imports): src/, emails/ and the web bundle share it. Days are
 * handled at UTC noon, so no zone or DST change can move one.
 */

const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/** UTC noon of a calendar day, in ms; RangeError unless the text is a YYYY-MM-DD date. */
function noon(day: string): number {
  const t = ISO_DAY.test(day) ? Date.parse(`${day}T12:00:00Z`) : Number.NaN;
  if (Number.isNaN(t)) throw new RangeError(`not an ISO date: ${day}`);
  return t;
}

/** Days in each month of a common year (February gains one in leap years). */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The ASCII digit at `i` of `s`, or -1 (char codes: no Date objects or substrings in the CSV import's hot loop). */
function digitAt(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : -1;
}

/**
 * True for a real calendar day in YYYY-MM-DD form ("2024-02-30" is not one): the proleptic Gregorian calendar, as
 * Date would check it, from char codes and a month-length table; years 0001-9999 (the database has no year 0).
 */
export function isIsoDate(value: string): boolean {
  if (value.length !== 10 || value.charCodeAt(4) !== 45 || value.charCodeAt(7) !== 45) return false;
  const y0 = digitAt(value, 0);
  const y1 = digitAt(value, 1);
  const y2 = digitAt(value, 2);
  const y3 = digitAt(value, 3);
  const m0 = digitAt(value, 5);
  const m1 = digitAt(value, 6);
  const d0 = digitAt(value, 8);
  const d1 = digitAt(value, 9);
  if ((y0 | y1 | y2 | y3 | m0 | m1 | d0 | d1) < 0) return false;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  const month = m0 * 10 + m1;
  const day = d0 * 10 + d1;
  // Year 0 is Date's (proleptic ISO) but not Postgres', whose date column refuses it with an error naming no row.
  if (year < 1 || month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!);
}

/** The day `n` days after `day` (before it when negative). */
export function addDays(day: string, n: number): string {
  return new Date(noon(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`: positive when `to` is later. */
export function daysBetween(from: string, to: string): number {
  return Math.round((noon(to) - noon(from)) / DAY_MS);
}

/**
 * A span of a year or more as a controller says it: "about 14 months" (under two years), "about 3 years"; null under
 * a year, where the whole days read fine. Beside the days, never instead of them ("418 days (about 14 months)").
 */
export function roughSpan(days: number): string | null {
  const d = Math.abs(days);
  if (!(d >= 365)) return null;
  if (d < 730) return `about ${Math.round(d / 30.4375)} months`;
  return `about ${Math.round(d / 365.25)} years`;
}

/** The calendar day of an instant in UTC. */
export function isoDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The calendar day of an instant in an IANA time zone ("2026-11-27"), assembled from formatToParts (not from a
 * locale's date pattern, which browsers' ICU versions disagree on). RangeError for an unknown zone.
 */
export function dayInZone(instant: Date | string, timeZone: string): string {
  const d = typeof instant === 'string' ? new Date(instant) : instant;
  if (Number.isNaN(d.getTime())) throw new RangeError(`not an ISO instant: ${String(instant)}`);
  let f = dayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(d)) p[part.type] = part.value;
  return `${p.year}-${p.month}-${p.day}`;
}

/** True for an IANA time zone this runtime knows ("America/New_York", "UTC"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
