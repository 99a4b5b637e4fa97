/**
 * Honest consolidated emails (issue 14, points 3 and 4): threats only about what is overdue on the day the debtor
 * reads it, "due today" on the due date, earlier reminders only when there were some, the reviewer's introduction
 * after the greeting, links mentioned only when they exist, and a phone-friendly layout.
 */
import { describe, expect, it } from 'vitest';
import { Reminder, type ReminderProps } from '../../emails/reminder';
import { renderEmail } from '../../emails/render';
import { applyEdits } from '../../src/dunning/compose-email';

// Intl's no-break spaces and the plain text's word wrap both become single spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
const flat = (s: string) => plain(s).replace(/[ \n]+/g, ' ');

// Read on Friday 2026-11-27 in New York.
const base: ReminderProps = {
  ...Reminder.PreviewProps,
  tone: 'final',
  locale: 'en-US',
  timezone: 'America/New_York',
  generatedAt: '2026-11-27T15:00:00Z',
  debtor: { name: 'Bergmann KG' },
  previousReminders: 2,
  respondBy: '2026-12-04',
  statementUrl: undefined,
  invoices: [
    {
      number: 'OLD-1',
      issueDate: '2026-10-01',
      dueDate: '2026-11-25',
      currency: 'USD',
      totalMinor: 100_000,
      openMinor: 100_000,
    },
    {
      number: 'NEW-2',
      issueDate: '2026-11-01',
      dueDate: '2026-11-30',
      currency: 'USD',
      totalMinor: 40_000,
      openMinor: 40_000,
    },
  ],
};

describe('a consolidated final notice with an overdue and an upcoming invoice', () => {
  it('threatens only the overdue part and its total; the upcoming invoice is named as not yet due', async () => {
    const out = await renderEmail('reminder', base);
    const text = flat(out.text);
    expect(out.subject).toBe('Final notice: $1,000.00 overdue with Nordlicht Software GmbH');
    expect(text).toContain(
      'This is our final reminder about the overdue balance of $1,000.00 (invoice OLD-1).',
    );
    expect(text).toContain('payment of the overdue balance or hear from you by Dec 4, 2026');
    expect(text).toContain(
      'For your planning: invoice NEW-2 for $400.00 is not yet due (due on Nov 30, 2026). It is not part of this notice.',
    );
    expect(text).not.toContain('$1,400.00 overdue');
    // Two tables: the overdue one with days overdue, the other without.
    expect(out.text).toMatch(/^Overdue$/m);
    expect(out.text).toMatch(/^Not yet overdue \(for your planning\)$/m);
    expect(plain(out.text)).toMatch(
      /^Invoice OLD-1: \$1,000\.00 open\nIssued Oct 1, 2026; due Nov 25, 2026; 2 days overdue$/m,
    );
    expect(plain(out.text)).toMatch(/^Invoice NEW-2: \$400\.00 open\nIssued Nov 1, 2026; due Nov 30, 2026$/m);
  });

  it('a final or firm tone with nothing overdue reads as a neutral reminder, without threats', async () => {
    for (const tone of ['final', 'firm'] as const) {
      const out = await renderEmail('reminder', { ...base, tone, invoices: [base.invoices[1]!] });
      expect(out.subject).toBe('Payment reminder: invoice NEW-2 is due Nov 30, 2026');
      expect(out.text).not.toMatch(/final|collections|overdue|Despite/i);
    }
  });
});

describe('tone copy matches the state', () => {
  it('on the due date the neutral step says "due today", not "overdue"', async () => {
    const out = await renderEmail('reminder', {
      ...base,
      tone: 'neutral',
      invoices: [{ ...base.invoices[0]!, dueDate: '2026-11-27' }],
    });
    expect(out.subject).toBe('Payment reminder: invoice OLD-1 is due today');
    expect(flat(out.text)).toContain('invoice OLD-1 for $1,000.00 is due today');
    expect(out.text).not.toMatch(/overdue/i);
  });

  it('days overdue are counted to the day the debtor reads it, in their zone', async () => {
    // 03:00 UTC on the 28th is still the 27th in New York: OLD-1 (due the 25th) is 2 days overdue, not 3.
    const out = await renderEmail('reminder', { ...base, tone: 'firm', generatedAt: '2026-11-28T03:00:00Z' });
    expect(flat(out.text)).toContain('the oldest amount now 2 days past due');
  });

  it('"Despite our earlier reminders" only after reminders were sent', async () => {
    const first = await renderEmail('reminder', { ...base, tone: 'firm', previousReminders: 0 });
    expect(first.text).not.toContain('earlier reminders');
  });
});

describe('a reviewer’s introduction', () => {
  it('goes after the greeting, never above it (one salutation)', async () => {
    const out = applyEdits(await renderEmail('reminder', { ...base, tone: 'neutral' }), {
      editedSubject: null,
      editedIntro: 'As discussed on the phone today:',
    });
    const html = out.html;
    expect(html.indexOf('Hello Bergmann KG,')).toBeLessThan(html.indexOf('As discussed on the phone today:'));
    const lines = out.text.split('\n').filter(Boolean);
    const g = lines.findIndex((l) => l.startsWith('Hello Bergmann KG,'));
    expect(lines[g + 1]).toBe('As discussed on the phone today:');
    expect(out.text.match(/Hello|Hi /g)).toHaveLength(1);
  });

  // The text part wraps long lines: a greeting to a long company name spans two lines, and the introduction went
  // above it in the text part while the HTML had it below.
  it('goes after the greeting in the text part too when a long name wraps the greeting', async () => {
    const name =
      'Northern Territories Agricultural Equipment Leasing and Financial Services Cooperative Holdings International Limited';
    for (const kind of ['reminder', 'statement'] as const) {
      const out = applyEdits(await renderEmail(kind, { ...base, tone: 'neutral', debtor: { name } }), {
        editedSubject: null,
        editedIntro: 'As discussed on the phone today:',
      });
      const text = flat(out.text);
      expect(text.indexOf(`${name},`), kind).toBeGreaterThanOrEqual(0);
      expect(text.indexOf(`${name},`), kind).toBeLessThan(text.indexOf('As discussed on the phone today:'));
    }
  });
});

describe('every reminder can be paid', () => {
  it('mentions links only when the invoices have them', async () => {
    const none = await renderEmail('reminder', { ...base, tone: 'neutral' });
    expect(none.text).not.toMatch(/links? below/i);
    expect(flat(none.text)).toContain('Reply to this email if you need our payment details.');
    const linked = await renderEmail('reminder', {
      ...base,
      tone: 'neutral',
      invoices: base.invoices.map((i) => ({ ...i, payLink: `https://pay.example/${i.number}` })),
    });
    expect(flat(linked.text)).toContain('You can pay online using the links below.');
    expect(linked.text).toMatch(/^Pay: https:\/\/pay\.example\/OLD-1$/m);
  });

  it('shows the tenant’s payment details when there are no links', async () => {
    const out = await renderEmail('reminder', {
      ...base,
      tone: 'neutral',
      paymentDetails: {
        instructions: 'Bank: Acme Bank\nIBAN: DE00 1234 5678 9000',
        url: 'https://pay.acme-billing.com',
      },
    });
    expect(flat(out.text)).toContain('followed by how to pay');
    expect(out.text).toContain('How to pay');
    expect(out.text).toContain('IBAN: DE00 1234 5678 9000');
    expect(out.html).toContain('href="https://pay.acme-billing.com"');
  });
});

describe('phones', () => {
  it('has a viewport and stacks the invoice table on narrow screens', async () => {
    const out = await renderEmail('reminder', base);
    expect(out.html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1"');
    expect(out.html).toMatch(/@media only screen and \(max-width: 480px\)/);
    expect(out.html).toContain('data-label="Open amount"');
  });
});

describe('a friendly reminder listing old debt', () => {
  // A friendly step falls due for a new invoice while an older one, reminded long ago, is still open: the one
  // consolidated email listed both and said "2 invoices … are just past due" of a debt 400 days old.
  it('says "just past due" only when it is, and dates the oldest otherwise', async () => {
    const invoices = [
      { ...base.invoices[0]!, number: 'OLD-1', dueDate: '2025-10-23' },
      { ...base.invoices[1]!, number: 'NEW-2', dueDate: '2026-11-24' },
    ];
    const old = await renderEmail('reminder', { ...base, tone: 'friendly', previousReminders: 0, invoices });
    for (const part of [old.html, old.text]) {
      expect(flat(part)).not.toContain('just past due');
      expect(flat(part)).toContain(
        '2 invoices totalling $1,400.00 are past due, the oldest since Oct 23, 2025,',
      );
    }
    const recent = await renderEmail('reminder', {
      ...base,
      tone: 'friendly',
      previousReminders: 0,
      invoices: invoices.map((i) => ({ ...i, dueDate: '2026-11-24' })),
    });
    expect(flat(recent.text)).toContain('2 invoices totalling $1,400.00 are just past due');
  });
});

describe('credit on account in a reminder', () => {
  // The planner holds a reminder to a debtor with unapplied payments or credit memos for approval; the email itself
  // listed the full open amounts and said nothing of the credit.
  it('says what the credit leaves to pay, in HTML and text', async () => {
    const r = await renderEmail('reminder', {
      ...base,
      tone: 'neutral',
      credits: [{ currency: 'USD', creditMinor: 25_000 }],
    });
    const line =
      'Unapplied payments and credits on your account: $250.00. After them, $1,150.00 remains to pay.';
    expect(flat(r.text)).toContain(line);
    expect(flat(r.html)).toContain(line);
  });

  // A debtor billed in two currencies with credit in one: the sentence named only the credited currency, so
  // "After them, ¥0 remains to pay" read as if nothing were owed while CA$400.00 still was.
  it('with invoices in several currencies and credit in one, what remains names every currency still owed', async () => {
    for (const kind of ['reminder', 'statement'] as const) {
      const r = await renderEmail(kind, {
        ...base,
        tone: 'neutral',
        invoices: [
          { ...base.invoices[0]!, currency: 'CAD', totalMinor: 100_000, openMinor: 40_000 },
          { ...base.invoices[1]!, currency: 'JPY', totalMinor: 5_000, openMinor: 5_000 },
        ],
        credits: [{ currency: 'JPY', creditMinor: 6_000 }],
      });
      const line =
        'Unapplied payments and credits on your account: ¥6,000. After them, CA$400.00 remains to pay.';
      expect(flat(r.text), kind).toContain(line);
      expect(flat(r.html), kind).toContain(line);
    }
  });
});

describe('a relationship of this year', () => {
  // "Thank you for being a customer since 2026", read in 2026, thanks a customer of a few weeks for their loyalty.
  it('names the year a customer started only when it is before the year the debtor reads it', async () => {
    const read = (customerSince: string, tone: ReminderProps['tone']) =>
      renderEmail('reminder', {
        ...base,
        tone,
        previousReminders: tone === 'firm' ? 1 : 0,
        debtor: { name: 'Bergmann KG', customerSince },
      });
    for (const tone of ['friendly', 'firm'] as const) {
      const thisYear = await read('2026-02-10', tone);
      const earlier = await read('2019-04-01', tone);
      for (const part of ['html', 'text'] as const) {
        expect(flat(thisYear[part]), `${tone} ${part}`).not.toMatch(/since 2026/);
        expect(flat(earlier[part]), `${tone} ${part}`).toMatch(/since 2019/);
      }
    }
  });
});
