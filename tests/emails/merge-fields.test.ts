/** Editable wording (issue 14, point 5): merge fields validated by field, filled in the email; defaults unchanged. */
import { describe, expect, it } from 'vitest';
import { fillMergeFields, mergeFieldErrors } from '../../emails/merge-fields';
import { Reminder, type ReminderProps } from '../../emails/reminder';
import { renderEmail } from '../../emails/render';
import { DEFAULT_POLICY, parsePolicy } from '../../src/dunning/policy';
import { parseDraftStep } from '../../src/dunning/step-preview';

const base: ReminderProps = {
  ...Reminder.PreviewProps,
  tone: 'neutral',
  locale: 'en-US',
  timezone: 'UTC',
  generatedAt: '2026-11-27T10:00:00Z',
  statementUrl: undefined,
};

describe('merge fields', () => {
  it('names unknown fields and stray braces', () => {
    expect(mergeFieldErrors('Hi {{customer}}, {{ total }} is due')).toEqual([]);
    expect(mergeFieldErrors('Hi {{custmer}}')[0]).toMatch(
      /^unknown merge field \{\{custmer\}\}; use \{\{customer\}\}/,
    );
    expect(mergeFieldErrors('Hi {{customer}')).toEqual([
      'unbalanced {{ or }}: write a merge field as {{name}}',
    ]);
  });

  it('names of Object.prototype are unknown fields, not code text in a debtor’s email', () => {
    // `name in MERGE_FIELDS` let {{constructor}} through, and the email then read "function Object() { [native code] }".
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(mergeFieldErrors(`Hi {{${name}}}`)[0], name).toMatch(/^unknown merge field/);
    }
    const values = {
      customer: 'Acme',
      contact: 'Ada',
      invoice_list: '1042',
      total: '$1.00',
      overdue_total: '$1.00',
      days_overdue: '3',
      pay_link: '',
      sender: 'Us',
    };
    expect(fillMergeFields('{{customer}}: {{constructor}}{{toString}}{{__proto__}}', values)).toBe('Acme: ');
  });

  it('a policy with an unknown field is refused, the error naming the step and the field', () => {
    const policy = structuredClone(DEFAULT_POLICY) as unknown as { sequences: { steps: object[] }[] };
    policy.sequences[1]!.steps[1] = {
      ...policy.sequences[1]!.steps[1],
      copy: { subject: 'Invoice {{invoice_list}}', body: 'Dear {{contact}},\n\nPlease pay {{amount}}.' },
    };
    const r = parsePolicy(policy);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /^sequences\[1\]\.steps\[1\]\.copy\.body: unknown merge field \{\{amount\}\}/,
    );
    expect(parseDraftStep({ offsetDays: 1, tone: 'neutral', copy: { subject: '{{nope}}' } })).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^draft\.copy\.subject: unknown merge field \{\{nope\}\}/)],
    });
  });

  it('the step’s own subject and body are filled in; the greeting, table and footer stay', async () => {
    const out = await renderEmail('reminder', {
      ...base,
      customCopy: {
        subject: '{{sender}}: invoices {{invoice_list}}',
        body: 'We still miss {{overdue_total}} from {{customer}} ({{days_overdue}} days).\n\nPay here: {{pay_link}}',
      },
    });
    expect(out.subject).toBe('Nordlicht Software GmbH: invoices 1042, 1057');
    const text = out.text.replace(/[\u00a0\u202f]/g, ' ');
    expect(text).toContain('Hello Frau Bergmann,');
    expect(text).toContain('We still miss €1,714.50 from Bergmann & Söhne KG (14 days).');
    expect(text).toContain('Pay here: https://pay.example/inv/1042');
    expect(text).toMatch(/^Invoice 1042: /m);
    expect(text).not.toContain('Our records show');
  });

  it('without wording of its own a step keeps the built-in copy', async () => {
    const out = await renderEmail('reminder', base);
    expect(out.text).toContain('Our records show');
  });
});
