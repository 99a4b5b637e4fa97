import { Link, Section, Text } from '@react-email/components';
import type { PaymentDetails as Details } from '../email-props';
import type { PlainText } from '../plain-text';

const heading = { fontSize: '15px', fontWeight: 'bold', margin: '16px 0 4px' };
const paragraph = {
  fontSize: '14px',
  lineHeight: '20px',
  margin: '0 0 8px',
  whiteSpace: 'pre-line' as const,
};

/** "How to pay": the tenant's payment page and/or bank details; nothing when neither is configured. */
export function PaymentDetails({ payment }: { payment?: Details }) {
  if (!payment?.url && !payment?.instructions) return null;
  return (
    <Section>
      <Text style={heading}>How to pay</Text>
      {payment.url ? (
        <Text style={paragraph}>
          Pay online: <Link href={payment.url}>{payment.url}</Link>
        </Text>
      ) : null}
      {payment.instructions ? <Text style={paragraph}>{payment.instructions}</Text> : null}
    </Section>
  );
}

/** The plain-text part of PaymentDetails (emails/plain-text.ts). */
export function paymentDetailsText(t: PlainText, payment?: Details): void {
  if (!payment?.url && !payment?.instructions) return;
  t.section(() => {
    t.p('How to pay');
    if (payment.url) t.open(2).text('Pay online: ').link(payment.url, payment.url).close(2);
    if (payment.instructions) t.p(payment.instructions);
  });
}

export function hasPaymentDetails(payment?: Details): boolean {
  return Boolean(payment?.url || payment?.instructions);
}
