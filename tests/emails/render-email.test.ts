import { describe, expect, it } from 'vitest';
import { InvoiceCopy } from '../../emails/invoice-copy';
import { PaymentReceipt } from '../../emails/payment-receipt';
import { Reminder } from '../../emails/reminder';
import { type EmailKind, type EmailPropsByKind, renderEmail, TEMPLATE_VERSIONS } from '../../emails/render';
import { Statement } from '../../emails/statement';

// Intl separates amount and symbol with a no-break space; compare on plain spaces.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ');
/** The text part's words, its line breaks (wrapped at 78 characters) as spaces. */
const flat = (s: string) => plain(s).replace(/[ \n]+/g, ' ');

const PREVIEWS: { [K in EmailKind]: EmailPropsByKind[K] } = {
  reminder: Reminder.PreviewProps,
  payment_receipt: PaymentReceipt.PreviewProps,
  invoice_copy: InvoiceCopy.PreviewProps,
  statement: Statement.PreviewProps,
};

describe('every template renders with its preview props', () => {
  for (const kind of Object.keys(PREVIEWS) as EmailKind[]) {
    it(kind, async () => {
      const out = await renderEmail(kind, PREVIEWS[kind] as never);
      for (const part of [out.subject, out.html, out.text]) {
        expect(part).not.toMatch(/undefined|NaN|\[object Object\]/);
      }
      expect(out.subject.length).toBeGreaterThan(10);
      expect(out.templateVersion).toBe(TEMPLATE_VERSIONS[kind]);
      // Footer: unsubscribe link and the sender's identity, in both HTML and text.
      const { unsubscribeUrl, sender } = PREVIEWS[kind];
      expect(out.html).toContain(`href="${unsubscribeUrl}"`);
      expect(out.text).toContain(unsubscribeUrl);
      expect(out.text).toContain(sender.companyName);
      expect(out.text).toContain(sender.replyTo);
      for (const line of sender.address) expect(out.text).toContain(line);
    });
  }
});

describe('reminder', () => {
  const de = Reminder.PreviewProps;

  it('formats money and dates in the debtor locale (de-DE)', async () => {
    const out = await renderEmail('reminder', de);
    const text = plain(out.text);
    expect(text).toContain('1.234,50 €'); // open amount of 1042 after a partial payment
    expect(text).toContain('1.500,00 €'); // its original amount
    expect(text).toContain('1.714,50 €'); // total open
    expect(text).toContain('13.11.2026');
    expect(plain(out.html)).toContain('1.234,50 €');
  });

  it('lists every open invoice as a readable block with days overdue and pay link', async () => {
    const { text } = await renderEmail('reminder', de);
    // generatedAt 2026-11-27 in Berlin, due 2026-11-13 → 14 days overdue.
    expect(plain(text)).toContain(
      [
        'Invoice 1042: 1.234,50 € open of 1.500,00 €',
        'Issued 15.10.2026; due 13.11.2026; 14 days overdue',
        'Pay: https://pay.example/inv/1042',
      ].join('\n'),
    );
    expect(text).toMatch(/^Invoice 1057: /m);
    expect(text).toContain('https://pay.example/statement/bergmann');
  });

  it('counts days in the debtor timezone, not UTC', async () => {
    // 23:30 UTC on the 27th is already the 28th in Berlin.
    const { text } = await renderEmail('reminder', { ...de, generatedAt: '2026-11-27T23:30:00Z' });
    expect(plain(text)).toMatch(/^Invoice 1042: .*\nIssued \S+; due \S+; 15 days overdue$/m);
  });

  it('reads differently per tone, each with its own subject', async () => {
    const outs = await Promise.all(
      (['friendly', 'neutral', 'firm', 'final'] as const).map((tone) =>
        renderEmail('reminder', { ...de, tone }),
      ),
    );
    const [friendly, neutral, firm, final] = outs.map((o) => ({ ...o, text: plain(o.text) }));
    expect(new Set(outs.map((o) => o.subject)).size).toBe(4);
    expect(friendly!.subject).toMatch(/^Quick reminder/);
    expect(neutral!.subject).toMatch(/^Payment reminder/);
    expect(firm!.subject).toBe(
      'Action needed: 1.714,50 € overdue with Nordlicht Software GmbH'.replace(' €', '\u00a0€'),
    );
    expect(final!.subject).toMatch(/^Final notice/);
    expect(final!.text).toContain('collections process');
    expect(firm!.text).toContain('14 days past due');
    // The kind punctuality sentence appears only in the gentle tones, never next to a threat.
    expect(friendly!.text).toContain('always paid reliably');
    expect(neutral!.text).toContain('always paid reliably');
    expect(firm!.text).not.toContain('reliabl');
    expect(final!.text).not.toContain('reliabl');
  });

  it('friendly before the due date is a heads-up, not an overdue notice', async () => {
    const out = await renderEmail('reminder', {
      ...de,
      tone: 'friendly',
      generatedAt: '2026-11-10T09:00:00Z',
      invoices: de.invoices.slice(0, 1),
    });
    expect(out.subject).toBe('Friendly reminder: invoice 1042 is due 13.11.2026');
    expect(out.text).toContain('is due on 13.11.2026');
    expect(out.text).not.toMatch(/overdue balance|past due/);
  });

  it('thanks a reliable payer before the due date instead of suggesting anything slipped', async () => {
    const out = await renderEmail('reminder', {
      ...de,
      tone: 'friendly',
      generatedAt: '2026-11-10T09:00:00Z',
    });
    expect(flat(out.text)).toContain('have always paid reliably; thank you for that.');
    expect(out.text).not.toContain('slipped');
  });

  it('firm copy mentions earlier reminders only when there were some', async () => {
    const first = await renderEmail('reminder', { ...de, tone: 'firm', previousReminders: 0 });
    const later = await renderEmail('reminder', { ...de, tone: 'firm', previousReminders: 2 });
    expect(first.text).not.toContain('earlier reminders');
    expect(later.text).toContain('Despite our earlier reminders');
  });

  it('says nothing about punctuality to payers who are not known to be reliable', async () => {
    const out = await renderEmail('reminder', { ...de, debtor: { name: 'Bergmann & Söhne KG' } });
    expect(out.text).not.toMatch(/reliabl|late|slow/i);
    expect(out.text).toContain('Hello Bergmann & Söhne KG');
  });

  it('final notice quotes the respond-by date when given', async () => {
    const out = await renderEmail('reminder', { ...de, tone: 'final', respondBy: '2026-12-04' });
    expect(flat(out.text)).toContain('from you by 04.12.2026');
  });

  it('totals each currency separately', async () => {
    const usd = { ...de.invoices[0]!, number: 'US-1', currency: 'USD', openMinor: 99900, totalMinor: 99900 };
    const out = await renderEmail('reminder', { ...de, locale: 'en-US', invoices: [...de.invoices, usd] });
    expect(plain(out.text)).toContain('€1,714.50 + $999.00');
  });
});

describe('receipt, invoice copy, statement', () => {
  it('receipt thanks for the payment and shows what remains', async () => {
    const out = await renderEmail('payment_receipt', PaymentReceipt.PreviewProps);
    expect(out.subject).toBe('Payment received: $2,500.00, thank you');
    expect(out.text).toContain('Invoice A-2001: $1,500.00 applied, now paid in full');
    expect(out.text).toContain('$350.50 still open');
    expect(out.text).toMatch(/^Invoice A-2007: /m);
    expect(out.text).not.toMatch(/overdue/i);
  });

  it('receipt says the account is clear when nothing remains', async () => {
    const out = await renderEmail('payment_receipt', { ...PaymentReceipt.PreviewProps, stillOpen: [] });
    expect(out.text).toContain('fully paid up');
  });

  it('invoice copy explains payments and credits (en-GB)', async () => {
    const out = await renderEmail('invoice_copy', InvoiceCopy.PreviewProps);
    expect(out.subject).toBe('Copy of invoice TT-311 from Thames Tools Ltd');
    expect(out.text).toContain('Invoice total £980.00, paid £300.00, credited £100.00; open £580.00.');
    expect(out.text).toContain('1 Dec 2026');
  });

  it('statement lists open invoices with the fr-FR total', async () => {
    const out = await renderEmail('statement', Statement.PreviewProps);
    const text = plain(out.text);
    expect(out.subject).toBe('Statement of account from Atelier Lumière SAS as of 27 nov. 2026');
    expect(text).toContain('2 850,25 €');
    expect(text).toMatch(/^Invoice F-0912: /m);
    expect(text).toMatch(/^Invoice F-1003: /m);
  });
});
