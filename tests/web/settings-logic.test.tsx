/** The Settings editors' logic outside the browser: typed amounts, server field errors, summaries, sender preview. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { describedBy, FieldError, groupDescribedBy } from '../../src/web/components/form-field';
import { formatAmountInput, parseAmountInput } from '../../src/web/lib/amount-input';
import { ApiError } from '../../src/web/lib/api';
import { serverFieldErrors } from '../../src/web/lib/field-errors';
import { formatBusinessDays, hourLabel } from '../../src/web/pages/DunningSettings';
import { addressLines, senderPreview } from '../../src/web/pages/SenderSettings';
import { SettingsPage } from '../../src/web/pages/Settings';

describe('amount input', () => {
  it('reads major units with grouping and a symbol into exact minor units', () => {
    expect(parseAmountInput('5,000.00', 'USD')).toEqual({ ok: true, minor: 500_000 });
    expect(parseAmountInput(' $12 500.5 ', 'USD')).toEqual({ ok: true, minor: 1_250_050 });
    expect(parseAmountInput('750', 'EUR')).toEqual({ ok: true, minor: 75_000 });
    expect(parseAmountInput('0.29', 'USD')).toEqual({ ok: true, minor: 29 });
    expect(parseAmountInput('1,000,000', 'JPY')).toEqual({ ok: true, minor: 1_000_000 });
    expect(parseAmountInput('12.345', 'KWD')).toEqual({ ok: true, minor: 12_345 });
  });

  it('refuses what it cannot read exactly, saying why', () => {
    expect(parseAmountInput('five thousand', 'USD')).toEqual({
      ok: false,
      message: 'enter an amount such as 5,000.00',
    });
    expect(parseAmountInput('1,00', 'USD').ok).toBe(false); // not a thousands group
    expect(parseAmountInput('5.001', 'USD')).toEqual({ ok: false, message: 'at most 2 decimals' });
    expect(parseAmountInput('5.5', 'JPY')).toEqual({ ok: false, message: 'JPY has no decimals' });
    expect(parseAmountInput('0.00', 'USD')).toEqual({ ok: false, message: 'enter an amount above zero' });
    expect(parseAmountInput('-5', 'USD').ok).toBe(false);
    expect(parseAmountInput('9999999999999999', 'USD')).toEqual({
      ok: false,
      message: 'that amount is too large',
    });
  });

  it('formats minor units back for the field, round-tripping', () => {
    expect(formatAmountInput(1_000_000, 'USD')).toBe('10,000.00');
    expect(formatAmountInput(5, 'USD')).toBe('0.05');
    expect(formatAmountInput(1_000_000, 'JPY')).toBe('1,000,000');
    for (const minor of [1, 99, 100, 123_456_789, 500_000])
      expect(parseAmountInput(formatAmountInput(minor, 'USD'), 'USD')).toEqual({ ok: true, minor });
  });
});

describe('server field errors', () => {
  const fields = ['quietHours', 'holidays', 'businessHours'] as const;

  it('groups details under the form field, keeping where inside it', () => {
    const err = new ApiError(400, 'invalid_request', 'Invalid policy', [
      { field: 'settings.quietHours', message: 'quiet hours cover all business hours' },
      { field: 'settings.holidays[1]', message: 'Invalid ISO date' },
      { field: 'settings.businessHours.start', message: 'Too big' },
      { field: 'settings.approvalThresholdMinor', message: 'Too small' },
    ]);
    expect(serverFieldErrors(err, 'settings', fields)).toEqual({
      byField: {
        quietHours: [{ at: '', message: 'quiet hours cover all business hours' }],
        holidays: [{ at: '[1]', message: 'Invalid ISO date' }],
        businessHours: [{ at: 'start', message: 'Too big' }],
      },
      other: ['approvalThresholdMinor: Too small'],
    });
  });

  it('puts an error without details (network, 403) in the general list', () => {
    expect(
      serverFieldErrors(new ApiError(403, 'forbidden', 'you are signed in to another tenant'), 'sender', []),
    ).toEqual({ byField: {}, other: ['you are signed in to another tenant'] });
    expect(serverFieldErrors(null, 'sender', [])).toEqual({ byField: {}, other: [] });
  });
});

describe('field error markup', () => {
  it('ties a control to its hint and error, and a group without aria-invalid', () => {
    expect(describedBy('e', [], 'h')).toEqual({ 'aria-describedby': 'h' });
    expect(describedBy('e', ['bad'], 'h')).toEqual({ 'aria-invalid': true, 'aria-describedby': 'h e' });
    expect(describedBy('e', [])).toEqual({});
    expect(groupDescribedBy('e', ['bad'])).toEqual({ 'aria-describedby': 'e', 'data-invalid': true });
    expect(renderToStaticMarkup(<FieldError id="e" messages={['a', 'b']} />)).toBe(
      '<p id="e" class="field-error">a; b</p>',
    );
    expect(renderToStaticMarkup(<FieldError id="e" messages={[]} />)).toBe('');
  });
});

describe('summaries', () => {
  it('names business days as ranges', () => {
    expect(formatBusinessDays([5, 4, 3, 2, 1])).toBe('Mon–Fri');
    expect(formatBusinessDays([1, 3, 6, 7])).toBe('Mon, Wed, Sat, Sun');
    expect(formatBusinessDays([1, 2, 3, 5, 6, 7])).toBe('Mon–Wed, Fri–Sun');
    expect(hourLabel(8)).toBe('08:00');
    expect(hourLabel(24)).toBe('24:00 (midnight)');
  });

  it('previews the sender as the debtor sees it, with the real From header', () => {
    const lines = addressLines(' 1 Ledger Lane \n\n  Springfield \n');
    expect(lines).toEqual(['1 Ledger Lane', 'Springfield']);
    const sender = { companyName: 'Acme', replyTo: 'ar@acme.example', address: lines, phone: '+1 555' };
    expect(senderPreview(sender, 'Billing <billing@duely.example>')).toEqual({
      header: 'From: Billing <billing@duely.example> · Reply-to: ar@acme.example',
      footer: 'Acme · 1 Ledger Lane · Springfield · +1 555',
    });
    expect(senderPreview({ ...sender, address: [], phone: undefined }, null).header).toBe(
      'From: not configured (messages stay in the outbox) · Reply-to: ar@acme.example',
    );
  });
});

describe('Settings with no company yet', () => {
  it('says to connect one and offers only the session, not company forms that answer "tenant not found"', () => {
    const html = renderToStaticMarkup(<SettingsPage tenant="" currency="USD" params={{}} />);
    expect(html).toContain('No company yet');
    expect(html).toContain('href="/connections"');
    expect(html).toContain('Sign out');
    for (const card of ['Scheduling and risk', 'Payment-delay model', 'Company time zone', 'Save']) {
      expect(html).not.toContain(card);
    }
  });

  it('with a company, shows its settings', () => {
    const html = renderToStaticMarkup(<SettingsPage tenant="acme" currency="USD" params={{}} />);
    expect(html).not.toContain('No company yet');
    expect(html).toContain('Scheduling and risk');
  });
});
