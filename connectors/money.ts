/** Money helpers: decimal strings <-> integer minor units, per ISO 4217 currency exponent. */

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

/** Locale-aware display ("$1,234.50", "1.234,50 €"). */
export function formatMoney(minor: number, currency: string, locale = 'en-US'): string {
  const exp = currencyExponent(currency);
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** exp);
}
