/**
 * The invoice table. Risk and predicted-date columns appear only when the rows carry them (the risk model has
 * scored the tenant); otherwise the table does not pretend.
 */
import { formatDate, formatMoney } from '../lib/format';
import type { InvoiceRow } from '../lib/types';
import { Badge, Link } from './ui';

export function hasRisk(rows: InvoiceRow[]): boolean {
  return rows.some((r) => r.riskBand != null || r.predictedPayDate != null);
}

/** The debtor's pay link of an open invoice (only an https link from the ledger is offered). */
export function payLinkOf(r: InvoiceRow): string | null {
  return r.status === 'open' && r.balanceMinor > 0 && r.payLink && /^https:\/\//.test(r.payLink)
    ? r.payLink
    : null;
}

export function InvoiceTable({
  rows,
  caption,
  showCustomer = true,
}: {
  rows: InvoiceRow[];
  caption: string;
  showCustomer?: boolean;
}) {
  const risk = hasRisk(rows);
  const pay = rows.some((r) => payLinkOf(r) !== null);
  return (
    <div className="table-wrap">
      <table className="table">
        <caption className="sr-only">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Invoice</th>
            {showCustomer ? <th scope="col">Customer</th> : null}
            <th scope="col">Issued</th>
            <th scope="col">Due</th>
            <th scope="col" className="num">
              Balance
            </th>
            <th scope="col">Status</th>
            <th scope="col" className="num">
              Days overdue
            </th>
            {risk ? <th scope="col">Risk</th> : null}
            {risk ? <th scope="col">Predicted payment</th> : null}
            {pay ? <th scope="col">Pay link</th> : null}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <th scope="row" className="mono">
                {r.number ?? r.externalId}
              </th>
              {showCustomer ? (
                <td>
                  <Link href={`/customers/${encodeURIComponent(r.customerId)}`}>
                    {r.customerName ?? r.customerExternalId ?? 'Customer'}
                  </Link>
                </td>
              ) : null}
              <td>{formatDate(r.issueDate)}</td>
              <td>{formatDate(r.dueDate)}</td>
              <td className="num">{formatMoney(r.balanceMinor, r.currency)}</td>
              <td>
                {r.daysOverdue > 0 ? <Badge value="overdue" label="overdue" /> : <Badge value={r.status} />}
              </td>
              <td className="num">{r.daysOverdue > 0 ? r.daysOverdue : '—'}</td>
              {risk ? (
                <td>
                  {r.riskBand ? (
                    <Badge
                      value={r.riskBand}
                      label={`${r.riskBand}${r.pLate != null ? ` · ${Math.round(r.pLate * 100)}%` : ''}`}
                    />
                  ) : (
                    '—'
                  )}
                </td>
              ) : null}
              {risk ? <td>{formatDate(r.predictedPayDate)}</td> : null}
              {pay ? (
                <td>
                  {payLinkOf(r) ? (
                    <a href={payLinkOf(r)!} target="_blank" rel="noopener noreferrer">
                      Pay link
                    </a>
                  ) : (
                    '—'
                  )}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
