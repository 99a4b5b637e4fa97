/**
 * Names come from the ledger: a debtor's name with a line break or Unicode direction controls reaches the subject
 * through `{{customer}}` in a step's own wording, and the greeting and tables of every email.
 * - A line break in the subject made the message fail at the last header check ("Not sent: subject contains a line
 *   break"): that debtor was never reminded. The rendered subject is one line now.
 * - A right-to-left override (U+202E) reversed what followed it: "Acme\u202Egnp.exe" reads "Acmeexe.png" in the
 *   subject and the greeting, enough to make a reminder look like something else. Direction controls are dropped
 *   from what Duely renders (subject, HTML, text); Hebrew or Arabic names need none and keep their letters.
 */
import { describe, expect, it } from 'vitest';
import { Reminder, type ReminderProps } from '../../emails/reminder';
import { renderEmail } from '../../emails/render';
import { Statement } from '../../emails/statement';
import { hasControlChars } from '../../src/mail/header-safe';

const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/;

const base: ReminderProps = {
  ...Reminder.PreviewProps,
  tone: 'neutral',
  locale: 'en-US',
  timezone: 'UTC',
  generatedAt: '2026-11-27T10:00:00Z',
};

describe('hostile names in rendered emails', () => {
  it('a line break in a name keeps the subject on one line', async () => {
    const r = await renderEmail('reminder', {
      ...base,
      debtor: { ...base.debtor, name: 'Acme\r\nBcc: victim@example.com' },
      customCopy: { subject: '{{customer}}: invoices overdue' },
    });
    expect(hasControlChars(r.subject)).toBe(false);
    expect(r.subject).toBe('Acme Bcc: victim@example.com: invoices overdue');
  });

  it('direction overrides in names are dropped from subject, HTML and text; RTL letters stay', async () => {
    const name = 'Acme\u202Egnp.exe \u05E9\u05DC\u05D5\u05DD \u2067Ltd';
    const r = await renderEmail('reminder', {
      ...base,
      debtor: { ...base.debtor, name, contactName: undefined },
      customCopy: { subject: 'Invoices for {{customer}}' },
    });
    for (const part of [r.subject, r.html, r.text]) {
      expect(BIDI_CONTROLS.test(part)).toBe(false);
      expect(part).toContain('Acmegnp.exe \u05E9\u05DC\u05D5\u05DD Ltd');
    }
    const s = await renderEmail('statement', {
      ...Statement.PreviewProps,
      debtor: { ...Statement.PreviewProps.debtor, name },
    });
    for (const part of [s.subject, s.html, s.text]) expect(BIDI_CONTROLS.test(part)).toBe(false);
  });
});
