import { Hr, Link, Text } from '@react-email/components';
import type { SenderIdentity } from '../email-props';
import type { PlainText } from '../plain-text';

const small = { fontSize: '12px', color: '#6b7280', lineHeight: '18px', margin: '4px 0' };

/** Sender identity and the unsubscribe link: commercial email must say who sent it and how to stop it. */
export function EmailFooter({ sender, unsubscribeUrl }: { sender: SenderIdentity; unsubscribeUrl: string }) {
  return (
    <>
      <Hr />
      <Text style={small}>
        {sender.companyName}
        {sender.address.map((line) => (
          <span key={line}>
            <br />
            {line}
          </span>
        ))}
      </Text>
      <Text style={small}>
        {sender.replyTo ? (
          <>
            Questions? Reply to this email or write to{' '}
            <Link href={`mailto:${sender.replyTo}`}>{sender.replyTo}</Link>
          </>
        ) : (
          'Questions? Reply to this email'
        )}
        {sender.phone ? ` or call ${sender.phone}` : ''}.
      </Text>
      <Text style={small}>
        <Link href={unsubscribeUrl}>Unsubscribe from payment reminders</Link>
      </Text>
    </>
  );
}

/** The plain-text part of EmailFooter (emails/plain-text.ts). */
export function emailFooterText(t: PlainText, sender: SenderIdentity, unsubscribeUrl: string): void {
  t.hr();
  t.open(2).text(sender.companyName);
  for (const line of sender.address) t.br().text(line);
  t.close(2);
  const phone = sender.phone ? ` or call ${sender.phone}` : '';
  t.open(2);
  if (sender.replyTo) {
    t.text('Questions? Reply to this email or write to ')
      .link(`mailto:${sender.replyTo}`, sender.replyTo)
      .text(`${phone}.`);
  } else {
    t.text(`Questions? Reply to this email${phone}.`);
  }
  t.close(2);
  t.open(2).link(unsubscribeUrl, 'Unsubscribe from payment reminders').close(2);
}
