import { plainTextSelectors } from '@react-email/render';
import { compile } from 'html-to-text';
import { createElement, type FunctionComponent } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
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

/**
 * The plain-text part: exactly what @react-email/render's toPlainText(html, { selectors: TEXT_SELECTORS,
 * wordwrap: 100 }) returns, 5–6× faster (issue 18): html-to-text's options are compiled once instead of on every
 * call (toPlainText prepends plainTextSelectors to the given ones; a later selector replaces an earlier one with
 * the same text, so the deduplicated list is the same), and what html-to-text never reads is not parsed: the
 * document's <head> (it converts <body> only) and inline style attributes (half the body's bytes; React escapes
 * quotes in attribute values, so a style value never contains a double quote).
 */
const compiledText = compile({
  wordwrap: 100,
  selectors: [...new Map([...plainTextSelectors, ...TEXT_SELECTORS].map((s) => [s.selector, s])).values()],
});
function toText(html: string): string {
  const head = html.indexOf('<head>');
  const headEnd = head < 0 ? -1 : html.indexOf('</head>', head);
  const body = headEnd < 0 ? html : html.slice(0, head) + html.slice(headEnd + '</head>'.length);
  return compiledText(body.replace(/ style="[^"]*"/g, '').replace(PREVIEW_BLOCK, ''));
}

/**
 * React Email's <Preview> as rendered once style attributes are gone: the preview line and ~700 invisible padding
 * characters, a third of the text to parse, in a block html-to-text skips anyway (plainTextSelectors'
 * `[data-skip-in-text=true]`). React escapes `<` in text, so `[^<]*` spans exactly the texts; any other shape is
 * left in place and skipped by html-to-text as before.
 */
const PREVIEW_BLOCK = /<div data-skip-in-text="true">[^<]*<div>[^<]*<\/div><\/div>/;

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
    subject: entry.subject(props),
    html,
    text: toText(html),
    templateVersion: entry.version,
  };
}
