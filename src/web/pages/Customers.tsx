import { useState } from 'react';
import { Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { apiPath } from '../lib/api';
import { formatMoney } from '../lib/format';
import type { CustomerRow } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../nav';

const PAGE = 100;

export function CustomersPage({ tenant, currency }: PageProps) {
  const [offset, setOffset] = useState(0);
  const { data, error, loading } = useApi<{ items: CustomerRow[] }>(apiPath(tenant, 'customers', { limit: PAGE, offset }));
  return (
    <>
      <PageHeader title="Customers" subtitle="Open balance and open invoices per customer" />
      <ErrorBanner error={error} />
      {loading && !data ? <Loading label="Loading customers…" /> : null}
      {data && data.items.length === 0 ? <Empty>No customers yet.</Empty> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="sr-only">Customers</caption>
            <thead>
              <tr>
                <th scope="col">Customer</th>
                <th scope="col">ID</th>
                <th scope="col">Email</th>
                <th scope="col" className="num">
                  Open invoices
                </th>
                <th scope="col" className="num">
                  Open balance
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((c) => (
                <tr key={c.id}>
                  <th scope="row">
                    <Link href={`/customers/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                  </th>
                  <td className="mono">{c.externalId}</td>
                  <td>{c.emails[0] ?? '—'}</td>
                  <td className="num">{c.openInvoices}</td>
                  <td className="num">{formatMoney(c.openBalanceMinor, currency)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data ? (
        <div className="more pager">
          <button type="button" className="btn btn-secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={data.items.length < PAGE}
            onClick={() => setOffset(offset + PAGE)}
          >
            Next
          </button>
        </div>
      ) : null}
    </>
  );
}
