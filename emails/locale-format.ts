import { dayInZone, daysBetween } from '../connectors/dates';
import { formatMoney } from '../connectors/money';
import type { HeldLine, InvoiceLine, IsoDate } from './email-props';

// Building an Intl formatter costs ~0.2 ms, formatting with one a few µs; an email formats dozens of values.
const formatters = new Map<string, Intl.DateTimeFormat>();
function cached<F extends Intl.DateTimeFormat>(key: string, make: () => F): F {
  let f = formatters.get(key) as F | undefined;
  if (!f) {
    f = make();
    formatters.set(key, f);
  }
  return f;
}

/** The money kernel's formatMoney ("1.234,50 €" in de-DE), which reuses its formatters. */
export { formatMoney };

/** Calendar dates carry no time, so they are formatted at UTC noon with timeZone UTC: no zone can shift the day. */
export function formatDate(date: IsoDate, locale: string): string {
  const df = cached(
    `d|${locale}`,
    () => new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }),
  );
  return df.format(isoToUtcNoon(date));
}

export function formatYear(date: IsoDate, locale: string): string {
  const df = cached(
    `y|${locale}`,
    () => new Intl.DateTimeFormat(locale, { year: 'numeric', timeZone: 'UTC' }),
  );
  return df.format(isoToUtcNoon(date));
}

/** The calendar day of an instant in a timezone ("2026-11-27"): the date kernel's dayInZone. */
export function localIsoDate(instant: string, timezone: string): IsoDate {
  return dayInZone(instant, timezone);
}

/** Positive when `asOf` is after the due date; negative before it. */
export function daysPastDue(dueDate: IsoDate, asOf: IsoDate): number {
  return daysBetween(dueDate, asOf);
}

/** Totals per currency, in first-seen order: a debtor billed in EUR and USD gets two totals, never a sum. */
export function totalsByCurrency(lines: readonly InvoiceLine[]): { currency: string; openMinor: number }[] {
  const totals = new Map<string, number>();
  for (const line of lines) totals.set(line.currency, (totals.get(line.currency) ?? 0) + line.openMinor);
  return [...totals].map(([currency, openMinor]) => ({ currency, openMinor }));
}

export function formatTotals(lines: readonly InvoiceLine[], locale: string): string {
  return totalsByCurrency(lines)
    .map((t) => formatMoney(t.openMinor, t.currency, locale))
    .join(' + ');
}

function isoToUtcNoon(date: IsoDate): Date {
  const d = new Date(`${date}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not an ISO date: ${date}`);
  return d;
}

/**
 * What credit on account leaves to pay, per currency of the listed invoices; undefined without any. The open
 * total alone would ask the debtor for money they already paid or were credited. What remains names every
 * currency still owed, credited or not: with credit in one currency only, naming that one alone ("¥0 remains")
 * read as if nothing were owed in the others. Currencies the credit clears are left out of it, unless it clears all.
 */
export function creditNote(props: {
  invoices: readonly InvoiceLine[];
  credits?: readonly { currency: string; creditMinor: number }[];
  locale: string;
}): string | undefined {
  const totals = totalsByCurrency(props.invoices).map((t) => ({
    ...t,
    creditMinor: (props.credits ?? [])
      .filter((c) => c.currency === t.currency)
      .reduce((sum, c) => sum + c.creditMinor, 0),
  }));
  const credited = totals.filter((t) => t.creditMinor > 0);
  if (credited.length === 0) return undefined;
  const money = (minor: number, currency: string) => formatMoney(minor, currency, props.locale);
  const credit = credited.map((t) => money(t.creditMinor, t.currency)).join(' + ');
  const after = totals.map((t) => ({
    ...t,
    leftMinor: Math.max(0, t.openMinor - Math.max(0, t.creditMinor)),
  }));
  const owed = after.filter((t) => t.leftMinor > 0);
  const left = (owed.length > 0 ? owed : credited.map((t) => ({ ...t, leftMinor: 0 })))
    .map((t) => money(t.leftMinor, t.currency))
    .join(' + ');
  return `Unapplied payments and credits on your account: ${credit}. After them, ${left} remains to pay.`;
}

/** One sentence per invoice on hold (HeldLine): why it is not asked for, and that it is not in the amounts above. */
export function heldNotes(props: { held?: readonly HeldLine[]; locale: string }): string[] {
  return (props.held ?? []).map((h) => {
    const name = `Invoice ${h.number} (${formatMoney(h.openMinor, h.currency, props.locale)})`;
    if (h.hold === 'disputed')
      return `${name} is on hold while we look into your query, so it is not included above.`;
    if (h.hold === 'promised' && h.promisedDate)
      return `${name} is not included above: thank you for letting us know it will be paid by ${formatDate(h.promisedDate, props.locale)}.`;
    return `${name} is on hold for now, so it is not included above.`;
  });
}
