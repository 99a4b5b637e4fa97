import { Link } from '@react-email/components';
import type { InvoiceLine, IsoDate } from '../email-props';
import { daysPastDue, formatDate, formatMoney, totalsByCurrency } from '../locale-format';
import { type PlainText, shownHref } from '../plain-text';

/** The class the plain-text conversion targets with html-to-text's 'dataTable' format (aligned columns). */
export const DATA_TABLE_CLASS = 'dataTable';

const table = { width: '100%', borderCollapse: 'collapse' as const, fontSize: '14px', margin: '16px 0' };
const th = { textAlign: 'left' as const, borderBottom: '1px solid #d2d6dc', padding: '6px 4px' };
const td = { borderBottom: '1px solid #eef0f3', padding: '6px 4px' };
const num = { ...td, textAlign: 'right' as const, whiteSpace: 'nowrap' as const };

export interface InvoiceTableProps {
  invoices: readonly InvoiceLine[];
  locale: string;
  asOf: IsoDate;
  /** Receipts and invoice copies have no "overdue" column. */
  showOverdue?: boolean;
  showPayLinks?: boolean;
  showPdfLinks?: boolean;
  /** The total row's label: "Total open", or a group's ("Total overdue") where an email has two tables. */
  totalLabel?: string;
}

/** Which optional columns the table has (the HTML table and its plain-text version). */
function columns(props: InvoiceTableProps) {
  const { invoices } = props;
  return {
    showOverdue: props.showOverdue ?? true,
    showPayLinks: props.showPayLinks ?? invoices.some((i) => i.payLink),
    showPdfLinks: props.showPdfLinks ?? hasPdfLinks(invoices),
    // The original amount only adds information when a partial payment or credit made it differ from the open one.
    showTotal: invoices.some((i) => i.openMinor !== i.totalMinor),
  };
}

export function InvoiceTable(props: InvoiceTableProps) {
  const { invoices, locale, asOf } = props;
  const { showOverdue, showPayLinks, showPdfLinks, showTotal } = columns(props);
  return (
    <table className={DATA_TABLE_CLASS} style={table} cellPadding={0} cellSpacing={0}>
      <thead>
        <tr>
          <th style={th}>Invoice</th>
          <th style={th}>Issued</th>
          <th style={th}>Due</th>
          {showOverdue ? <th style={th}>Days overdue</th> : null}
          {showTotal ? <th style={{ ...th, textAlign: 'right' }}>Amount</th> : null}
          <th style={{ ...th, textAlign: 'right' }}>Open amount</th>
          {showPayLinks ? <th style={th}>Pay</th> : null}
          {showPdfLinks ? <th style={th}>Invoice PDF</th> : null}
        </tr>
      </thead>
      <tbody>
        {invoices.map((inv) => {
          const overdue = daysPastDue(inv.dueDate, asOf);
          return (
            <tr key={inv.number}>
              <td style={td} data-label="Invoice">
                {inv.number}
              </td>
              <td style={td} data-label="Issued">
                {formatDate(inv.issueDate, locale)}
              </td>
              <td style={td} data-label="Due">
                {formatDate(inv.dueDate, locale)}
              </td>
              {showOverdue ? (
                <td style={td} data-label="Days overdue">
                  {overdue > 0 ? String(overdue) : '–'}
                </td>
              ) : null}
              {showTotal ? (
                <td style={num} data-label="Amount">
                  {formatMoney(inv.totalMinor, inv.currency, locale)}
                </td>
              ) : null}
              <td style={num} data-label="Open amount">
                {formatMoney(inv.openMinor, inv.currency, locale)}
              </td>
              {showPayLinks ? (
                <td style={td}>{inv.payLink ? <Link href={inv.payLink}>Pay {inv.number}</Link> : ''}</td>
              ) : null}
              {showPdfLinks ? (
                <td style={td} data-label="Invoice PDF">
                  {inv.pdfLink ? <Link href={inv.pdfLink}>PDF {inv.number}</Link> : ''}
                </td>
              ) : null}
            </tr>
          );
        })}
        {totalsByCurrency(invoices).map((t) => (
          <tr key={`total-${t.currency}`}>
            <td style={{ ...td, fontWeight: 'bold' }}>{props.totalLabel ?? 'Total open'}</td>
            <td style={td} />
            <td style={td} />
            {showOverdue ? <td style={td} /> : null}
            {showTotal ? <td style={td} /> : null}
            <td style={{ ...num, fontWeight: 'bold' }}>{formatMoney(t.openMinor, t.currency, locale)}</td>
            {showPayLinks ? <td style={td} /> : null}
            {showPdfLinks ? <td style={td} /> : null}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The plain-text part of InvoiceTable (emails/plain-text.ts): every cell of the table, one block per invoice so
 * the lines fit a text mail client (78 characters; a URL on its own line), then the totals:
 *
 *   Invoice 1042: 1.234,50 € open of 1.500,00 €
 *   Issued 01.10.2026; due 31.10.2026; 27 days overdue
 *   Pay: https://pay.example/1042
 *   PDF: https://host.example/1042.pdf
 *
 * "of <amount>" only when the table has the Amount column and it differs from the open amount, "N days overdue"
 * only in its Days overdue column and when the invoice is overdue (the table's "–"). emails/html-text-reference.ts reads the same from the HTML table.
 */
export function invoiceTableText(t: PlainText, props: InvoiceTableProps): void {
  const { invoices, locale, asOf } = props;
  const { showOverdue, showPayLinks, showPdfLinks, showTotal } = columns(props);
  for (const inv of invoices) {
    t.open(2);
    const open = formatMoney(inv.openMinor, inv.currency, locale);
    t.text(`Invoice ${inv.number}: ${open} open`);
    // The original amount, when the table shows it and it differs (a partial payment, a credit).
    const total = formatMoney(inv.totalMinor, inv.currency, locale);
    if (showTotal && total !== open) t.text(` of ${total}`);
    t.br();
    t.text(`Issued ${formatDate(inv.issueDate, locale)}; due ${formatDate(inv.dueDate, locale)}`);
    const overdue = showOverdue ? daysPastDue(inv.dueDate, asOf) : 0;
    if (overdue > 0) t.text(`; ${overdueText(overdue)}`);
    if (showPayLinks) lineOfLink(t, 'Pay:', inv.payLink);
    if (showPdfLinks) lineOfLink(t, 'PDF:', inv.pdfLink);
    t.close(2);
  }
  const totals = totalsByCurrency(invoices);
  if (totals.length === 0) return;
  t.open(2);
  totals.forEach((total, i) => {
    if (i > 0) t.br();
    t.text(`${props.totalLabel ?? 'Total open'}: ${formatMoney(total.openMinor, total.currency, locale)}`);
  });
  t.close(2);
}

/** "1 day overdue", "27 days overdue". */
function overdueText(days: number): string {
  return `${days} ${days === 1 ? 'day' : 'days'} overdue`;
}

function lineOfLink(t: PlainText, label: string, href: string | undefined): void {
  if (!shownHref(href)) return;
  t.br();
  t.linkLine(label, href);
}

export function hasPdfLinks(invoices: readonly InvoiceLine[]): boolean {
  return invoices.some((i) => i.pdfLink);
}

/**
 * Said only when the invoices' PDFs are linked (the copy mentions only links that exist). "Above", not "in the table":
 * the HTML lists the invoices in a table, the text part as blocks with PDF: lines, and the sentence is in both.
 */
export function pdfLinksNote(invoices: readonly InvoiceLine[]): string | null {
  if (!hasPdfLinks(invoices)) return null;
  if (invoices.length === 1) return 'A copy of the invoice (PDF) is linked above.';
  return invoices.every((i) => i.pdfLink)
    ? 'A copy of each invoice (PDF) is linked above.'
    : 'Where an invoice above links a PDF, you can download a copy of it.';
}
