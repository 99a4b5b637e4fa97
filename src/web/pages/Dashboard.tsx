import { lazy, Suspense, useId } from 'react';
import { addDays, roughSpan } from '../../../connectors/dates';
import { GoLiveChecklist, OptOutNotice } from '../components/go-live';
import { Badge, Card, Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { apiPath } from '../lib/api';
import type { CustomerRiskListRow, SendingTodayAnswer } from '../lib/contracts';
import { formatDate, formatKpi, formatMoney, formatShare } from '../lib/format';
import { navigate, useLocation } from '../lib/router';
import type { Analytics, CustomerRow, SyncRun } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../page-props';
import '../components/dashboard.css';

type Today = SendingTodayAnswer;

/** A row of GET …/customer-risk. */
type CustomerRiskRow = Pick<
  CustomerRiskListRow,
  'customerId' | 'customerName' | 'score' | 'habitScore' | 'trend30' | 'trend90' | 'slowingAlert' | 'message'
>;

// Recharts is most of the bundle: load it with the dashboard, not with the app shell.
const AgingChart = lazy(() => import('../components/charts').then((m) => ({ default: m.AgingChart })));
const ForecastChart = lazy(() => import('../components/charts').then((m) => ({ default: m.ForecastChart })));

/** A drill-down under a figure: the invoice list it opens, and what it lists when the card counts more than one thing. */
export interface KpiLink {
  href: string;
  /** "overdue invoices": the link reads "Show overdue invoices"; absent, "Show invoices". */
  what?: string;
}

export function Kpi({
  label,
  value,
  hint,
  about,
  testId,
  href,
  links,
}: {
  label: string;
  value: string;
  hint: string;
  /** One sentence of what the figure is, under it (figures a controller may not know by name). */
  about?: string;
  testId: string;
  /** The invoices behind the figure. */
  href?: string;
  /** Several lists behind the card (its figure and its hint count different invoices). */
  links?: KpiLink[];
}) {
  const all = links ?? (href ? [{ href }] : []);
  return (
    <div className="kpi" data-testid={testId}>
      <div className="kpi-label">{label}</div>
      <div className="kpi-value">{value}</div>
      <div className="kpi-hint">{hint}</div>
      {about ? <p className="kpi-about">{about}</p> : null}
      {all.map((l) => (
        <Link key={l.href} href={l.href} className="kpi-drill">
          Show {l.what ?? 'invoices'}
          <span className="sr-only"> for {label}</span>
        </Link>
      ))}
    </div>
  );
}

/** What the two delinquency figures are: they differ (30.7 beside "161.0 days late") and both say "days". */
export const DELINQUENCY_ABOUT =
  'The figure is how many days of sales the overdue balance adds to DSO (DSO less what it would be with nothing overdue); the line above is how long past due the overdue invoices are, on average by balance.';

/**
 * The Revenue at risk card's drill-downs: its figure counts the overdue invoices, its hint the open invoices the model
 * rates high risk (due or not): one list each ("Show invoices" listed only the overdue ones).
 */
export function revenueAtRiskLinks(risk: Analytics['revenueAtRisk'], c: string, asOf: string): KpiLink[] {
  return [
    { href: drill.overdue(c), what: 'overdue invoices' },
    ...(risk.highRiskMinor === null ? [] : [{ href: drill.highRisk(c, asOf), what: 'high-risk invoices' }]),
  ];
}

const PERIODS = [30, 90, 180, 365];

/** Invoice-list links behind the dashboard's figures. */
/**
 * Dashboard drill-downs: the invoice list filtered the way the figure counts. Open-balance figures count invoices
 * issued up to the as-of day (one dated later is not a receivable yet), so their lists stop there too.
 */
export const drill = {
  open: (c: string, asOf: string) => `/invoices?status=open&currency=${c}&issuedTo=${asOf}`,
  overdue: (c: string) => `/invoices?status=open&overdue=true&currency=${c}&sort=-daysOverdue`,
  highRisk: (c: string, asOf: string) =>
    `/invoices?status=open&currency=${c}&risk=high&issuedTo=${asOf}&sort=-balance`,
  issued: (c: string, from: string, to: string) =>
    `/invoices?status=all&currency=${c}&issuedFrom=${from}&issuedTo=${to}&sort=-total`,
  aging: (c: string, key: string, asOf: string) =>
    `/invoices?status=open&currency=${c}&aging=${encodeURIComponent(key)}&issuedTo=${asOf}&sort=-balance`,
  week: (c: string, source: 'due_date' | 'predicted', start: string, end: string, asOf: string) =>
    source === 'predicted'
      ? `/invoices?status=open&currency=${c}&expectedFrom=${start}&expectedTo=${end}&issuedTo=${asOf}&sort=-balance`
      : `/invoices?status=open&currency=${c}&dueFrom=${start}&dueTo=${end}&issuedTo=${asOf}&sort=-balance`,
};

const dayBefore = (day: string, n: number) => addDays(day, -n);

/**
 * Under Average days delinquent: how late the overdue invoices are on average (balance-weighted), "No overdue
 * invoices" when none is (it read "Overdue invoices average — late"), a year or more also in years or months.
 */
export function delinquencyHint(weightedDaysOverdue: number | null): string {
  if (weightedDaysOverdue === null) return 'No overdue invoices';
  const span = roughSpan(weightedDaysOverdue);
  return `Overdue invoices average ${formatKpi(weightedDaysOverdue, 'days')} late${span ? ` (${span})` : ''}`;
}

/**
 * The Revenue at risk card's line under the overdue total. The high-risk figure covers every open invoice the model
 * flags, due or not, so it may exceed the overdue total: it is named apart ("Overdue · high risk $X" read as a part
 * of the overdue total while being larger than it). After a recent switch of models it says so, with the high-risk
 * count before and after: each model sets its own bands.
 */
export function revenueAtRiskHint(
  risk: Analytics['revenueAtRisk'],
  overdueCount: number,
  currency: string,
): string {
  const overdue = `${overdueCount.toLocaleString('en-US')} overdue invoice${overdueCount === 1 ? '' : 's'}`;
  if (risk.highRiskMinor === null) return overdue;
  const n = risk.highRiskCount ?? 0;
  const high = `${overdue} · ${n.toLocaleString('en-US')} open invoice${n === 1 ? '' : 's'} at high risk (due or not), ${formatMoney(risk.highRiskMinor, currency)}`;
  const c = risk.modelChange;
  // A new model sets its own risk bands: the count can halve with no invoice changing (277 → 141 unexplained).
  return c
    ? `${high} · the model changed on ${formatDate(c.on)}: ${c.highBefore.toLocaleString('en-US')} → ${c.highAfter.toLocaleString('en-US')} at high risk in all currencies, from its own risk bands (Settings › Payment-delay model)`
    : high;
}

/**
 * A CSV company's figures are as of its export (the server's analytics ledgerDay): say so, and how to bring them
 * up to date, rather than "As of <today>" over a ledger of then.
 */
function ExportDayNote({ asOf }: { asOf: string }) {
  return (
    <p className="banner banner-warn" data-testid="export-day-note">
      These figures are as of {formatDate(asOf)}, the date of the CSV export (the latest date in it): an
      invoice paid since is still open in it, and days overdue count to that day.{' '}
      <Link href="/connections">Upload a newer export</Link> to bring them up to date.
    </p>
  );
}

export function DashboardPage({ tenant }: PageProps) {
  const { search } = useLocation();
  const period = PERIODS.includes(Number(search.get('period'))) ? Number(search.get('period')) : 90;
  // Another currency's figures (a company with CAD and USD invoices): each currency is its own view, never summed.
  const asked = search.get('currency');
  const currency = asked && /^[A-Z]{3}$/.test(asked) ? asked : undefined;
  const periodId = useId();
  const currencyId = useId();
  const { data, error, loading } = useApi<Analytics>(apiPath(tenant, 'analytics', { period, currency }));
  /** The Dashboard's address for a period and currency (the defaults left out). */
  const dashboardUrl = (p: number, cur: string | undefined) => {
    const qs = new URLSearchParams();
    if (p !== 90) qs.set('period', String(p));
    if (cur) qs.set('currency', cur);
    const q = qs.toString();
    return q ? `/?${q}` : '/';
  };
  if (loading && !data) return <Loading label="Computing the dashboard…" />;
  if (error) return <ErrorBanner error={error} />;
  if (!data) return null;
  const c = data.currency;
  const empty = data.receivables.openCount === 0 && data.receivables.creditSalesMinor === 0;
  // An old ledger has no sales in the period: ratios over the period (CEI, countback) would read 0% or "365 days+".
  const noSales = data.receivables.creditSalesMinor === 0;
  // A CSV company's figures as of its export (an export dated after today is read as of today, as any ledger).
  const asOfExport = data.exportDay !== null && data.exportDay <= data.asOf;
  return (
    <>
      <PageHeader
        title="Dashboard"
        subtitle={`As of ${formatDate(data.asOf)}${asOfExport ? ' (the CSV export)' : ''} · last ${data.periodDays} days · ${c}`}
        actions={
          <>
            <div className="field period-field">
              <label htmlFor={periodId}>Period</label>
              <select
                id={periodId}
                value={period}
                onChange={(e) => navigate(dashboardUrl(Number(e.target.value), currency))}
              >
                {PERIODS.map((p) => (
                  <option key={p} value={p}>
                    Last {p} days
                  </option>
                ))}
              </select>
            </div>
            {data.otherCurrencies.length > 0 ? (
              <div className="field period-field">
                <label htmlFor={currencyId}>Currency</label>
                <select
                  id={currencyId}
                  value={c}
                  onChange={(e) => navigate(dashboardUrl(period, e.target.value))}
                >
                  {[c, ...data.otherCurrencies.map((o) => o.currency)].sort().map((cur) => (
                    <option key={cur} value={cur}>
                      {cur}
                    </option>
                  ))}
                </select>
              </div>
            ) : null}
            <a
              className="btn btn-secondary"
              href={apiPath(tenant, 'analytics', { period, currency, format: 'csv' })}
              download
            >
              Export CSV
            </a>
            <button type="button" className="btn btn-secondary" onClick={() => window.print()}>
              Print
            </button>
          </>
        }
      />
      {empty ? <EmptyLedger tenant={tenant} /> : null}
      {asOfExport ? <ExportDayNote asOf={data.asOf} /> : null}
      <GoLiveChecklist tenant={tenant} />
      <OptOutNotice tenant={tenant} />
      <div className="kpi-grid">
        <Kpi
          testId="kpi-dso"
          label="DSO"
          value={formatKpi(data.kpis.dso, 'days')}
          hint={
            noSales
              ? 'No sales in this period'
              : `Countback ${formatKpi(data.kpis.dsoCountback, 'days')}${data.kpis.dsoCountbackCapped ? '+' : ''}`
          }
          href={drill.open(c, data.asOf)}
        />
        <Kpi
          testId="kpi-cei"
          label="Collection effectiveness (CEI)"
          value={noSales ? '—' : formatKpi(data.kpis.cei, '%')}
          hint="Share of collectible receivables collected"
          href={drill.issued(c, dayBefore(data.asOf, data.periodDays - 1), data.asOf)}
        />
        <Kpi
          testId="kpi-add"
          label="Average days delinquent"
          value={formatKpi(data.kpis.averageDaysDelinquent, 'days')}
          hint={delinquencyHint(data.kpis.weightedDaysOverdue)}
          about={data.kpis.weightedDaysOverdue === null ? undefined : DELINQUENCY_ABOUT}
          href={drill.overdue(c)}
        />
        <Kpi
          testId="kpi-open"
          label="Open receivables"
          value={formatMoney(data.receivables.openMinor, c)}
          hint={
            data.receivables.unappliedCreditMinor > 0
              ? `${data.receivables.openCount} open invoices · less ${formatMoney(data.receivables.unappliedCreditMinor, c)} credit on account (unapplied payments and credit memos dated by today, in ${c}; reminders count it too)`
              : `${data.receivables.openCount} open invoices`
          }
          href={drill.open(c, data.asOf)}
        />
        <Kpi
          testId="kpi-risk"
          label="Revenue at risk"
          value={formatMoney(data.revenueAtRisk.overdueMinor, c)}
          hint={revenueAtRiskHint(data.revenueAtRisk, data.receivables.overdueCount, c)}
          links={revenueAtRiskLinks(data.revenueAtRisk, c, data.asOf)}
        />
        <Kpi
          testId="kpi-collected"
          label="Collected within 30 / 60 days"
          value={`${formatShare(data.collected.within30.amountShare)} / ${formatShare(data.collected.within60.amountShare)}`}
          hint="By amount, of invoices issued in the period"
          href={drill.issued(c, dayBefore(data.asOf, data.periodDays - 1), data.asOf)}
        />
      </div>
      <div className="chart-grid">
        <Card title="Aging">
          <Suspense fallback={<Loading label="Loading chart…" />}>
            <AgingChart aging={data.aging} currency={c} />
          </Suspense>
          <ul className="drill-list" aria-label="Invoices by age" data-testid="aging-drill">
            {data.aging.map((b) => (
              <li key={b.key}>
                <Link href={drill.aging(c, b.key, data.asOf)}>
                  {b.label}: {formatMoney(b.amountMinor, c)} ({b.count})
                </Link>
              </li>
            ))}
          </ul>
        </Card>
        <Card title="13-week cash forecast">
          <Suspense fallback={<Loading label="Loading chart…" />}>
            <ForecastChart forecast={data.forecast} currency={c} />
          </Suspense>
          <details className="drill-weeks">
            <summary>Invoices by week</summary>
            <ul className="drill-list" data-testid="forecast-drill">
              {data.forecast.weeks.map((w) => (
                <li key={w.start}>
                  <Link href={drill.week(c, data.forecast.source, w.start, w.end, data.asOf)}>
                    {formatDate(w.start)} – {formatDate(w.end)}: {formatMoney(w.expectedMinor, c)}
                  </Link>
                </li>
              ))}
            </ul>
          </details>
        </Card>
      </div>
      <SendingTodayCard tenant={tenant} />
      <RiskCards tenant={tenant} />
      {data.otherCurrencies.length > 0 ? (
        <p className="note" data-testid="other-currencies">
          Figures in {c} only. Not included:{' '}
          {data.otherCurrencies.map((o, i) => (
            <span key={o.currency}>
              {i > 0 ? ', ' : ''}
              <Link href={dashboardUrl(period, o.currency)}>
                {o.openInvoices.toLocaleString('en-US')} open invoice{o.openInvoices === 1 ? '' : 's'} in{' '}
                {o.currency}
              </Link>
            </span>
          ))}{' '}
          (each currency has its own figures: choose it under Currency).
        </p>
      ) : null}
    </>
  );
}

/** No receivables yet: right after connecting, the first sync is usually still running — say so, with its progress. */
function EmptyLedger({ tenant }: { tenant: string }) {
  const runs = useApi<{ items: SyncRun[] }>(apiPath(tenant, 'sync-runs'));
  const running = runs.data?.items.find((r) => r.status === 'running');
  if (running) {
    const rows = Object.values(running.stats ?? {}).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
    return (
      <Empty>
        <span data-testid="first-sync-running">
          Your ledger is being synced{rows > 0 ? ` (${rows.toLocaleString('en-US')} records so far)` : ''}.
          The dashboard fills in when it finishes:{' '}
          <Link href="/connections">follow the progress on Connections</Link>.
        </span>
      </Empty>
    );
  }
  return (
    <Empty>
      No receivables yet. <Link href="/connections">Connect QuickBooks or upload a CSV</Link> to fill the
      dashboard.
    </Empty>
  );
}

/** Time of day (and the day when it is not today) in the tenant's zone: the card is about the tenant's day. */
function localTime(iso: string, timeZone: string, withDay = false): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    ...(withDay ? { weekday: 'short', month: 'short', day: 'numeric' } : {}),
    hour: 'numeric',
    minute: '2-digit',
  }).format(new Date(iso));
}

const templateLabel: Record<string, string> = { reminder: 'Reminder', statement: 'Statement of account' };

/**
 * The card's counts. Before go-live and while paused nothing leaves, so they say "would send" and why, not "to send".
 * "Held for approval" counts only messages due by tonight: the checklist's "N wait for approval" counts every send
 * day, so the two are named apart.
 */
export function TodayCounts({ data }: { data: Today }) {
  const live = data.sending === 'live';
  return (
    <>
      {live ? null : (
        <p className="banner banner-warn" data-testid="today-not-sending">
          {data.sending === 'off'
            ? 'Sending is off: nothing is sent until you go live in '
            : 'All sending is paused: nothing is sent until you resume it in '}
          <Link href="/settings">Settings</Link>. These are the messages that would go out today.
        </p>
      )}
      {data.uploadTooOld ? (
        <p className="banner banner-warn" data-testid="today-upload-too-old">
          {data.uploadTooOld.reason}
          {data.uploadTooOld.held > 0
            ? ` (${data.uploadTooOld.held} held so far; checked against the new upload as soon as it is in)`
            : ''}
          . <Link href="/connections">Upload on Connections</Link>.
        </p>
      ) : null}
      <ul className="today-counts" aria-label="Today at a glance">
        <li data-testid="today-to-send">
          <strong>{data.toSendCount}</strong> {live ? 'to send' : 'would send'}
          {live ? null : <span className="note small"> (approved or needing no approval)</span>}
        </li>
        {(data.heldForUpload ?? 0) > 0 ? (
          <li data-testid="today-held-for-upload">
            <strong>{data.heldForUpload}</strong> held until a new upload
          </li>
        ) : null}
        <li data-testid="today-held">
          <strong>{data.held}</strong> held for approval, due by today
          {data.held > 0 ? (
            <>
              {' '}
              · <Link href="/approvals">Review in Approvals</Link>
            </>
          ) : null}
        </li>
        <li data-testid="today-sent">
          <strong>{data.sentToday}</strong> sent today
        </li>
        {data.overdue > 0 ? (
          <li data-testid="today-overdue">
            <strong>{data.overdue}</strong> from earlier days still waiting to send
          </li>
        ) : null}
      </ul>
    </>
  );
}

function SendingTodayCard({ tenant }: { tenant: string }) {
  const { data, error, loading } = useApi<Today>(apiPath(tenant, 'dunning/today'));
  const title = 'Sending today';
  if (error)
    return (
      <Card title={title}>
        <ErrorBanner error={error} />
      </Card>
    );
  if (!data)
    return <Card title={title}>{loading ? <Loading label="Loading today’s messages…" /> : null}</Card>;
  const tz = data.timezone;
  const live = data.sending === 'live';
  return (
    <section className="card today-card" aria-labelledby="sending-today-h" data-testid="sending-today">
      <div className="today-head">
        <h2 className="card-title" id="sending-today-h">
          {live ? title : 'Would send today'}
        </h2>
        <span className="note">
          {formatDate(data.date)} · {tz}
        </span>
      </div>
      <TodayCounts data={data} />
      {data.toSend.length === 0 ? (
        <p className="note today-empty" data-testid="today-empty">
          {live ? 'Nothing else is due to send today.' : 'Nothing else would send today.'}{' '}
          {data.nextSendAt
            ? `The next message is due ${localTime(data.nextSendAt, tz, true)}.`
            : 'No messages are planned after today.'}
        </p>
      ) : (
        <div className="table-wrap">
          <table className="table today-table">
            <caption className="sr-only">
              {live
                ? `Messages the engine will send today, by send time (${tz})`
                : `Messages the engine would send today once sending is on, by send time (${tz}); none is sent now`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Customer</th>
                <th scope="col">Message</th>
                <th scope="col" className="num">
                  Invoices
                </th>
                <th scope="col" className="num">
                  Open
                </th>
                <th scope="col">Why</th>
              </tr>
            </thead>
            <tbody>
              {data.toSend.map((m) => (
                <tr key={m.id} data-testid="today-row" data-message-id={m.id}>
                  <td>{localTime(m.sendAt, tz)}</td>
                  <th scope="row">
                    <Link href={`/customers/${encodeURIComponent(m.customer.id)}`}>{m.customer.name}</Link>
                  </th>
                  <td className="today-message">
                    {m.subject ?? templateLabel[m.template] ?? m.template}{' '}
                    {m.tone ? (
                      <Badge
                        value={m.tone === 'final' || m.tone === 'firm' ? 'overdue' : 'open'}
                        label={m.tone}
                      />
                    ) : null}
                    {m.approved ? <span className="note small"> · approved</span> : null}
                  </td>
                  <td className="num">{m.invoiceCount}</td>
                  <td className="num">
                    {m.totals.length
                      ? m.totals.map((t) => formatMoney(t.openMinor, t.currency)).join(' + ')
                      : '—'}
                  </td>
                  <td className="today-reason">{m.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data.toSendCount > data.toSend.length ? (
        <p className="note">
          Showing the first {data.toSend.length} of {data.toSendCount}.{' '}
          <Link href="/messages">All messages</Link>
        </p>
      ) : null}
    </section>
  );
}

const RISK_ROWS = 5;

function trendText(points: number | null): string {
  if (points === null || points === 0) return '';
  return points > 0 ? ` ▲ ${points} in 30 days` : ` ▼ ${-points} in 30 days`;
}

/** GET …/customers-at-risk: per currency, the customers by risk score × their open balance in it. */
interface AtRiskGroup {
  currency: string;
  total: number;
  items: Pick<CustomerRow, 'id' | 'name' | 'riskScore' | 'openBalanceMinor' | 'overdueMinor'>[];
}

/**
 * Customers at risk (the largest risk score × open balance, with their open and overdue amounts: a $400 debt written
 * off at 100 does not push a $16,000 one at 47 off the card) and slowing payers. Balances in different currencies
 * are not compared (no exchange rates): the company's currency is ranked first, each other currency it is owed in
 * below it, labelled, ranked among its own balances (a CAD debtor among USD ones ranked at $0 and fell off).
 */
function RiskCards({ tenant }: { tenant: string }) {
  const { data, error, loading } = useApi<{ items: CustomerRiskRow[] }>(apiPath(tenant, 'customer-risk'));
  // Customers who owe something and score above 0: one with nothing open, or scored 0, is at risk of nothing.
  const top = useApi<{ currency: string; groups: AtRiskGroup[] }>(
    apiPath(tenant, 'customers-at-risk', { limit: RISK_ROWS }),
  );
  if (error) return <ErrorBanner error={error} />;
  if (!data) return loading ? <Loading label="Loading customer risk…" /> : null;
  // The trend is the payment habit's: shown beside the score only when the habit is the score (not the open debt).
  const trend = new Map(
    data.items.map((r) => [
      r.customerId,
      r.habitScore == null || r.habitScore === r.score ? r.trend30 : null,
    ]),
  );
  const groups = top.data?.groups ?? [];
  const labelled = groups.length > 1 || (groups.length === 1 && groups[0]!.currency !== top.data?.currency);
  const slowing = data.items.filter((r) => r.slowingAlert).slice(0, RISK_ROWS);
  const slowingTotal = data.items.filter((r) => r.slowingAlert).length;
  return (
    <div className="chart-grid risk-grid">
      <Card title="Customers at risk">
        {groups.length === 0 ? (
          <p className="note">
            {data.items.length === 0
              ? 'No customer has a risk score yet: scores appear after the model runs.'
              : 'No customer with an open balance is at risk.'}
          </p>
        ) : (
          <div data-testid="customers-at-risk">
            {groups.map((g) => (
              <div key={g.currency} data-currency={g.currency}>
                {labelled ? (
                  <h3 className="risk-currency">
                    In {g.currency}
                    {g.total > g.items.length ? (
                      <span className="note small">
                        {' '}
                        · top {g.items.length} of {g.total}
                      </span>
                    ) : null}
                  </h3>
                ) : null}
                <ol className="risk-list">
                  {g.items.map((r) => (
                    <li key={r.id}>
                      <Link href={`/customers/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                      <span className="risk-score">
                        {r.riskScore}
                        <span className="note small">/100{trendText(trend.get(r.id) ?? null)}</span>
                      </span>
                      <span className="note small risk-amounts">
                        {formatMoney(r.openBalanceMinor, g.currency)} open
                        {r.overdueMinor > 0 ? `, ${formatMoney(r.overdueMinor, g.currency)} overdue` : ''}
                      </span>
                    </li>
                  ))}
                </ol>
              </div>
            ))}
          </div>
        )}
        <p className="note small">
          By risk score × open balance
          {labelled ? ', in each currency (balances in different currencies are not compared)' : ''}.{' '}
          <Link href="/customers?sort=-risk">All customers by risk</Link>
        </p>
      </Card>
      <Card title="Slowing payers">
        {slowing.length === 0 ? (
          <p className="note">No customer is paying more slowly than before.</p>
        ) : (
          <>
            <ul className="risk-list" data-testid="slowing-payers">
              {slowing.map((r) => (
                <li key={r.customerId}>
                  <Link href={`/customers/${encodeURIComponent(r.customerId)}`}>{r.customerName}</Link>
                  <span className="note small">{r.message}</span>
                </li>
              ))}
            </ul>
            {slowingTotal > slowing.length ? (
              <p className="note">
                {slowingTotal - slowing.length} more. <Link href="/customers">All customers</Link>
              </p>
            ) : null}
          </>
        )}
      </Card>
    </div>
  );
}
