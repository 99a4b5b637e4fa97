import { Button, Section, Text } from '@react-email/components';
import { EmailLayout, emailLayoutText } from './components/email-layout';
import { InvoiceTable, invoiceTableText, pdfLinksNote } from './components/invoice-table';
import { PaymentDetails, paymentDetailsText } from './components/payment-details';
import { type BaseEmailProps, greet, type HeldLine, type InvoiceLine } from './email-props';
import { creditNote, formatDate, formatTotals, heldNotes, localIsoDate } from './locale-format';

export const STATEMENT_VERSION = 'statement@6';

export interface StatementProps extends BaseEmailProps {
  invoices: InvoiceLine[];
  statementUrl?: string;
  /** Unapplied payments and open credit memos on the debtor's account, per currency (the planner's snapshot). */
  credits?: { currency: string; creditMinor: number }[];
  /** Open invoices on hold (disputed, paused, promised): named under the table, not listed nor totalled. */
  held?: HeldLine[];
}

const paragraph = { fontSize: '15px', lineHeight: '22px', margin: '0 0 12px' };
const button = { backgroundColor: '#1f4fd1', color: '#ffffff', padding: '10px 18px', borderRadius: '4px' };

export function statementSubject(props: StatementProps): string {
  const asOf = formatDate(localIsoDate(props.generatedAt, props.timezone), props.locale);
  return `Statement of account from ${props.sender.companyName} as of ${asOf}`;
}

export function Statement(props: StatementProps) {
  const asOf = localIsoDate(props.generatedAt, props.timezone);
  const total = formatTotals(props.invoices, props.locale);
  return (
    <EmailLayout
      base={props}
      preview={`Open balance ${total} as of ${formatDate(asOf, props.locale)}.`}
      title="Statement of account"
    >
      <Text style={paragraph} data-greeting="">
        {greet(props.debtor)}
      </Text>
      {props.invoices.length > 0 ? (
        <>
          <Text style={paragraph}>
            Here is your statement as of {formatDate(asOf, props.locale)}: {props.invoices.length} open{' '}
            {props.invoices.length === 1 ? 'invoice' : 'invoices'}, {total} in total.
          </Text>
          {creditNote(props) ? <Text style={paragraph}>{creditNote(props)}</Text> : null}
          <InvoiceTable invoices={props.invoices} locale={props.locale} asOf={asOf} />
          {heldNotes(props).map((h) => (
            <Text key={h} style={paragraph} data-held="">
              {h}
            </Text>
          ))}
          {pdfLinksNote(props.invoices) ? (
            <Text style={paragraph}>{pdfLinksNote(props.invoices)}</Text>
          ) : null}
        </>
      ) : (
        <Text style={paragraph}>
          You have no open invoices with us as of {formatDate(asOf, props.locale)}.
        </Text>
      )}
      <PaymentDetails payment={props.paymentDetails} />
      {props.statementUrl ? (
        <Section>
          <Button href={props.statementUrl} style={button}>
            View and pay online
          </Button>
        </Section>
      ) : null}
    </EmailLayout>
  );
}

/** The plain-text part of Statement (emails/plain-text.ts): the same blocks in the same order. */
export function statementText(props: StatementProps): string {
  const asOf = localIsoDate(props.generatedAt, props.timezone);
  const date = formatDate(asOf, props.locale);
  const n = props.invoices.length;
  return emailLayoutText(props, 'Statement of account', (t) => {
    t.p(greet(props.debtor));
    if (n > 0) {
      const total = formatTotals(props.invoices, props.locale);
      t.p(
        `Here is your statement as of ${date}: ${n} open ${n === 1 ? 'invoice' : 'invoices'}, ${total} in total.`,
      );
      const credit = creditNote(props);
      if (credit) t.p(credit);
      invoiceTableText(t, { invoices: props.invoices, locale: props.locale, asOf });
      for (const h of heldNotes(props)) t.p(h);
      const note = pdfLinksNote(props.invoices);
      if (note) t.p(note);
    } else {
      t.p(`You have no open invoices with us as of ${date}.`);
    }
    paymentDetailsText(t, props.paymentDetails);
    if (props.statementUrl) t.section(() => t.link(props.statementUrl, 'View and pay online'));
  });
}

Statement.PreviewProps = {
  locale: 'fr-FR',
  timezone: 'Europe/Paris',
  generatedAt: '2026-11-27T08:00:00Z',
  sender: {
    companyName: 'Atelier Lumière SAS',
    replyTo: 'compta@lumiere.example',
    address: ['8 rue Oberkampf', '75011 Paris'],
  },
  debtor: { name: 'Café du Coin SARL', customerSince: '2018-06-15' },
  invoices: [
    {
      number: 'F-0912',
      issueDate: '2026-09-01',
      dueDate: '2026-10-01',
      currency: 'EUR',
      totalMinor: 210000,
      openMinor: 210000,
      payLink: 'https://pay.example/inv/F-0912',
    },
    {
      number: 'F-1003',
      issueDate: '2026-10-03',
      dueDate: '2026-12-03',
      currency: 'EUR',
      totalMinor: 75025,
      openMinor: 75025,
    },
  ],
  statementUrl: 'https://pay.example/statement/cafe-du-coin',
  unsubscribeUrl: 'https://app.duely.example/u/jkl012',
} satisfies StatementProps;

export default Statement;
