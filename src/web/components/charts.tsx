/**
 * Dashboard charts (Recharts). Each chart is drawn for sighted users and mirrored by a visually hidden table with
 * the same numbers for screen readers; the SVG itself is aria-hidden.
 */
import {
  Area,
  Bar,
  BarChart,
  CartesianGrid,
  Cell,
  ComposedChart,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatDate, formatMoney } from '../lib/format';
import type { Analytics } from '../lib/types';

const toMajor = (minor: number) => minor / 100;

export function AgingChart({ aging, currency }: { aging: Analytics['aging']; currency: string }) {
  const data = aging.map((b) => ({ ...b, amount: toMajor(b.amountMinor) }));
  const colors = ['#2f9e6e', '#e0a53a', '#e07b39', '#d4553f', '#a8323e'];
  return (
    <figure className="chart" aria-labelledby="aging-caption">
      <div className="chart-canvas" aria-hidden="true">
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 8 }} accessibilityLayer={false}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e6eaf0" />
            <XAxis dataKey="label" tickLine={false} axisLine={false} fontSize={12} />
            <YAxis
              tickFormatter={(v: number) => formatMoney(Math.round(v * 100), currency, 'en-US', true)}
              tickLine={false}
              axisLine={false}
              fontSize={12}
              width={64}
            />
            <Tooltip
              formatter={(v) => formatMoney(Math.round(Number(v) * 100), currency)}
              labelFormatter={(l) => `Aging ${String(l)}`}
            />
            <Bar dataKey="amount" name="Open balance" radius={[4, 4, 0, 0]} isAnimationActive={false}>
              {data.map((d, i) => (
                <Cell key={d.key} fill={colors[i] ?? '#1d5bd8'} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption id="aging-caption" className="sr-only">
        Open receivables by days past due
      </figcaption>
      <table className="sr-only">
        <caption>Aging buckets</caption>
        <thead>
          <tr>
            <th scope="col">Bucket</th>
            <th scope="col">Invoices</th>
            <th scope="col">Open balance</th>
          </tr>
        </thead>
        <tbody>
          {aging.map((b) => (
            <tr key={b.key}>
              <th scope="row">{b.label}</th>
              <td>{b.count}</td>
              <td>{formatMoney(b.amountMinor, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

export function ForecastChart({ forecast, currency }: { forecast: Analytics['forecast']; currency: string }) {
  const predicted = forecast.source === 'predicted';
  const data = forecast.weeks.map((w) => ({
    label: formatDate(w.start).replace(/, \d{4}$/, ''),
    expected: toMajor(w.expectedMinor),
    cumulative: toMajor(w.cumulativeMinor),
    band: [toMajor(w.lowMinor), toMajor(w.highMinor)] as [number, number],
  }));
  const money = (v: number) => formatMoney(Math.round(v * 100), currency);
  return (
    <figure className="chart" aria-labelledby="forecast-caption">
      <div className="chart-canvas" aria-hidden="true">
        <ResponsiveContainer width="100%" height={260}>
          <ComposedChart
            data={data}
            margin={{ top: 8, right: 8, bottom: 0, left: 8 }}
            accessibilityLayer={false}
          >
            <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e6eaf0" />
            <XAxis
              dataKey="label"
              tickLine={false}
              axisLine={false}
              fontSize={12}
              interval="preserveStartEnd"
            />
            <YAxis
              tickFormatter={(v: number) => formatMoney(Math.round(v * 100), currency, 'en-US', true)}
              tickLine={false}
              axisLine={false}
              fontSize={12}
              width={64}
            />
            <Tooltip
              formatter={(v, name) =>
                Array.isArray(v)
                  ? [`${money(Number(v[0]))} – ${money(Number(v[1]))}`, name]
                  : [money(Number(v)), name]
              }
              labelFormatter={(l) => `Week of ${String(l)}`}
            />
            {predicted ? (
              <Area
                dataKey="band"
                name="Cumulative P10–P90"
                fill="#c9d8fb"
                stroke="none"
                isAnimationActive={false}
              />
            ) : null}
            <Bar
              dataKey="expected"
              name="Expected in week"
              fill="#1d5bd8"
              radius={[3, 3, 0, 0]}
              isAnimationActive={false}
            />
            <Line
              dataKey="cumulative"
              name="Cumulative"
              stroke="#0f2f6b"
              strokeWidth={2}
              dot={false}
              isAnimationActive={false}
            />
          </ComposedChart>
        </ResponsiveContainer>
      </div>
      <figcaption id="forecast-caption" className="chart-note">
        {predicted
          ? 'By predicted pay date (overdue invoices weighted by their chance of being collected); the shaded band is the cumulative P10–P90 range.'
          : 'By due date (naive): balances arrive when due. Predicted dates replace this once invoices are scored.'}{' '}
        {/* Predicted, overdue balances are spread over the weeks by their chance of collection: nothing is left "already
            past due", and "$0.00" there read as if nothing were overdue. */}
        {!predicted || forecast.pastDueMinor > 0
          ? `Already past due: ${formatMoney(forecast.pastDueMinor, currency)}. `
          : ''}
        After 13 weeks: {formatMoney(forecast.laterMinor, currency)}
        {forecast.doubtfulMinor > 0
          ? `, of which ${formatMoney(forecast.doubtfulMinor, currency)} is overdue debt not expected to be collected within 90 days`
          : ''}
        .
      </figcaption>
      <table className="sr-only">
        <caption>13-week cash forecast</caption>
        <thead>
          <tr>
            <th scope="col">Week starting</th>
            <th scope="col">Expected</th>
            <th scope="col">Cumulative</th>
          </tr>
        </thead>
        <tbody>
          {forecast.weeks.map((w) => (
            <tr key={w.week}>
              <th scope="row">{formatDate(w.start)}</th>
              <td>{formatMoney(w.expectedMinor, currency)}</td>
              <td>{formatMoney(w.cumulativeMinor, currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
