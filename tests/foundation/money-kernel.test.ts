import { describe, expect, it } from 'vitest';
import {
  currencyExponent,
  formatAmount,
  formatMoney,
  fromMinor,
  numberToMinor,
  parseAmount,
  parseAmountMinor,
  toMinor,
} from '../../connectors/money';
import { formatMoney as emailFormatMoney, formatTotals } from '../../emails/locale-format';
import { parseAmountInput } from '../../src/web/lib/amount-input';
import { formatMoney as webFormatMoney } from '../../src/web/lib/format';
import { parseAmount as timelineParseAmount } from '../../src/web/pages/customer/customer-timeline';
import { parseMajor } from '../../src/web/pages/Sequences';

// Normalise the narrow/non-breaking spaces Intl puts between number and symbol in some locales.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');

describe('money kernel (connectors/money.ts)', () => {
  it('knows each currency exponent, case-insensitively', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('eur')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KRW')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(currencyExponent('BHD')).toBe(3);
  });

  it('round-trips minor units through decimal strings exactly, negatives and 0-/3-decimal currencies included', () => {
    for (const [minor, currency, text] of [
      [123450, 'USD', '1234.50'],
      [-7, 'USD', '-0.07'],
      [0, 'USD', '0.00'],
      [1234, 'JPY', '1234'],
      [-1234, 'JPY', '-1234'],
      [12345, 'KWD', '12.345'],
      [5, 'KWD', '0.005'],
      [900719925474099, 'USD', '9007199254740.99'],
    ] as const) {
      expect(fromMinor(minor, currency)).toBe(text);
      expect(toMinor(text, currency)).toBe(minor);
    }
  });

  it('toMinor (files and APIs) is strict: plain decimals only, sign allowed, no grouping, no extra precision', () => {
    expect(toMinor('1234.5', 'USD')).toBe(123450);
    expect(toMinor('-0.07', 'USD')).toBe(-7);
    expect(toMinor('10.500', 'USD')).toBe(1050); // trailing zeros are not precision
    expect(toMinor('10.001', 'USD')).toBeNull();
    expect(toMinor('1.5', 'JPY')).toBeNull();
    expect(toMinor('1,234.5', 'USD')).toBeNull();
    expect(toMinor('$12', 'USD')).toBeNull();
    expect(toMinor('1e3', 'USD')).toBeNull();
    expect(toMinor('99999999999999999', 'USD')).toBeNull(); // not a safe integer
    expect(numberToMinor(123.45, 'USD')).toBe(12345);
    expect(numberToMinor(-0.07, 'USD')).toBe(-7);
    expect(numberToMinor(1.005, 'KWD')).toBe(1005);
  });

  it('parseAmount (typed by a person): symbol, grouping, positive only, never more decimals than the currency', () => {
    expect(parseAmount('5,000.00', 'USD')).toEqual({ ok: true, minor: 500_000 });
    expect(parseAmount(' $12 500.5 ', 'USD')).toEqual({ ok: true, minor: 1_250_050 });
    expect(parseAmount('USD 1,000', 'USD')).toEqual({ ok: true, minor: 100_000 });
    expect(parseAmount('1,000,000', 'JPY')).toEqual({ ok: true, minor: 1_000_000 });
    expect(parseAmount('12.345', 'KWD')).toEqual({ ok: true, minor: 12_345 });
    expect(parseAmount('1,00', 'USD')).toEqual({ ok: false, reason: 'format' });
    expect(parseAmount('1.234,50', 'EUR')).toEqual({ ok: false, reason: 'format' }); // "," is never a decimal mark
    expect(parseAmount('5.001', 'USD')).toEqual({ ok: false, reason: 'decimals' });
    expect(parseAmount('5.5', 'JPY')).toEqual({ ok: false, reason: 'decimals' });
    expect(parseAmount('12.3456', 'KWD')).toEqual({ ok: false, reason: 'decimals' });
    expect(parseAmount('0.00', 'USD')).toEqual({ ok: false, reason: 'not_positive' });
    expect(parseAmount('-5', 'USD')).toEqual({ ok: false, reason: 'format' });
    expect(parseAmount('9999999999999999', 'USD')).toEqual({ ok: false, reason: 'too_large' });
    expect(parseAmountMinor('19.99', 'USD')).toBe(1999);
    expect(parseAmountMinor('abc', 'USD')).toBeNull();
  });

  it('formats per locale, with 0- and 3-decimal currencies, negatives and compact notation', () => {
    expect(formatMoney(123450, 'USD')).toBe('$1,234.50');
    expect(formatMoney(-5, 'USD')).toBe('-$0.05');
    expect(formatMoney(1234, 'JPY')).toBe('¥1,234');
    expect(formatMoney(12345, 'KWD')).toBe('KWD 12.345'.replace(' ', '\u00a0'));
    expect(plain(formatMoney(123450, 'EUR', 'de-DE'))).toBe('1.234,50 €');
    expect(plain(formatMoney(123450, 'EUR', 'fr-FR'))).toBe('1 234,50 €');
    expect(formatMoney(123450, 'GBP', 'en-GB')).toBe('£1,234.50');
    expect(formatMoney(900719925474099, 'USD')).toBe('$9,007,199,254,740.99');
    expect(formatMoney(2_350_000, 'USD', 'en-US', { compact: true })).toBe('$23.5K');
    expect(formatAmount(1_000_000, 'USD')).toBe('10,000.00');
    expect(formatAmount(-5, 'USD')).toBe('-0.05');
    expect(formatAmount(1_000_000, 'JPY')).toBe('1,000,000');
    expect(formatAmount(12_345, 'KWD')).toBe('12.345');
  });

  it('whole units: what risk reasons name ("$4,611"), as the reasons formatted them before they used the kernel', () => {
    // The copy src/risk/customer-risk.ts kept until s37 (moneyWords): the value rounded to whole units by Intl.
    const before = (minor: number, currency: string) =>
      new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency,
        minimumFractionDigits: 0,
        maximumFractionDigits: 0,
      }).format(Number(fromMinor(Math.round(minor), currency)));
    for (const currency of ['USD', 'CAD', 'EUR', 'JPY', 'KWD', 'VND', 'XQZ'])
      for (const minor of [
        0, 1, 49, 50, 99, 150, 461_150, 461_149, 4_611_499, 50_000_000, 900719925474099, -250,
      ])
        expect(formatMoney(minor, currency, 'en-US', { whole: true })).toBe(before(minor, currency));
    expect(formatMoney(461_150, 'USD', 'en-US', { whole: true })).toBe('$4,612');
    expect(formatMoney(1234, 'JPY', 'en-US', { whole: true })).toBe('¥1,234');
    // The other formats are as before: the whole and the decimal formatters are cached apart.
    expect(formatMoney(461_150, 'USD')).toBe('$4,611.50');
    // A code Intl refuses: a RangeError (an email fails for review rather than send a garbled amount), or, lenient
    // (risk reasons), the number and the code as the ledger wrote it.
    expect(() => formatMoney(461_150, 'US$', 'en-US', { whole: true })).toThrow(RangeError);
    expect(() => formatMoney(461_150, 'not a currency')).toThrow(RangeError);
    expect(formatMoney(461_150, 'US$', 'en-US', { whole: true, lenient: true })).toBe('4,612 US$');
    expect(formatMoney(-461_150, 'US$', 'en-US', { lenient: true })).toBe('-4,611.50 US$');
  });

  it('is the one copy: web, emails and the timeline/sequence forms give the kernel answers', () => {
    for (const [minor, currency, locale] of [
      [123450, 'EUR', 'de-DE'],
      [1234, 'JPY', 'ja-JP'],
      [-12345, 'KWD', 'en-US'],
    ] as const) {
      expect(emailFormatMoney(minor, currency, locale)).toBe(formatMoney(minor, currency, locale));
      expect(webFormatMoney(minor, currency, locale)).toBe(formatMoney(minor, currency, locale));
    }
    expect(
      plain(
        formatTotals(
          [{ currency: 'EUR', openMinor: 100 } as never, { currency: 'JPY', openMinor: 5 } as never],
          'de-DE',
        ),
      ),
    ).toBe(plain(`${formatMoney(100, 'EUR', 'de-DE')} + ${formatMoney(5, 'JPY', 'de-DE')}`));
    for (const text of ['$1,250.50', '1 250.5', '10.999', '0', '-5', '1,25', '9999999999999999']) {
      const kernel = parseAmountMinor(text, 'USD');
      expect(timelineParseAmount(text, 'USD'), text).toBe(kernel);
      expect(parseMajor(text, 'USD'), text).toBe(kernel);
      const input = parseAmountInput(text, 'USD');
      expect(input.ok ? input.minor : null, text).toBe(kernel);
    }
  });

  it('behaviour changes, named: sequence threshold refuses extra decimals and accepts grouping; timeline accepts a symbol', () => {
    // Sequences.tsx parseMajor used to truncate "10.999" to 1099 and refuse "1,000".
    expect(parseMajor('10.999', 'USD')).toBeNull();
    expect(parseMajor('1,000', 'USD')).toBe(100_000);
    expect(parseMajor('5', 'JPY')).toBe(5);
    // customer-timeline parseAmount used to refuse "$1,250.50" and "1 250.50" (space grouping).
    expect(timelineParseAmount('$1,250.50', 'USD')).toBe(125_050);
    expect(timelineParseAmount('1 250.50', 'USD')).toBe(125_050);
    // ...and accepted 16-digit safe integers; the kernel caps typed amounts at 15 digits like the settings field.
    expect(timelineParseAmount('1000000000000000', 'JPY')).toBeNull();
  });
});
