/**
 * Money typed by a person, in major units ("5,000.00", "$12 500", "750") ↔ integer minor units, exactly: the digits
 * are joined as a string, never multiplied as floats. Used where the API stores minor units (approval threshold).
 */

const exponent = (currency: string) =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

export type AmountInput = { ok: true; minor: number } | { ok: false; message: string };

export function parseAmountInput(value: string, currency: string): AmountInput {
  const exp = exponent(currency);
  const example = formatAmountInput(500_000 * 10 ** Math.max(0, exp - 2), currency);
  // A leading symbol or code ("$", "USD") is allowed; thousands may be grouped with commas or spaces.
  const m = /^\s*(?:[^\d\s.,-]{1,3}\s?)?(\d{1,3}(?:[, \u00a0\u202f]\d{3})+|\d+)(?:\.(\d*))?\s*$/.exec(value);
  if (!m) return { ok: false, message: `enter an amount such as ${example}` };
  const whole = m[1]!.replace(/\D/g, '');
  const frac = m[2] ?? '';
  if (frac.length > exp)
    return { ok: false, message: exp === 0 ? `${currency} has no decimals` : `at most ${exp} decimals` };
  const digits = `${whole}${frac.padEnd(exp, '0')}`.replace(/^0+(?=\d)/, '');
  if (digits.length > 15) return { ok: false, message: 'that amount is too large' };
  const minor = Number(digits);
  if (minor <= 0) return { ok: false, message: 'enter an amount above zero' };
  return { ok: true, minor };
}

/** 500000 USD → "5,000.00" (no symbol: the field's label names the currency). */
export function formatAmountInput(minor: number, currency: string): string {
  const exp = exponent(currency);
  const s = String(Math.trunc(Math.abs(minor))).padStart(exp + 1, '0');
  const whole = exp === 0 ? s : s.slice(0, -exp);
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${minor < 0 ? '-' : ''}${grouped}${exp === 0 ? '' : `.${s.slice(-exp)}`}`;
}
