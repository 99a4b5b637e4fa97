/** Display formatting. Money arrives as integer minor units with a currency; it is never added as floats here. */

import { isTimeZone } from '../../../connectors/dates';
import { formatMoney as kernelFormatMoney } from '../../../connectors/money';

/** "$1,234.50" from 123450 USD: the money kernel's formatMoney (exact, through a decimal string). */
export function formatMoney(minor: number, currency: string, locale = 'en-US', compact = false): string {
  return kernelFormatMoney(minor, currency, locale, { compact });
}

/** "Jul 1, 2013" from "2013-07-01" (a calendar date: no time zone shift). */
export function formatDate(day: string | null | undefined, locale = 'en-US'): string {
  if (!day) return '—';
  const d = new Date(`${day.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    timeZone: 'UTC',
  }).format(d);
}

const viewerZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
let companyZone: string | null = null;

/**
 * Every time the app shows is in one zone: the company's (its tenant time zone, set by the app shell once it knows
 * the company, and labelled there once: "Times in America/New_York"), else the viewer's. An unknown zone is ignored.
 */
export function setDisplayZone(zone: string | null | undefined): void {
  // Not an IANA zone this browser knows: the viewer's zone, which the label then names.
  companyZone = zone && isTimeZone(zone) ? zone : null;
}

/** The zone times are shown in (see setDisplayZone). */
export function displayZone(): string {
  return companyZone ?? viewerZone();
}

/** An instant in the display zone (the company's): "Jul 1, 2013, 10:42 AM". */
export function formatInstant(
  iso: string | null | undefined,
  locale = 'en-US',
  timeZone: string = displayZone(),
): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(d);
}

/**
 * A wall-clock time kept as "17:00" (24-hour, sortable) written as every other time in the app: "5:00 PM" (the
 * customer timeline showed "17:00" beside lists saying "5:00 PM").
 */
export function formatClock(hhmm: string, locale = 'en-US'): string {
  const [h, m] = hhmm.split(':').map(Number);
  if (h === undefined || m === undefined || Number.isNaN(h) || Number.isNaN(m)) return hhmm;
  return new Intl.DateTimeFormat(locale, { timeStyle: 'short', timeZone: 'UTC' }).format(
    new Date(Date.UTC(2000, 0, 1, h, m)),
  );
}

/** 0.1613 → "16.1%"; null → "—". */
export function formatShare(share: number | null | undefined): string {
  return share === null || share === undefined ? '—' : `${(share * 100).toFixed(1)}%`;
}

/** A KPI in days or percent, or "—" when there is not enough data. */
export function formatKpi(value: number | null | undefined, unit: 'days' | '%'): string {
  if (value === null || value === undefined) return '—';
  return unit === '%' ? `${value.toFixed(1)}%` : `${value.toFixed(1)} days`;
}

/** "1 day", "13 days". */
export function daysText(n: number): string {
  return `${n.toLocaleString('en-US')} day${n === 1 ? '' : 's'}`;
}
