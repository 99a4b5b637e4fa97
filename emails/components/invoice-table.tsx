import { Link } from '@react-email/components';
import type { InvoiceLine, IsoDate } from '../email-props';
import { daysPastDue, formatDate, formatMoney, totalsByCurrency } from '../locale-format';
import type { Cell, PlainText } from '../plain-text';

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
            <td style={{ ...td, fontWeight: 'bold' }}>Total open</td>
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

/** The plain-text part of InvoiceTable (emails/plain-text.ts): the same rows and cells. */
export function invoiceTableText(t: PlainText, props: InvoiceTableProps): void {
  const { invoices, locale, asOf } = props;
  const { showOverdue, showPayLinks, showPdfLinks, showTotal } = columns(props);
  const header = ['Invoice', 'Issued', 'Due'];
  if (showOverdue) header.push('Days overdue');
  if (showTotal) header.push('Amount');
  header.push('Open amount');
  if (showPayLinks) header.push('Pay');
  if (showPdfLinks) header.push('Invoice PDF');
  const rows: Cell[][] = [];
  for (const inv of invoices) {
    const row: Cell[] = [inv.number, formatDate(inv.issueDate, locale), formatDate(inv.dueDate, locale)];
    if (showOverdue) {
      const overdue = daysPastDue(inv.dueDate, asOf);
      row.push(overdue > 0 ? String(overdue) : '–');
    }
    if (showTotal) row.push(formatMoney(inv.totalMinor, inv.currency, locale));
    row.push(formatMoney(inv.openMinor, inv.currency, locale));
    if (showPayLinks) row.push(inv.payLink ? { text: `Pay ${inv.number}`, href: inv.payLink } : '');
    if (showPdfLinks) row.push(inv.pdfLink ? { text: `PDF ${inv.number}`, href: inv.pdfLink } : '');
    rows.push(row);
  }
  for (const total of totalsByCurrency(invoices)) {
    const row: Cell[] = ['Total open', '', ''];
    if (showOverdue) row.push('');
    if (showTotal) row.push('');
    row.push(formatMoney(total.openMinor, total.currency, locale));
    if (showPayLinks) row.push('');
    if (showPdfLinks) row.push('');
    rows.push(row);
  }
  t.table(header, rows);
}

export function hasPdfLinks(invoices: readonly InvoiceLine[]): boolean {
  return invoices.some((i) => i.pdfLink);
}

/** Said only when the table links the invoices' PDFs (the copy mentions only links that exist). */
export function pdfLinksNote(invoices: readonly InvoiceLine[]): string | null {
  if (!hasPdfLinks(invoices)) return null;
  if (invoices.length === 1) return 'A copy of the invoice (PDF) is linked in the table.';
  return invoices.every((i) => i.pdfLink)
    ? 'A copy of each invoice (PDF) is linked in the table.'
    : 'Where the table links a PDF, you can download a copy of that invoice.';
}
