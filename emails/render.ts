import { plainTextSelectors, render, toPlainText } from '@react-email/render';
import { createElement, type FunctionComponent } from 'react';
import { DATA_TABLE_CLASS } from './components/invoice-table';
import { INVOICE_COPY_VERSION, InvoiceCopy, type InvoiceCopyProps, invoiceCopySubject } from './invoice-copy';
import {
  PAYMENT_RECEIPT_VERSION,
  PaymentReceipt,
  type PaymentReceiptProps,
  paymentReceiptSubject,
} from './payment-receipt';
import { REMINDER_VERSION, Reminder, type ReminderProps, reminderSubject } from './reminder';
import { STATEMENT_VERSION, Statement, type StatementProps, statementSubject } from './statement';

export interface EmailPropsByKind {
  reminder: ReminderProps;
  payment_receipt: PaymentReceiptProps;
  invoice_copy: InvoiceCopyProps;
  statement: StatementProps;
}
export type EmailKind = keyof EmailPropsByKind;

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** Recorded with every outbound message so the audit log can say exactly which copy was sent. */
  templateVersion: string;
}

interface TemplateEntry<P> {
  component: FunctionComponent<P>;
  subject: (props: P) => string;
  version: string;
}

const TEMPLATES: { [K in EmailKind]: TemplateEntry<EmailPropsByKind[K]> } = {
  reminder: { component: Reminder, subject: reminderSubject, version: REMINDER_VERSION },
  payment_receipt: {
    component: PaymentReceipt,
    subject: paymentReceiptSubject,
    version: PAYMENT_RECEIPT_VERSION,
  },
  invoice_copy: { component: InvoiceCopy, subject: invoiceCopySubject, version: INVOICE_COPY_VERSION },
  statement: { component: Statement, subject: statementSubject, version: STATEMENT_VERSION },
};

export const TEMPLATE_VERSIONS: { readonly [K in EmailKind]: string } = {
  reminder: REMINDER_VERSION,
  payment_receipt: PAYMENT_RECEIPT_VERSION,
  invoice_copy: INVOICE_COPY_VERSION,
  statement: STATEMENT_VERSION,
};

// html-to-text's default puts every table cell on its own line; 'dataTable' keeps the invoice rows as aligned
// columns. Only the invoice table gets it: React Email's layout tables would otherwise become one giant cell.
const TEXT_SELECTORS = [
  ...plainTextSelectors,
  { selector: `table.${DATA_TABLE_CLASS}`, format: 'dataTable' },
];

export async function renderEmail<K extends EmailKind>(
  kind: K,
  props: EmailPropsByKind[K],
): Promise<RenderedEmail> {
  const entry = TEMPLATES[kind] as TemplateEntry<EmailPropsByKind[K]>;
  // render() is async in @react-email/render 2.x.
  const html = await render(createElement(entry.component, props));
  return {
    subject: entry.subject(props),
    html,
    text: toPlainText(html, { selectors: TEXT_SELECTORS, wordwrap: 100 }),
    templateVersion: entry.version,
  };
}
