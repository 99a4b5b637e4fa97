import { lazy, Suspense } from 'react';
import { Card, Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { apiPath } from '../lib/api';
import { formatDate, formatKpi, formatMoney, formatShare } from '../lib/format';
import type { Analytics } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../nav';

// Recharts is most of the bundle: load it with the dashboard, not with the app shell.
const AgingChart = lazy(() => import('../components/charts').then((m) => ({ default: m.AgingChart })));
const ForecastChart = lazy(() => import('../components/charts').then((m) => ({ default: m.ForecastChart })));

function Kpi({ label, value, hint, testId }: { label: string; value: string; hint: string; testId: string }) {
  return (
    <div className="kpi" data-testid={testId}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      <div className="kpi-hint">{hint}</div>
    </div>
  );
}

export function DashboardPage({ tenant }: PageProps) {
  const { data, error, loading } = useApi<Analytics>(apiPath(tenant, 'analytics'));
  if (loading && !data) return <Loading label="Computing the dashboard…" />;
  if (error) return <ErrorBanner error={error} />;
  if (!data) return null;
  const c = data.currency;
  const empty = data.receivables.openCount === 0 && data.receivables.creditSalesMinor === 0;
  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={`As of ${formatDate(data.asOf)} · last ${data.periodDays} days · ${c}`}
      />
      {empty ? (
        <Empty>
          No receivables yet. <Link href="/connections">Connect QuickBooks or upload a CSV</Link> to fill the dashboard.
        </Empty>
      ) : null}
      <div className="kpi-grid">
        <Kpi
          testId="kpi-dso"
          label="DSO"
          value={formatKpi(data.kpis.dso, 'days')}
          hint={`Countback ${formatKpi(data.kpis.dsoCountback, 'days')}${data.kpis.dsoCountbackCapped ? '+' : ''}`}
        />
        <Kpi
          testId="kpi-cei"
          label="Collection effectiveness (CEI)"
          value={formatKpi(data.kpis.cei, '%')}
          hint="Share of collectible receivables collected"
        />
        <Kpi
          testId="kpi-add"
          label="Average days delinquent"
          value={formatKpi(data.kpis.averageDaysDelinquent, 'days')}
          hint={`Overdue invoices average ${formatKpi(data.kpis.weightedDaysOverdue, 'days')} late`}
        />
        <Kpi
          testId="kpi-open"
          label="Open receivables"
          value={formatMoney(data.receivables.openMinor, c)}
          hint={`${data.receivables.openCount} open invoices`}
        />
        <Kpi
          testId="kpi-risk"
          label="Revenue at risk"
          value={formatMoney(data.revenueAtRisk.overdueMinor, c)}
          hint={
            data.revenueAtRisk.highRiskMinor === null
              ? `Overdue · ${data.receivables.overdueCount} invoices`
              : `Overdue · high risk ${formatMoney(data.revenueAtRisk.highRiskMinor, c)}`
          }
        />
        <Kpi
          testId="kpi-collected"
          label="Collected within 30 / 60 days"
          value={`${formatShare(data.collected.within30.amountShare)} / ${formatShare(data.collected.within60.amountShare)}`}
          hint="By amount, of invoices issued in the period"
        />
      </div>
      <div className="chart-grid">
        <Card title="Aging">
          <Suspense fallback={<Loading label="Loading chart…" />}>
            <AgingChart aging={data.aging} currency={c} />
          </Suspense>
        </Card>
        <Card title="13-week cash forecast">
          <Suspense fallback={<Loading label="Loading chart…" />}>
            <ForecastChart forecast={data.forecast} currency={c} />
          </Suspense>
        </Card>
      </div>
      {data.otherCurrencyOpenInvoices > 0 ? (
        <p className="note">
          {data.otherCurrencyOpenInvoices} open invoices in other currencies are not included in these figures.
        </p>
      ) : null}
    </>
  );
}
