import { Text } from '@react-email/components';
import { EmailLayout, emailLayoutText } from './components/email-layout';
import { InvoiceTable, invoiceTableText } from './components/invoice-table';
import { type BaseEmailProps, greet, type InvoiceLine, type IsoDate } from './email-props';
import { formatDate, formatMoney, localIsoDate } from './locale-format';

export const PAYMENT_RECEIPT_VERSION = 'payment-receipt@2';

export interface PaymentReceiptProps extends BaseEmailProps {
  payment: { date: IsoDate; amountMinor: number; currency: string; reference?: string };
  /** How the payment was applied; invoices it fully settled have openMinor 0. */
  appliedTo: { number: string; appliedMinor: number; currency: string; openMinor: number }[];
  /** Invoices still open after this payment, so the debtor sees what (if anything) remains. */
  stillOpen: InvoiceLine[];
}

const paragraph = { fontSize: '15px', lineHeight: '22px', margin: '0 0 12px' };

export function paymentReceiptSubject(props: PaymentReceiptProps): string {
  const amount = formatMoney(props.payment.amountMinor, props.payment.currency, props.locale);
  return `Payment received: ${amount}, thank you`;
}

export function PaymentReceipt(props: PaymentReceiptProps) {
  const { payment, locale } = props;
  const amount = formatMoney(payment.amountMinor, payment.currency, locale);
  return (
    <EmailLayout
      base={props}
      preview={`We received your payment of ${amount}.`}
      title="Thank you for your payment"
    >
      <Text style={paragraph}>{greet(props.debtor)}</Text>
      <Text style={paragraph}>
        We received your payment of {amount} on {formatDate(payment.date, locale)}
        {payment.reference ? ` (reference ${payment.reference})` : ''}. Thank you!
      </Text>
      <ul>
        {props.appliedTo.map((a) => (
          <li key={a.number}>
            Invoice {a.number}: {formatMoney(a.appliedMinor, a.currency, locale)} applied,{' '}
            {a.openMinor === 0
              ? 'now paid in full'
              : `${formatMoney(a.openMinor, a.currency, locale)} still open`}
          </li>
        ))}
      </ul>
      {props.stillOpen.length > 0 ? (
        <>
          <Text style={paragraph}>For your records, these invoices remain open:</Text>
          <InvoiceTable
            invoices={props.stillOpen}
            locale={locale}
            asOf={localIsoDate(props.generatedAt, props.timezone)}
            // A thank-you is no place to count days overdue.
            showOverdue={false}
          />
        </>
      ) : (
        <Text style={paragraph}>Your account is fully paid up.</Text>
      )}
    </EmailLayout>
  );
}

/** The plain-text part of PaymentReceipt (emails/plain-text.ts): the same blocks in the same order. */
export function paymentReceiptText(props: PaymentReceiptProps): string {
  const { payment, locale } = props;
  const amount = formatMoney(payment.amountMinor, payment.currency, locale);
  return emailLayoutText(props, 'Thank you for your payment', (t) => {
    t.p(greet(props.debtor));
    t.p(
      `We received your payment of ${amount} on ${formatDate(payment.date, locale)}` +
        `${payment.reference ? ` (reference ${payment.reference})` : ''}. Thank you!`,
    );
    t.ul(
      props.appliedTo.map(
        (a) =>
          `Invoice ${a.number}: ${formatMoney(a.appliedMinor, a.currency, locale)} applied, ` +
          (a.openMinor === 0
            ? 'now paid in full'
            : `${formatMoney(a.openMinor, a.currency, locale)} still open`),
      ),
    );
    if (props.stillOpen.length > 0) {
      t.p('For your records, these invoices remain open:');
      invoiceTableText(t, {
        invoices: props.stillOpen,
        locale,
        asOf: localIsoDate(props.generatedAt, props.timezone),
        showOverdue: false,
      });
    } else {
      t.p('Your account is fully paid up.');
    }
  });
}

PaymentReceipt.PreviewProps = {
  locale: 'en-US',
  timezone: 'America/New_York',
  generatedAt: '2026-11-27T15:00:00Z',
  sender: {
    companyName: 'Acme Supplies Inc.',
    replyTo: 'ar@acme.example',
    address: ['1 Main St', 'Springfield, IL 62701'],
  },
  debtor: { name: 'Globex LLC', contactName: 'Hank' },
  payment: { date: '2026-11-26', amountMinor: 250000, currency: 'USD', reference: 'ACH 7781' },
  appliedTo: [
    { number: 'A-2001', appliedMinor: 150000, currency: 'USD', openMinor: 0 },
    { number: 'A-2007', appliedMinor: 100000, currency: 'USD', openMinor: 35050 },
  ],
  stillOpen: [
    {
      number: 'A-2007',
      issueDate: '2026-10-20',
      dueDate: '2026-11-19',
      currency: 'USD',
      totalMinor: 135050,
      openMinor: 35050,
      payLink: 'https://pay.example/inv/A-2007',
    },
  ],
  unsubscribeUrl: 'https://app.duely.example/u/def456',
} satisfies PaymentReceiptProps;

export default PaymentReceipt;
