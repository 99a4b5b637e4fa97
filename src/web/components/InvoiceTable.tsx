/**
 * The invoice table. Risk and predicted-date columns appear only when the rows carry them (the risk model has
 * scored the tenant); otherwise the table does not pretend.
 */
import { daysText, formatDate, formatMoney } from '../lib/format';
import type { InvoiceRow } from '../lib/types';
import { Badge, Link } from './ui';

export function hasRisk(rows: InvoiceRow[]): boolean {
  return rows.some((r) => r.riskBand != null || r.predictedPayDate != null);
}

const pct = (p: number) => `${Math.round(p * 100)}%`;

/**
 * The risk badge's text. Before the due date: the band and P(late). Once overdue, late is certain, so the figure is
 * the chance it is still collected within 90 days (the band is read from it).
 */
export function riskLabel(r: InvoiceRow): string {
  if (!r.riskBand) return '—';
  if (r.daysOverdue > 0 && r.pCollect90 != null) return `${r.riskBand} · ${pct(r.pCollect90)} paid in 90 d`;
  return `${r.riskBand}${r.pLate != null ? ` · ${pct(r.pLate)} late` : ''}`;
}

export const NOT_EXPECTED_SOON = 'not expected within 90 days';

/**
 * The expected pay date, unless the invoice is overdue with less than even odds of being paid within 90 days: its
 * conditional date then lies months or years out and is no date a controller can plan on.
 */
export function expectedPayText(r: {
  daysOverdue: number;
  pCollect90?: number | null;
  predictedPayDate?: string | null;
}): string {
  if (r.daysOverdue > 0 && r.pCollect90 != null && r.pCollect90 < 0.5) return NOT_EXPECTED_SOON;
  return formatDate(r.predictedPayDate);
}

/** How likely an invoice is to be late or, once overdue, to be collected: the figure that still matters. */
export function chanceText(r: {
  daysOverdue: number;
  pLate: number;
  pCollect30?: number | null;
  pCollect90?: number | null;
}): string {
  if (r.daysOverdue > 0 && r.pCollect30 != null && r.pCollect90 != null)
    return `${pct(r.pCollect30)} chance paid within 30 days, ${pct(r.pCollect90)} within 90`;
  return `${pct(r.pLate)} likely late`;
}

/** The badge's tooltip for an overdue invoice: both collection horizons, given it is still unpaid. */
export function riskTitle(r: InvoiceRow): string | undefined {
  if (!(r.daysOverdue > 0) || r.pCollect30 == null || r.pCollect90 == null) return undefined;
  return `Still unpaid ${daysText(r.daysOverdue)} after the due date: ${pct(r.pCollect30)} chance it is paid within 30 days, ${pct(r.pCollect90)} within 90 days`;
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
                    <span title={riskTitle(r)}>
                      <Badge value={r.riskBand} label={riskLabel(r)} />
                    </span>
                  ) : (
                    '—'
                  )}
                </td>
              ) : null}
              {risk ? <td>{expectedPayText(r)}</td> : null}
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
