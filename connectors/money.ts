/**
 * The money kernel: decimal strings <-> integer minor units, per ISO 4217 currency exponent, and display. The one
 * copy src/, emails/ and the web bundle use. Pure (Intl only, no node imports): it is bundled into the browser app.
 *
 * Two parsers, two rules:
 *  - toMinor: amounts from files and APIs (CSV, NetSuite): a plain decimal ("1234.5", "-0.07"), sign allowed,
 *    no grouping, no symbol; more decimals than the currency has are refused unless they are zeros.
 *  - parseAmount: amounts a person types (approval threshold, promise, payment): an optional leading symbol or code
 *    ("$", "USD"), thousands grouped by commas or spaces, "." decimals, never more decimals than the currency has,
 *    positive only, at most 15 digits.
 */

const exponentCache = new Map<string, number>();

/** Number of minor-unit digits of a currency (USD 2, JPY 0, BHD 3), from the ICU data Node ships. */
export function currencyExponent(currency: string): number {
  const code = currency.toUpperCase();
  let exp = exponentCache.get(code);
  if (exp === undefined) {
    exp =
      new Intl.NumberFormat('en', { style: 'currency', currency: code }).resolvedOptions()
        .maximumFractionDigits ?? 2;
    exponentCache.set(code, exp);
  }
  return exp;
}

let knownCurrencies: Set<string> | undefined;
export function isKnownCurrency(code: string): boolean {
  knownCurrencies ??= new Set(Intl.supportedValuesOf('currency'));
  return knownCurrencies.has(code);
}

const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal amount ("1234.5", "-0.07") exactly into minor units. Returns null for anything that is not a
 * plain decimal, or that has more fractional digits than the currency allows (unless they are zeros).
 */
export function toMinor(value: string | number, currency: string): number | null {
  const text = typeof value === 'number' ? numberToPlain(value) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m) return null;
  const exp = currencyExponent(currency);
  let frac = m[3] ?? '';
  if (frac.length > exp) {
    if (/[^0]/.test(frac.slice(exp))) return null;
    frac = frac.slice(0, exp);
  }
  const digits = (m[2] ?? '0') + frac.padEnd(exp, '0');
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) return null;
  return m[1] === '-' ? -n : n;
}

/** JSON numbers from APIs (QuickBooks sends 123.45): rounds to the currency's minor unit. */
export function numberToMinor(value: number, currency: string): number {
  const exp = currencyExponent(currency);
  return Math.round(value * 10 ** exp + (value >= 0 ? 1e-9 : -1e-9));
}

function numberToPlain(n: number): string {
  if (!Number.isFinite(n)) return 'NaN';
  return n.toFixed(6).replace(/\.?0+$/, '');
}

/** Minor units back to a decimal string ("1234.50"). */
export function fromMinor(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor)
    .toString()
    .padStart(exp + 1, '0');
  return exp === 0 ? sign + abs : `${sign}${abs.slice(0, -exp)}.${abs.slice(-exp)}`;
}

// Building an Intl formatter costs ~0.2 ms, formatting with one a few µs: emails and reasons format dozens of values.
const formatters = new Map<string, Intl.NumberFormat>();

/**
 * Locale-aware display ("$1,234.50", "1.234,50 €", "¥1,234"). The minor units are scaled through the decimal
 * string (fromMinor), not by float division. `compact` gives "$23.5K" (dashboards); `whole` gives whole units of
 * the currency, rounded ("$4,612" for 4611.50: a risk reason's amount). A code Intl refuses ("US$") throws a
 * RangeError — an email that cannot say what it asks for fails for a person to look at (tests/send-path/render) —
 * unless `lenient` (a risk reason, which must not stop a scoring run): the number (two decimals, the ISO default;
 * none with `whole`) and the code as the ledger wrote it, "4,612 US$".
 */
export function formatMoney(
  minor: number,
  currency: string,
  locale = 'en-US',
  opts: { compact?: boolean; whole?: boolean; lenient?: boolean } = {},
): string {
  const key = `${locale}|${currency}|${opts.compact ? 'c' : ''}${opts.whole ? 'w' : ''}`;
  let nf = formatters.get(key);
  if (!nf) {
    try {
      nf = new Intl.NumberFormat(locale, {
        style: 'currency',
        currency,
        ...(opts.compact ? { notation: 'compact', maximumFractionDigits: 1 } : {}),
        ...(opts.whole ? { minimumFractionDigits: 0, maximumFractionDigits: 0 } : {}),
      });
    } catch (err) {
      if (!(err instanceof RangeError) || !opts.lenient) throw err;
      const digits = opts.whole ? 0 : 2;
      const abs = String(Math.abs(Math.trunc(minor))).padStart(3, '0');
      const value = Number(`${minor < 0 ? '-' : ''}${abs.slice(0, -2)}.${abs.slice(-2)}`);
      return `${value.toLocaleString(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${currency}`;
    }
    formatters.set(key, nf);
  }
  return nf.format(Number(fromMinor(Math.trunc(minor), currency)));
}

/** 500000 USD → "5,000.00": grouped with commas, no symbol (an input field whose label names the currency). */
export function formatAmount(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const s = String(Math.trunc(Math.abs(minor))).padStart(exp + 1, '0');
  const whole = exp === 0 ? s : s.slice(0, -exp);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${minor < 0 ? '-' : ''}${grouped}${exp === 0 ? '' : `.${s.slice(-exp)}`}`;
}

export type ParsedAmount =
  | { ok: true; minor: number }
  | { ok: false; reason: 'format' | 'decimals' | 'too_large' | 'not_positive' };

const TYPED = /^\s*(?:[^\d\s.,-]{1,3}\s?)?(\d{1,3}(?:[, \u00a0\u202f]\d{3})+|\d+)(?:\.(\d*))?\s*$/;

/** An amount a person typed, in major units ("5,000.00", "$12 500", "750"), exactly into minor units (see top). */
export function parseAmount(value: string, currency: string): ParsedAmount {
  const exp = currencyExponent(currency);
  const m = TYPED.exec(value);
  if (!m) return { ok: false, reason: 'format' };
  const whole = (m[1] ?? '').replace(/\D/g, '');
  const frac = m[2] ?? '';
  if (frac.length > exp) return { ok: false, reason: 'decimals' };
  const digits = `${whole}${frac.padEnd(exp, '0')}`.replace(/^0+(?=\d)/, '');
  if (digits.length > 15) return { ok: false, reason: 'too_large' };
  const minor = Number(digits);
  if (minor <= 0) return { ok: false, reason: 'not_positive' };
  return { ok: true, minor };
}

/** parseAmount's minor units, or null for anything it refuses. */
export function parseAmountMinor(value: string, currency: string): number | null {
  const r = parseAmount(value, currency);
  return r.ok ? r.minor : null;
}
