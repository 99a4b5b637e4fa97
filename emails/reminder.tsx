import { Button, Section, Text } from '@react-email/components';
import { EmailLayout, emailLayoutText } from './components/email-layout';
import { hasPdfLinks, InvoiceTable, invoiceTableText, pdfLinksNote } from './components/invoice-table';
import { hasPaymentDetails, PaymentDetails, paymentDetailsText } from './components/payment-details';
import {
  type BaseEmailProps,
  greetingName,
  type HeldLine,
  type InvoiceLine,
  type IsoDate,
} from './email-props';
import { creditNote, daysPastDue, formatTotals, heldNotes, localIsoDate } from './locale-format';
import { fillMergeFields, type MergeField } from './merge-fields';
import { groupInvoices, reminderCopy, type Tone } from './reminder-copy';

/** Bumped whenever copy or layout changes: the audit log records which words a debtor actually received. */
export const REMINDER_VERSION = 'reminder@6';

/** The greeting paragraph carries this attribute: a reviewer's introduction is inserted after it. */
export const GREETING_ATTR = 'data-greeting';

export interface ReminderProps extends BaseEmailProps {
  tone: Tone;
  invoices: InvoiceLine[];
  statementUrl?: string;
  /** Deadline quoted by the final notice; defaults to "within 7 days". */
  respondBy?: IsoDate;
  /** Reminders already sent for these invoices (0 when unknown). */
  previousReminders?: number;
  /** The step's own wording with merge fields; parts left out keep the built-in copy. */
  customCopy?: { subject?: string; body?: string };
  /** Unapplied payments and open credit memos on the debtor's account, per currency (the planner's snapshot). */
  credits?: { currency: string; creditMinor: number }[];
  /** Open invoices on hold (disputed, paused, promised): named under the table, not listed nor totalled. */
  held?: HeldLine[];
}

const paragraph = { fontSize: '15px', lineHeight: '22px', margin: '0 0 12px' };
const groupHeading = { fontSize: '15px', fontWeight: 'bold', margin: '16px 0 0' };
const button = { backgroundColor: '#1f4fd1', color: '#ffffff', padding: '10px 18px', borderRadius: '4px' };

export function reminderSubject(props: ReminderProps): string {
  return copyFor(props).subject;
}

/** The merge-field values of this email (emails/merge-fields.ts). */
export function mergeValues(props: ReminderProps): Record<MergeField, string> {
  const asOf = asOfDate(props);
  const g = groupInvoices(props.invoices, asOf);
  const oldest = Math.max(0, ...props.invoices.map((i) => daysPastDue(i.dueDate, asOf)));
  return {
    customer: props.debtor.name,
    contact: props.debtor.contactName ?? props.debtor.name,
    invoice_list: props.invoices.map((i) => i.number).join(', '),
    total: formatTotals(props.invoices, props.locale),
    overdue_total:
      g.overdue.length > 0 ? formatTotals(g.overdue, props.locale) : formatTotals([], props.locale),
    days_overdue: String(oldest),
    pay_link: props.invoices.find((i) => i.payLink)?.payLink ?? props.paymentDetails?.url ?? '',
    sender: props.sender.companyName,
  };
}

/** What the HTML and the text part of a reminder are both built from. */
function reminderView(props: ReminderProps) {
  const asOf = asOfDate(props);
  const g = groupInvoices(props.invoices, asOf);
  return {
    copy: copyFor(props),
    asOf,
    g,
    notOverdue: [...g.dueToday, ...g.upcoming],
    showPayLinks: props.invoices.some((i) => i.payLink),
    showPdfLinks: hasPdfLinks(props.invoices),
    pdfNote: pdfLinksNote(props.invoices),
    credit: creditNote(props),
    held: heldNotes(props),
  };
}

export function Reminder(props: ReminderProps) {
  const { copy, asOf, g, notOverdue, showPayLinks, showPdfLinks, pdfNote, credit, held } =
    reminderView(props);
  return (
    <EmailLayout base={props} preview={copy.preview} title={copy.title}>
      <Text style={paragraph} {...{ [GREETING_ATTR]: '' }}>
        {copy.greeting}
      </Text>
      {copy.paragraphs.map((p) => (
        <Text key={p} style={paragraph}>
          {p}
        </Text>
      ))}
      <Text style={paragraph}>{copy.cta}</Text>
      {credit ? <Text style={paragraph}>{credit}</Text> : null}
      {g.overdue.length > 0 && notOverdue.length > 0 ? (
        <>
          <Text style={groupHeading}>Overdue</Text>
          <InvoiceTable
            invoices={g.overdue}
            locale={props.locale}
            asOf={asOf}
            showPayLinks={showPayLinks}
            showPdfLinks={showPdfLinks}
            totalLabel="Total overdue"
          />
          <Text style={groupHeading}>Not yet overdue (for your planning)</Text>
          <InvoiceTable
            invoices={notOverdue}
            locale={props.locale}
            asOf={asOf}
            showOverdue={false}
            showPayLinks={showPayLinks}
            showPdfLinks={showPdfLinks}
            totalLabel="Total not yet overdue"
          />
        </>
      ) : (
        <InvoiceTable
          invoices={props.invoices}
          locale={props.locale}
          asOf={asOf}
          showOverdue={g.overdue.length > 0}
        />
      )}
      {held.map((h) => (
        <Text key={h} style={paragraph} data-held="">
          {h}
        </Text>
      ))}
      {pdfNote ? <Text style={paragraph}>{pdfNote}</Text> : null}
      <PaymentDetails payment={props.paymentDetails} />
      {props.statementUrl ? (
        <Section>
          <Button href={props.statementUrl} style={button}>
            View your statement
          </Button>
        </Section>
      ) : null}
    </EmailLayout>
  );
}

/** The plain-text part of Reminder (emails/plain-text.ts): the same blocks in the same order. */
export function reminderText(props: ReminderProps): string {
  const { copy, asOf, g, notOverdue, showPayLinks, showPdfLinks, pdfNote, credit, held } =
    reminderView(props);
  const { locale } = props;
  return emailLayoutText(props, copy.title, (t) => {
    t.p(copy.greeting);
    for (const p of copy.paragraphs) t.p(p);
    t.p(copy.cta);
    if (credit) t.p(credit);
    if (g.overdue.length > 0 && notOverdue.length > 0) {
      t.p('Overdue');
      invoiceTableText(t, {
        invoices: g.overdue,
        locale,
        asOf,
        showPayLinks,
        showPdfLinks,
        totalLabel: 'Total overdue',
      });
      t.p('Not yet overdue (for your planning)');
      invoiceTableText(t, {
        invoices: notOverdue,
        locale,
        asOf,
        showOverdue: false,
        showPayLinks,
        showPdfLinks,
        totalLabel: 'Total not yet overdue',
      });
    } else {
      invoiceTableText(t, { invoices: props.invoices, locale, asOf, showOverdue: g.overdue.length > 0 });
    }
    for (const h of held) t.p(h);
    if (pdfNote) t.p(pdfNote);
    paymentDetailsText(t, props.paymentDetails);
    if (props.statementUrl) t.section(() => t.link(props.statementUrl, 'View your statement'));
  });
}

function copyFor(props: ReminderProps) {
  const copy = builtInCopy(props);
  const custom = props.customCopy;
  if (!custom?.subject && !custom?.body) return copy;
  const values = mergeValues(props);
  return {
    ...copy,
    subject: custom.subject ? fillMergeFields(custom.subject, values) : copy.subject,
    paragraphs: custom.body
      ? custom.body
          .split(/\n\s*\n/)
          .map((p) => fillMergeFields(p.trim(), values))
          .filter(Boolean)
      : copy.paragraphs,
  };
}

function builtInCopy(props: ReminderProps) {
  return reminderCopy(props.tone, {
    companyName: props.sender.companyName,
    greetingName: greetingName(props.debtor),
    invoices: props.invoices,
    locale: props.locale,
    asOf: asOfDate(props),
    customerSince: props.debtor.customerSince,
    reliablePayer: props.debtor.reliablePayer ?? false,
    respondBy: props.respondBy,
    previousReminders: props.previousReminders ?? 0,
    hasPayLinks: props.invoices.some((i) => i.payLink),
    hasPaymentDetails: hasPaymentDetails(props.paymentDetails),
  });
}

function asOfDate(props: BaseEmailProps): IsoDate {
  return localIsoDate(props.generatedAt, props.timezone);
}

Reminder.PreviewProps = {
  tone: 'neutral',
  locale: 'de-DE',
  timezone: 'Europe/Berlin',
  generatedAt: '2026-11-27T09:00:00Z',
  sender: {
    companyName: 'Nordlicht Software GmbH',
    replyTo: 'buchhaltung@nordlicht.example',
    address: ['Hafenstraße 12', '20457 Hamburg', 'Germany'],
  },
  debtor: {
    name: 'Bergmann & Söhne KG',
    contactName: 'Frau Bergmann',
    customerSince: '2019-04-01',
    reliablePayer: true,
  },
  invoices: [
    {
      number: '1042',
      issueDate: '2026-10-15',
      dueDate: '2026-11-13',
      currency: 'EUR',
      totalMinor: 150000,
      openMinor: 123450,
      payLink: 'https://pay.example/inv/1042',
    },
    {
      number: '1057',
      issueDate: '2026-10-30',
      dueDate: '2026-11-20',
      currency: 'EUR',
      totalMinor: 48000,
      openMinor: 48000,
      payLink: 'https://pay.example/inv/1057',
    },
  ],
  statementUrl: 'https://pay.example/statement/bergmann',
  previousReminders: 1,
  unsubscribeUrl: 'https://app.duely.example/u/abc123',
} satisfies ReminderProps;

export default Reminder;
