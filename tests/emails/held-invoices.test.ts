/**
 * An invoice on hold (disputed, paused, promised) is left out of the amounts asked for, and the email says so in one
 * calm sentence: without it the debtor reads its absence as the dispute settled in their favour or the invoice
 * forgotten (day-one review: "10 open invoices, $14,914.18" with no word about disputed invoice 5564).
 */
import { describe, expect, it } from 'vitest';
import { Reminder, type ReminderProps } from '../../emails/reminder';
import { renderEmail } from '../../emails/render';
import { Statement, type StatementProps } from '../../emails/statement';

const flat = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ').replace(/[ \n]+/g, ' ');
const htmlText = (html: string) =>
  flat(
    html
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#x27;|&#39;/g, "'")
      .replace(/&amp;/g, '&'),
  );

const held: StatementProps['held'] = [
  { number: '5564', currency: 'USD', openMinor: 152_206, hold: 'disputed' },
  { number: '5570', currency: 'USD', openMinor: 10_000, hold: 'promised', promisedDate: '2026-12-15' },
  { number: '5571', currency: 'USD', openMinor: 2_000, hold: 'paused' },
];
const DISPUTED =
  'Invoice 5564 ($1,522.06) is on hold while we look into your query, so it is not included above.';
const PROMISED =
  'Invoice 5570 ($100.00) is not included above: thank you for letting us know it will be paid by Dec 15, 2026.';
const PAUSED = 'Invoice 5571 ($20.00) is on hold for now, so it is not included above.';

const invoices = [
  {
    number: '5500',
    issueDate: '2026-10-01',
    dueDate: '2026-11-01',
    currency: 'USD',
    totalMinor: 100_000,
    openMinor: 100_000,
  },
];
const common = {
  locale: 'en-US',
  timezone: 'America/New_York',
  generatedAt: '2026-11-27T15:00:00Z',
  debtor: { name: 'Bergmann KG' },
  statementUrl: undefined,
  invoices,
};

describe('invoices on hold in a statement and a reminder', () => {
  it('a statement names each held invoice, HTML and text alike, and leaves it out of the count and total', async () => {
    const out = await renderEmail('statement', { ...Statement.PreviewProps, ...common, held });
    for (const body of [flat(out.text), htmlText(out.html)]) {
      expect(body).toContain('1 open invoice, $1,000.00 in total.');
      expect(body).toContain(DISPUTED);
      expect(body).toContain(PROMISED);
      expect(body).toContain(PAUSED);
      expect(body).not.toContain('$2,642.06');
    }
  });

  it('a reminder names it too, and asks only for the listed invoices', async () => {
    const props: ReminderProps = {
      ...Reminder.PreviewProps,
      ...common,
      tone: 'neutral',
      held: held.slice(0, 1),
    };
    const out = await renderEmail('reminder', props);
    for (const body of [flat(out.text), htmlText(out.html)]) {
      expect(body).toContain(DISPUTED);
      expect(body).not.toContain('$2,522.06');
    }
    expect(out.subject).not.toContain('1,522.06');
  });

  it('without held invoices nothing is said', async () => {
    const out = await renderEmail('statement', { ...Statement.PreviewProps, ...common });
    expect(flat(out.text)).not.toContain('on hold');
  });
});
