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

/** True for a real calendar day in YYYY-MM-DD form ("2024-02-30" is not one). */
export function isIsoDate(value: string): boolean {
  if (!ISO_DAY.test(value)) return false;
  const t = Date.parse(`${value}T12:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === value;
}

/** The day `n` days after `day` (before it when negative). */
export function addDays(day: string, n: number): string {
  return new Date(noon(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`: positive when `to` is later. */
export function daysBetween(from: string, to: string): number {
  return Math.round((noon(to) - noon(from)) / DAY_MS);
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
