import { lazy, Suspense, useMemo } from 'react';
import { InvoiceTable } from '../components/InvoiceTable';
import { Card, Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { apiPath } from '../lib/api';
import { displayZone, formatDate, formatMoney } from '../lib/format';
import type { CustomerDetail } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../page-props';
import {
  buildTimeline,
  type CustomerRiskAnswer,
  creditMemoState,
  creditName,
  ledgerToday,
} from './customer/customer-timeline';
import { Overrides } from './customer/Overrides';
import { Timeline } from './customer/Timeline';
import { MESSAGE_LIMIT, useCustomerDunning } from './customer/use-customer-dunning';
import '../components/dunning.css';

// Recharts is most of the bundle: the risk chart loads with this page, not with the app shell.
const RiskTrend = lazy(() => import('./customer/RiskTrend').then((m) => ({ default: m.RiskTrend })));

export function CustomerPage({ tenant, params }: PageProps) {
  const ref = params.customer ?? '';
  const detail = useApi<CustomerDetail>(apiPath(tenant, `customers/${encodeURIComponent(ref)}`));
  const { data, error, loading } = detail;
  const customerId = data?.customer.id ?? null;
  const risk = useApi<CustomerRiskAnswer>(
    customerId ? apiPath(tenant, `customers/${encodeURIComponent(customerId)}/risk`) : null,
  );
  const dunning = useCustomerDunning(tenant, customerId);
  // The server's clock, not the browser's: demos and tests run the app at a fixed date.
  const today = useMemo(() => (data ? (data.asOf ?? ledgerToday(data.invoices)) : null), [data]);
  const timeline = useMemo(
    () =>
      data && dunning.data
        ? buildTimeline({
            customerId: data.customer.id,
            invoices: data.invoices,
            payments: data.payments,
            creditMemos: data.creditMemos,
            messages: dunning.data.messages,
            promises: dunning.data.promises,
            disputes: dunning.data.disputes,
            today,
            // The company's zone, like every time in the app (named in the header).
            timeZone: displayZone(),
          })
        : null,
    [data, dunning.data, today],
  );
  if (loading && !data) return <Loading label="Loading customer…" />;
  if (error) return <ErrorBanner error={error} />;
  if (!data) return null;
  const { customer } = data;
  const invoiceLabel = new Map(data.invoices.map((i) => [i.id, i.number ?? i.externalId]));
  const open = data.invoices.filter((i) => i.status === 'open');
  // Journal entries debiting the account (rows with a negative total) not paid yet: owed in the ledger, on no
  // invoice; what remains (negative) is the entry's debit less the payments linking it in the ledger.
  const debits = data.creditMemos.filter((c) => c.status === 'active' && c.remainingMinor < 0);
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link href="/customers">Customers</Link> <span aria-hidden="true">/</span>{' '}
        <span>{customer.name}</span>
      </nav>
      <PageHeader
        title={customer.name}
        subtitle={[customer.externalId, customer.emails.join(', '), customer.country]
          .filter(Boolean)
          .join(' · ')}
      />
      <div className="kpi-grid">
        <div className="kpi" data-testid="customer-open-balance">
          <div className="kpi-label">Open balance</div>
          <div className="kpi-value">
            {data.openBalance.length === 0
              ? formatMoney(0, data.invoices[0]?.currency ?? 'USD')
              : data.openBalance.map((b) => formatMoney(b.balanceMinor, b.currency)).join(' + ')}
          </div>
          <div className="kpi-hint">{open.length} open invoices</div>
        </div>
        <div className="kpi">
          <div className="kpi-label">Invoices</div>
          <div className="kpi-value">{data.invoices.length}</div>
          <div className="kpi-hint">{open.filter((i) => i.daysOverdue > 0).length} overdue</div>
        </div>
        <div className="kpi">
          <div className="kpi-label">Payments</div>
          <div className="kpi-value">{data.payments.length}</div>
          <div className="kpi-hint">Last {data.payments[0] ? formatDate(data.payments[0].date) : '—'}</div>
        </div>
      </div>
      {debits.length ? (
        <p className="notice" role="status" data-testid="journal-debits">
          The ledger also holds{' '}
          {debits.map((c) => `${formatMoney(-c.remainingMinor, c.currency)} (${creditName(c)})`).join(', ')}{' '}
          owed by this customer through journal entries, on no invoice (less the payments applied to them in
          the ledger): the open balance above leaves it out and Duely sends no reminder for it.
        </p>
      ) : null}
      <div className="customer-grid">
        <Suspense fallback={<Loading label="Loading risk…" />}>
          <RiskTrend risk={risk.data} error={risk.error} loading={risk.loading} />
        </Suspense>
        {dunning.data ? (
          <Overrides
            tenant={tenant}
            customer={customer}
            invoices={data.invoices}
            override={dunning.data.override}
            promises={dunning.data.promises}
            disputes={dunning.data.disputes}
            sequences={dunning.data.sequences}
            today={today}
            onChanged={dunning.reload}
          />
        ) : (
          <Card title="Dunning controls">
            {dunning.error ? <ErrorBanner error={dunning.error} /> : <Loading label="Loading dunning…" />}
          </Card>
        )}
      </div>
      {dunning.data && dunning.error ? <ErrorBanner error={dunning.error} /> : null}
      {timeline ? (
        <Timeline entries={timeline} cut={(dunning.data?.messages.length ?? 0) >= MESSAGE_LIMIT} />
      ) : dunning.error ? null : (
        <Loading label="Loading timeline…" />
      )}
      <Card title="Invoices">
        {data.invoices.length ? (
          <InvoiceTable rows={data.invoices} caption={`Invoices of ${customer.name}`} showCustomer={false} />
        ) : (
          <Empty>No invoices.</Empty>
        )}
      </Card>
      <Card title="Payments">
        {data.payments.length ? (
          <div className="table-wrap">
            <table className="table">
              <caption className="sr-only">Payments of {customer.name} and the invoices they paid</caption>
              <thead>
                <tr>
                  <th scope="col">Payment</th>
                  <th scope="col">Date</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col" className="num">
                    Unapplied
                  </th>
                  <th scope="col">Applied to</th>
                </tr>
              </thead>
              <tbody>
                {data.payments.map((p) => (
                  <tr key={p.id}>
                    <th scope="row" className="mono">
                      {p.externalId}
                    </th>
                    <td>{formatDate(p.date)}</td>
                    <td className="num">{formatMoney(p.amountMinor, p.currency)}</td>
                    <td className="num">{formatMoney(p.unappliedMinor, p.currency)}</td>
                    <td>
                      <AppliedTo items={p.allocations} currency={p.currency} invoiceLabel={invoiceLabel} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <Empty>No payments.</Empty>
        )}
      </Card>
      {data.creditMemos.length ? (
        <Card title={data.creditMemos.some((c) => c.journalEntryId) ? 'Credits on account' : 'Credit memos'}>
          <div className="table-wrap">
            <table className="table" data-testid="credit-memos">
              <caption className="sr-only">
                Credit memos (and journal entries crediting the account) of {customer.name} and the invoices
                they were applied to
              </caption>
              <thead>
                <tr>
                  <th scope="col">Credit memo</th>
                  <th scope="col">Date</th>
                  <th scope="col" className="num">
                    Amount
                  </th>
                  <th scope="col" className="num">
                    Remaining
                  </th>
                  <th scope="col">Applied to</th>
                </tr>
              </thead>
              <tbody>
                {data.creditMemos.map((c) => (
                  <tr key={c.id}>
                    <th scope="row" className="mono">
                      {c.journalEntryId ? creditName(c) : c.externalId}
                    </th>
                    <td>{formatDate(c.date)}</td>
                    <td className="num">{formatMoney(c.totalMinor, c.currency)}</td>
                    <td className="num">
                      {c.status === 'active'
                        ? formatMoney(c.remainingMinor, c.currency)
                        : creditMemoState(c).label}
                    </td>
                    <td>
                      <AppliedTo items={c.applications} currency={c.currency} invoiceLabel={invoiceLabel} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      ) : null}
    </>
  );
}

/** Which invoices a payment or credit memo went to, how much and when (the "Applied to" column of both tables). */
function AppliedTo(props: {
  items: ReadonlyArray<{ invoiceId: string; amountMinor: number; date: string }>;
  currency: string;
  invoiceLabel: ReadonlyMap<string, string>;
}) {
  const { items, currency, invoiceLabel } = props;
  if (items.length === 0) return '—';
  return (
    <ul className="plain">
      {items.map((a) => (
        <li key={`${a.invoiceId}-${a.date}`}>
          <span className="mono">{invoiceLabel.get(a.invoiceId) ?? 'invoice'}</span>{' '}
          {formatMoney(a.amountMinor, currency)} on {formatDate(a.date)}
        </li>
      ))}
    </ul>
  );
}
