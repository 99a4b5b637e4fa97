import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import {
  INVOICE_COPY_VERSION,
  InvoiceCopy,
  type InvoiceCopyProps,
  invoiceCopySubject,
  invoiceCopyText,
} from './invoice-copy';
import {
  PAYMENT_RECEIPT_VERSION,
  PaymentReceipt,
  type PaymentReceiptProps,
  paymentReceiptSubject,
  paymentReceiptText,
} from './payment-receipt';
import { REMINDER_VERSION, Reminder, type ReminderProps, reminderSubject, reminderText } from './reminder';
import {
  STATEMENT_VERSION,
  Statement,
  type StatementProps,
  statementSubject,
  statementText,
} from './statement';

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
  /**
   * The plain-text part, built from the props (emails/plain-text.ts): byte for byte what html-to-text made of
   * the HTML (emails/html-text-reference.ts, which tests/emails/plain-text.test.ts compares it with), without
   * parsing 6 KiB of HTML per email (issue 18).
   */
  text: (props: P) => string;
  version: string;
}

const TEMPLATES: { [K in EmailKind]: TemplateEntry<EmailPropsByKind[K]> } = {
  reminder: { component: Reminder, subject: reminderSubject, text: reminderText, version: REMINDER_VERSION },
  payment_receipt: {
    component: PaymentReceipt,
    subject: paymentReceiptSubject,
    text: paymentReceiptText,
    version: PAYMENT_RECEIPT_VERSION,
  },
  invoice_copy: {
    component: InvoiceCopy,
    subject: invoiceCopySubject,
    text: invoiceCopyText,
    version: INVOICE_COPY_VERSION,
  },
  statement: {
    component: Statement,
    subject: statementSubject,
    text: statementText,
    version: STATEMENT_VERSION,
  },
};

export const TEMPLATE_VERSIONS: { readonly [K in EmailKind]: string } = {
  reminder: REMINDER_VERSION,
  payment_receipt: PAYMENT_RECEIPT_VERSION,
  invoice_copy: INVOICE_COPY_VERSION,
  statement: STATEMENT_VERSION,
};

const DOCTYPE =
  '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">';

/**
 * The email document, as @react-email/render's render() builds it (XHTML doctype, no image preload links) but
 * rendered with the synchronous renderToStaticMarkup instead of a stream: the same markup without React's
 * hydration comments (<!--$-->, <!-- -->, …), which no mail client reads, and several times faster (issue 18).
 * The templates never suspend, so there is nothing a streaming render would wait for.
 */
export function renderHtml(element: ReturnType<typeof createElement>): string {
  let html = renderToStaticMarkup(element);
  if (html.includes('<link')) {
    html = html.replace(/<link\b[^>]*\/?>/gi, (tag) =>
      /\brel=["']?preload\b/i.test(tag) && /\bas=["']?image\b/i.test(tag) ? '' : tag,
    );
  }
  return `${DOCTYPE}${html.startsWith('<!DOCTYPE') ? html.replace(/^<!DOCTYPE[^>]*>/, '') : html}`;
}

/** The React element of an email: what renderEmail renders (bench/render.ts renders it as a reference). */
export function emailElement<K extends EmailKind>(kind: K, props: EmailPropsByKind[K]) {
  const entry = TEMPLATES[kind] as TemplateEntry<EmailPropsByKind[K]>;
  return createElement(entry.component, props);
}

export async function renderEmail<K extends EmailKind>(
  kind: K,
  props: EmailPropsByKind[K],
): Promise<RenderedEmail> {
  const entry = TEMPLATES[kind] as TemplateEntry<EmailPropsByKind[K]>;
  const html = renderHtml(createElement(entry.component, props));
  return {
    subject: oneLine(withoutDirectionControls(entry.subject(props))),
    html: withoutDirectionControls(html),
    text: withoutDirectionControls(entry.text(props)),
    templateVersion: entry.version,
  };
}

/**
 * Unicode direction embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069). Names from the ledger
 * carrying them reversed the text after them ("Acme\u202Egnp.exe" reads "Acmeexe.png"); the templates never use
 * them, and Hebrew or Arabic text needs none (the letters carry their direction).
 */
const DIRECTION_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

function withoutDirectionControls(s: string): string {
  return s.replace(DIRECTION_CONTROLS, '');
}

/**
 * The subject as one header line: a line break or other control character from a name (`{{customer}}` in a step's
 * own wording) becomes a space; the last header check before sending would otherwise refuse the whole message.
 */
function oneLine(s: string): string {
  return s.replace(/\s*[\p{Cc}\u2028\u2029]+\s*/gu, ' ').trim();
}
