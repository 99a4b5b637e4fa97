/** The dunning pages' logic outside the browser: policy field errors, amounts, the sandboxed email frame. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { EmailFrame } from '../../src/web/components/dunning';
import { ApiError } from '../../src/web/lib/api';
import { copyPatch, fieldErrors, parseMajor } from '../../src/web/pages/Sequences';

describe('Sequences page', () => {
  it('maps the API validation details to sequence fields, and the rest to a general list', () => {
    const err = new ApiError(400, 'invalid_request', 'Invalid policy', [
      { field: 'policy.sequences[0].steps[1].offsetDays', message: 'duplicate offset 1' },
      { field: 'policy.sequences[0].steps[0].tone', message: 'a final notice must be the last step' },
      { field: 'policy.defaultSequenceId', message: "no sequence with id 'x'" },
      { field: 'policy', message: 'at least one sequence' },
    ]);
    const { byField, other } = fieldErrors(err);
    expect(byField.get('sequences[0].steps[1].offsetDays')).toEqual(['duplicate offset 1']);
    expect(byField.get('sequences[0].steps[0].tone')).toEqual(['a final notice must be the last step']);
    expect(other).toEqual(["defaultSequenceId: no sequence with id 'x'", 'at least one sequence']);
    expect(fieldErrors(new Error('network')).byField.size).toBe(0);
  });

  it('parses amounts into exact minor units by currency', () => {
    expect(parseMajor('1200.5', 'USD')).toBe(120050);
    expect(parseMajor('0.29', 'USD')).toBe(29);
    expect(parseMajor('10000', 'USD')).toBe(1000000);
    expect(parseMajor('500', 'JPY')).toBe(500);
    expect(parseMajor('0', 'USD')).toBeNull();
    expect(parseMajor('-5', 'USD')).toBeNull();
    expect(parseMajor('1,000', 'USD')).toBe(100000); // the kernel's typed-amount rule: grouping allowed
    expect(parseMajor('10.999', 'USD')).toBeNull(); // was truncated to 10.99
  });
});

describe('EmailFrame', () => {
  it('renders email HTML in a fully sandboxed srcdoc frame', () => {
    const html = renderToStaticMarkup(<EmailFrame html="<p>Hi<script>alert(1)</script></p>" title="Email" />);
    expect(html).toMatch(/^<iframe class="email-frame" sandbox="" srcDoc="/);
    expect(html).toContain('title="Email"');
  });
});

describe('copyPatch (a step’s own wording)', () => {
  it('keeps what was typed, and drops the wording when both parts are cleared', () => {
    const one = copyPatch(undefined, { subject: 'Invoice {{invoice_list}}' });
    expect(one).toEqual({ subject: 'Invoice {{invoice_list}}' });
    expect(copyPatch(one, { body: 'Dear {{contact}}' })).toEqual({
      subject: 'Invoice {{invoice_list}}',
      body: 'Dear {{contact}}',
    });
    expect(copyPatch(one, { subject: '  ' })).toBeUndefined();
  });
});
