import { Button, Section, Text } from '@react-email/components';
import { EmailLayout, emailLayoutText } from './components/email-layout';
import { InvoiceTable, invoiceTableText } from './components/invoice-table';
import { type BaseEmailProps, greet, type InvoiceLine } from './email-props';
import { formatDate, formatMoney, localIsoDate } from './locale-format';

export const INVOICE_COPY_VERSION = 'invoice-copy@2';

export interface InvoiceCopyProps extends BaseEmailProps {
  invoice: InvoiceLine & {
    lines: { description: string; quantity: number; amountMinor: number }[];
    /** Payments and credits already applied, so the copy explains why the open amount is below the total. */
    paidMinor: number;
    creditedMinor: number;
  };
}

const paragraph = { fontSize: '15px', lineHeight: '22px', margin: '0 0 12px' };
const button = { backgroundColor: '#1f4fd1', color: '#ffffff', padding: '10px 18px', borderRadius: '4px' };

export function invoiceCopySubject(props: InvoiceCopyProps): string {
  return `Copy of invoice ${props.invoice.number} from ${props.sender.companyName}`;
}

export function InvoiceCopy(props: InvoiceCopyProps) {
  const { invoice, locale } = props;
  const money = (minor: number) => formatMoney(minor, invoice.currency, locale);
  return (
    <EmailLayout
      base={props}
      preview={`Invoice ${invoice.number}: ${money(invoice.openMinor)} open, due ${formatDate(invoice.dueDate, locale)}.`}
      title={`Invoice ${invoice.number}`}
    >
      <Text style={paragraph}>{greet(props.debtor)}</Text>
      <Text style={paragraph}>As requested, here is a copy of invoice {invoice.number}.</Text>
      <ul>
        {invoice.lines.map((l) => (
          <li key={l.description}>
            {l.quantity} × {l.description}: {money(l.amountMinor)}
          </li>
        ))}
      </ul>
      <Text style={paragraph}>
        Invoice total {money(invoice.totalMinor)}
        {invoice.paidMinor > 0 ? `, paid ${money(invoice.paidMinor)}` : ''}
        {invoice.creditedMinor > 0 ? `, credited ${money(invoice.creditedMinor)}` : ''}; open{' '}
        {money(invoice.openMinor)}.
      </Text>
      <InvoiceTable
        invoices={[invoice]}
        locale={locale}
        asOf={localIsoDate(props.generatedAt, props.timezone)}
        showPayLinks={false}
      />
      {invoice.payLink && invoice.openMinor > 0 ? (
        <Section>
          <Button href={invoice.payLink} style={button}>
            Pay invoice {invoice.number}
          </Button>
        </Section>
      ) : null}
    </EmailLayout>
  );
}

/** The plain-text part of InvoiceCopy (emails/plain-text.ts): the same blocks in the same order. */
export function invoiceCopyText(props: InvoiceCopyProps): string {
  const { invoice, locale } = props;
  const money = (minor: number) => formatMoney(minor, invoice.currency, locale);
  return emailLayoutText(props, `Invoice ${invoice.number}`, (t) => {
    t.p(greet(props.debtor));
    t.p(`As requested, here is a copy of invoice ${invoice.number}.`);
    t.ul(invoice.lines.map((l) => `${l.quantity} × ${l.description}: ${money(l.amountMinor)}`));
    t.p(
      `Invoice total ${money(invoice.totalMinor)}` +
        (invoice.paidMinor > 0 ? `, paid ${money(invoice.paidMinor)}` : '') +
        (invoice.creditedMinor > 0 ? `, credited ${money(invoice.creditedMinor)}` : '') +
        `; open ${money(invoice.openMinor)}.`,
    );
    invoiceTableText(t, {
      invoices: [invoice],
      locale,
      asOf: localIsoDate(props.generatedAt, props.timezone),
      showPayLinks: false,
    });
    if (invoice.payLink && invoice.openMinor > 0) {
      t.section(() => t.link(invoice.payLink, `Pay invoice ${invoice.number}`));
    }
  });
}

InvoiceCopy.PreviewProps = {
  locale: 'en-GB',
  timezone: 'Europe/London',
  generatedAt: '2026-11-27T10:00:00Z',
  sender: {
    companyName: 'Thames Tools Ltd',
    replyTo: 'accounts@thames.example',
    address: ['4 River Row', 'London SE1 9PX'],
  },
  debtor: { name: 'Brixton Builders', customerSince: '2021-02-01' },
  invoice: {
    number: 'TT-311',
    issueDate: '2026-11-01',
    dueDate: '2026-12-01',
    currency: 'GBP',
    totalMinor: 98000,
    openMinor: 58000,
    payLink: 'https://pay.example/inv/TT-311',
    lines: [
      { description: 'Cordless drill', quantity: 2, amountMinor: 38000 },
      { description: 'Installation', quantity: 1, amountMinor: 60000 },
    ],
    paidMinor: 30000,
    creditedMinor: 10000,
  },
  unsubscribeUrl: 'https://app.duely.example/u/ghi789',
} satisfies InvoiceCopyProps;

export default InvoiceCopy;
