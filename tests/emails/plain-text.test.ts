/**
 * The plain-text part is built from the props (emails/plain-text.ts) and must stay byte for byte what debtors got
 * when it was html-to-text's conversion of the HTML (emails/html-text-reference.ts, and @react-email/render's
 * toPlainText that the reference reproduces): varied props of every kind through both paths.
 */
import { toPlainText } from '@react-email/render';
import { describe, expect, it } from 'vitest';
import type { BaseEmailProps, InvoiceLine } from '../../emails/email-props';
import {
  htmlToTextReference,
  TEXT_FORMATTERS,
  TEXT_SELECTORS,
  TEXT_WORDWRAP,
} from '../../emails/html-text-reference';
import type { InvoiceCopyProps } from '../../emails/invoice-copy';
import type { PaymentReceiptProps } from '../../emails/payment-receipt';
import { WORDWRAP } from '../../emails/plain-text';
import type { ReminderProps } from '../../emails/reminder';
import type { Tone } from '../../emails/reminder-copy';
import { type EmailKind, type EmailPropsByKind, renderEmail } from '../../emails/render';
import type { StatementProps } from '../../emails/statement';

/** mulberry32: the same cases on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const maybe = <T>(p: number, x: () => T): T | undefined => (next() < p ? x() : undefined);
  return { next, int, pick, maybe };
}
type Rng = ReturnType<typeof rng>;

const LONG =
  'Internationale Handels- und Verwaltungsgesellschaft für Spezialwerkzeuge, Maschinenbau und Zubehör';
const NAMES = [
  'Bergmann & Söhne KG',
  'Café du Coin SARL',
  'Globex LLC',
  `<b>Evil</b> "Quotes" & 'Apostrophes' Ltd`,
  'A &amp; B &lt;literal entities&gt;',
  `${LONG} mbH & Co. KG, Niederlassung Süd`,
  'Aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa GmbH',
  'an undefined-sounding nameundefinedwithoutspacesxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  '  Leading and trailing spaces  ',
  'Tabs\tand\nnewlines  and   runs',
  'Zero\u200bwidth and no\u00a0break',
  'Straße ß Großhandel',
  'Ünïcödé 🧾 Emoji Ltd',
  'x',
];
const LOCALES = [
  ['de-DE', 'Europe/Berlin', 'EUR'],
  ['fr-FR', 'Europe/Paris', 'EUR'],
  ['en-US', 'America/New_York', 'USD'],
  ['en-GB', 'Europe/London', 'GBP'],
  ['de-CH', 'Europe/Zurich', 'CHF'],
  ['ja-JP', 'Asia/Tokyo', 'JPY'],
] as const;
const URLS = [
  'https://pay.example/inv/1042',
  'https://pay.example/a/very/long/path/that/goes/on/and/on/for/more/than/one/hundred/characters/so/it/never/fits/on/a/line?x=1&y=2',
  'https://pay.example/q?a=1&b="2"&c=<3>',
  'javascript:alert(1)',
  '#fragment',
  'mailto:pay@example.com',
];

function isoDay(offset: number): string {
  return new Date(Date.UTC(2026, 10, 27 + offset)).toISOString().slice(0, 10);
}

function invoiceNumber(r: Rng, i: number): string {
  return r.pick([
    `${1000 + i}`,
    `INV-2026-${String(i).padStart(5, '0')}`,
    `ß-${i}`,
    `No. ${i} of a very long invoice series with spaces that needs more than sixty characters ${i}`,
    `<${i}&"'>`,
  ]);
}

function invoices(r: Rng, n: number, currency: string): InvoiceLine[] {
  const out: InvoiceLine[] = [];
  const currencies = r.next() < 0.15 ? [currency, 'USD', 'EUR'] : [currency];
  for (let i = 0; i < n; i++) {
    const total = r.pick([100, 48_000, 150_000, 123_456_789, 99, 0]);
    const open = r.pick([total, total, Math.floor(total / 3), 0, -2_500]);
    out.push({
      number: `${invoiceNumber(r, i)}${i}`,
      issueDate: isoDay(-60 + r.int(40)),
      dueDate: isoDay(r.pick([-40, -14, -1, 0, 0, 1, 6, 30])),
      currency: r.pick(currencies),
      totalMinor: total,
      openMinor: open,
      payLink: r.maybe(0.6, () => r.pick(URLS)),
      pdfLink: r.maybe(0.25, () => `https://host.example/pdf/${i}.pdf`),
    });
  }
  return out;
}

function base(r: Rng): BaseEmailProps {
  const [locale, timezone] = r.pick(LOCALES);
  return {
    locale,
    timezone,
    generatedAt: r.pick(['2026-11-27T09:00:00Z', '2026-11-27T23:30:00Z', '2026-11-26T22:59:59Z']),
    sender: {
      companyName: r.pick(NAMES),
      replyTo: r.pick(['ar@nordlicht.example', '', 'a b@example.com', 'Buchhaltung <ar@x.example>']),
      address: r.pick([[], ['Hafenstraße 12', '20457 Hamburg', 'Germany'], [LONG, LONG], ['  ', 'x']]),
      phone: r.maybe(0.3, () => r.pick(['+49 40 123456', '<call us>'])),
    },
    debtor: {
      name: r.pick(NAMES),
      contactName: r.maybe(0.4, () => r.pick(NAMES)),
      customerSince: r.maybe(0.6, () => r.pick(['2019-04-01', '2026-01-01'])),
      reliablePayer: r.maybe(0.7, () => r.next() < 0.5),
    },
    unsubscribeUrl: r.pick([
      'https://app.duely.example/u/abc123',
      '',
      'https://app.duely.example/u/a?b=1&c=2',
    ]),
    paymentDetails: r.maybe(0.6, () => ({
      url: r.maybe(0.6, () => r.pick(URLS)),
      instructions: r.maybe(0.6, () =>
        r.pick(['IBAN DE12 3456 7890\nBIC NOLADE21XXX', `Pay to: ${LONG}, ${LONG}`, '  \n ']),
      ),
    })),
  };
}

const TONES: Tone[] = ['friendly', 'neutral', 'firm', 'final'];

function reminder(r: Rng): ReminderProps {
  const b = base(r);
  const currency = LOCALES.find(([l]) => l === b.locale)![2];
  const n = r.pick([1, 1, 2, 3, 5, 12]);
  return {
    ...b,
    tone: r.pick(TONES),
    invoices: invoices(r, n, currency),
    statementUrl: r.maybe(0.4, () => r.pick(URLS)),
    respondBy: r.maybe(0.4, () => isoDay(7)),
    previousReminders: r.maybe(0.7, () => r.int(4)),
    credits: r.maybe(0.3, () => [{ currency, creditMinor: r.pick([1, 12_345, 999_999_99]) }]),
    customCopy: r.maybe(0.25, () => ({
      subject: r.maybe(0.5, () => 'About {{invoice_list}}'),
      body: r.maybe(0.8, () =>
        r.pick([
          'Dear {{contact}},\n\nyou owe {{overdue_total}} ({{days_overdue}} days). Pay here: {{pay_link}}\n\n\n{{sender}}',
          `${LONG} ${LONG} ${LONG}\nsecond line of the same paragraph\n\n  \n\n<script>alert("x")</script> & more`,
          '   ',
        ]),
      ),
    })),
  };
}

function statement(r: Rng): StatementProps {
  const b = base(r);
  const currency = LOCALES.find(([l]) => l === b.locale)![2];
  return {
    ...b,
    invoices: invoices(r, r.pick([0, 1, 2, 7]), currency),
    statementUrl: r.maybe(0.5, () => r.pick(URLS)),
    // Credit on account (unapplied payments, credit memos): the statement says what it leaves to pay.
    credits: r.maybe(0.4, () => [{ currency, creditMinor: r.pick([1, 12_345, 999_999_99]) }]),
  };
}

function invoiceCopy(r: Rng): InvoiceCopyProps {
  const b = base(r);
  const currency = LOCALES.find(([l]) => l === b.locale)![2];
  const [inv] = invoices(r, 1, currency);
  return {
    ...b,
    invoice: {
      ...inv!,
      lines: Array.from({ length: r.pick([0, 1, 3]) }, (_, i) => ({
        description:
          r.pick(['Cordless drill', `${LONG} ${LONG}`, '<Installation & "setup">', `Item ${i}`]) + i,
        quantity: r.pick([1, 2, 0.5, 1000]),
        amountMinor: r.pick([38_000, 60_000, 1, -500]),
      })),
      paidMinor: r.pick([0, 30_000]),
      creditedMinor: r.pick([0, 10_000]),
    },
  };
}

function paymentReceipt(r: Rng): PaymentReceiptProps {
  const b = base(r);
  const currency = LOCALES.find(([l]) => l === b.locale)![2];
  return {
    ...b,
    payment: {
      date: isoDay(-1),
      amountMinor: r.pick([250_000, 1, 123_456_789]),
      currency,
      reference: r.maybe(0.5, () => r.pick(['ACH 7781', `<ref & "quote"> ${LONG}`])),
    },
    appliedTo: Array.from({ length: r.pick([0, 1, 2, 4]) }, (_, i) => ({
      number: invoiceNumber(r, i) + i,
      appliedMinor: r.pick([150_000, 100_000]),
      currency,
      openMinor: r.pick([0, 35_050]),
    })),
    stillOpen: invoices(r, r.pick([0, 1, 3]), currency),
  };
}

const MAKERS: { [K in EmailKind]: [count: number, make: (r: Rng) => EmailPropsByKind[K]] } = {
  reminder: [400, reminder],
  statement: [120, statement],
  invoice_copy: [120, invoiceCopy],
  payment_receipt: [120, paymentReceipt],
};

describe('the plain-text part built from the props equals html-to-text over the HTML', () => {
  for (const kind of Object.keys(MAKERS) as EmailKind[]) {
    it(`${kind}: ${MAKERS[kind][0]} varied prop sets`, async () => {
      const [count, make] = MAKERS[kind];
      const r = rng(kind.length * 7919);
      let wrapped = 0;
      for (let i = 0; i < count; i++) {
        const props = make(r);
        const out = await renderEmail(kind, props as never);
        const reference = htmlToTextReference(out.html);
        if (out.text !== reference) {
          // The case, for reproduction: the first difference is enough to see what went wrong.
          expect({ i, props, text: out.text }).toEqual({ i, props, text: reference });
        }
        if (out.text.split('\n').some((l) => l.length > 70 && / /.test(l))) wrapped++;
      }
      // The cases exercise the word wrap, not only short lines.
      expect(wrapped).toBeGreaterThan(count / 10);
    });
  }

  it("the reference is @react-email/render's toPlainText with the same selectors and wrap", async () => {
    const r = rng(42);
    for (let i = 0; i < 60; i++) {
      const kind = r.pick(Object.keys(MAKERS) as EmailKind[]);
      const out = await renderEmail(kind, MAKERS[kind][1](r) as never);
      expect(htmlToTextReference(out.html)).toBe(
        toPlainText(out.html, {
          selectors: TEXT_SELECTORS,
          formatters: TEXT_FORMATTERS,
          wordwrap: TEXT_WORDWRAP,
        } as never),
      );
    }
  });

  it('a reminder with many invoices states every number, date, amount and link, the reply-to and unsubscribe line', async () => {
    const props: ReminderProps = {
      ...reminder(rng(7)),
      locale: 'de-DE',
      sender: { companyName: 'Nordlicht GmbH', replyTo: 'ar@nordlicht.example', address: ['Hafenstraße 12'] },
      unsubscribeUrl: 'https://app.duely.example/u/abc',
      invoices: Array.from({ length: 9 }, (_, i) => ({
        number: `R-${i}`,
        issueDate: '2026-10-01',
        dueDate: isoDay(i - 4),
        currency: 'EUR',
        totalMinor: 10_000 * (i + 1),
        openMinor: 10_000 * (i + 1) - 1,
        payLink: `https://pay.example/inv/R-${i}`,
        pdfLink: `https://host.example/pdf/R-${i}.pdf`,
      })),
    };
    const { text } = await renderEmail('reminder', props);
    const plain = text.replace(/[\u00a0\u202f]/g, ' ');
    const euro = (minor: number) => `${(minor / 100).toFixed(2).replace('.', ',')} €`;
    for (const inv of props.invoices) {
      // One block per invoice: its number and amounts, its dates (and days overdue), its links on lines of their own.
      const overdue = 4 - Number(inv.number.slice(2));
      const block = [
        `Invoice ${inv.number}: ${euro(inv.openMinor)} open of ${euro(inv.totalMinor)}`,
        `Issued 01.10.2026; due ${isoDay(overdue * -1)
          .split('-')
          .reverse()
          .join('.')}${overdue > 0 ? `; ${overdue} ${overdue === 1 ? 'day' : 'days'} overdue` : ''}`,
        `Pay: ${inv.payLink}`,
        `PDF: ${inv.pdfLink}`,
      ].join('\n');
      expect(plain).toContain(`\n\n${block}\n\n`);
    }
    // Two tables, two subtotals, each named for its group: both said "Total open", so the debtor read the overdue
    // subtotal as all they owed (and then a second, different "Total open").
    expect(plain).toContain(
      `Total overdue: ${euro(props.invoices.slice(0, 4).reduce((a, i) => a + i.openMinor, 0))}`,
    );
    expect(plain).toContain('Total not yet overdue: 3.499,95 €'); // R-4 (due today) … R-8
    expect(plain).not.toContain('Total open');
    expect(text).toContain('ar@nordlicht.example');
    expect(text).toMatch(/^Unsubscribe from payment reminders https:\/\/app\.duely\.example\/u\/abc$/m);
  });

  it('reads in a text mail client: no line over 78 characters but a word that cannot be broken (a URL)', async () => {
    expect(WORDWRAP).toBe(78);
    expect(TEXT_WORDWRAP).toBe(WORDWRAP);
    let long = 0;
    for (const kind of Object.keys(MAKERS) as EmailKind[]) {
      const r = rng(kind.length * 104_729);
      for (let i = 0; i < 60; i++) {
        const { text } = await renderEmail(kind, MAKERS[kind][1](r) as never);
        for (const line of text.split('\n')) {
          if (line.length <= 78) continue;
          long++;
          // A list item's prefix (" * ", "   ") aside, the line is one word.
          expect(line.replace(/^( \* | {3})/, ''), `${kind} #${i}`).not.toMatch(/\s/);
        }
      }
    }
    // The cases include URLs and names longer than a line.
    expect(long).toBeGreaterThan(0);
  });
});
