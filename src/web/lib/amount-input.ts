/**
 * Money typed by a person, in major units ("5,000.00", "$12 500", "750") ↔ integer minor units, exactly: the rules
 * are the money kernel's (connectors/money.ts parseAmount); this adds the field messages. Used where the API stores
 * minor units (approval threshold).
 */
import { currencyExponent, formatAmount, parseAmount } from '../../../connectors/money';

export type AmountInput = { ok: true; minor: number } | { ok: false; message: string };

export function parseAmountInput(value: string, currency: string): AmountInput {
  const r = parseAmount(value, currency);
  if (r.ok) return r;
  const exp = currencyExponent(currency);
  switch (r.reason) {
    case 'format':
      return {
        ok: false,
        message: `enter an amount such as ${formatAmount(500_000 * 10 ** Math.max(0, exp - 2), currency)}`,
      };
    case 'decimals':
      return { ok: false, message: exp === 0 ? `${currency} has no decimals` : `at most ${exp} decimals` };
    case 'too_large':
      return { ok: false, message: 'that amount is too large' };
    case 'not_positive':
      return { ok: false, message: 'enter an amount above zero' };
  }
}

/** 500000 USD → "5,000.00" (no symbol: the field's label names the currency). */
export const formatAmountInput = formatAmount;
