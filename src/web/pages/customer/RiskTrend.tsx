/**
 * The customer's risk score and band, its payment habit over time (Recharts line) with the 30/90-day trend arrows,
 * and the reasons (the doubtful open debt first).
 * The SVG is aria-hidden; a summary sentence and a visually hidden table carry the same numbers.
 */
import { useId } from 'react';
import {
  CartesianGrid,
  Line,
  LineChart,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { Badge, Card, Empty, ErrorBanner, Loading } from '../../components/ui';
import { formatDate } from '../../lib/format';
import { type CustomerRiskAnswer, riskInputsInWords, riskSummary, trendWords } from './customer-timeline';

export function RiskTrend({
  risk,
  error,
  loading,
}: {
  risk: CustomerRiskAnswer | null;
  error: Error | null;
  loading: boolean;
}) {
  const captionId = useId();
  if (loading && !risk) {
    return (
      <Card title="Risk trend">
        <Loading label="Loading risk…" />
      </Card>
    );
  }
  if (risk && !risk.scored) {
    return (
      <Card title="Risk trend">
        <Empty>Not scored yet. The risk model scores customers with invoice history.</Empty>
      </Card>
    );
  }
  if (error || !risk) {
    return (
      <Card title="Risk trend">
        <ErrorBanner error={error} />
      </Card>
    );
  }
  const data = risk.history.map((p) => ({ ...p, label: formatDate(p.day).replace(/, \d{4}$/, '') }));
  const trends = [trendWords(risk.trend30, 30), trendWords(risk.trend90, 90)].filter((t) => t !== null);
  // The trends are the payment habit's: named so when the open debt, not the habit, sets the score.
  const trendOf = risk.habitScore != null && risk.habitScore !== risk.score ? 'payment habit ' : '';
  return (
    <section className="card risk-card" aria-labelledby={`${captionId}-h`} data-testid="risk-card">
      <h2 className="card-title" id={`${captionId}-h`}>
        Risk trend
      </h2>
      <div className="risk-head" data-testid="risk-head">
        <span className="risk-score">
          {risk.score}
          <span className="muted small"> / 100</span>
        </span>
        <Badge value={risk.band} label={`${risk.band} risk`} />
        {trends.map((t) => (
          <span key={t.text} className={`risk-trend risk-trend-${t.tone}`}>
            <span aria-hidden="true">{t.arrow}</span> {trendOf}
            {t.text}
          </span>
        ))}
      </div>
      {riskInputsInWords(risk) ? (
        <p className="muted small" data-testid="risk-inputs">
          {riskInputsInWords(risk)}
        </p>
      ) : null}
      {risk.slowingAlert && risk.message ? (
        <p className="banner banner-warn risk-alert">Slowing payer: {risk.message}.</p>
      ) : null}
      <figure className="chart" aria-labelledby={captionId} data-testid="risk-chart">
        <div className="chart-canvas" aria-hidden="true">
          <ResponsiveContainer width="100%" height={180}>
            <LineChart
              data={data}
              margin={{ top: 8, right: 16, bottom: 0, left: 0 }}
              accessibilityLayer={false}
            >
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e6eaf0" />
              <XAxis dataKey="label" tickLine={false} axisLine={false} fontSize={12} />
              <YAxis
                domain={[0, 100]}
                ticks={[0, 25, 50, 75, 100]}
                tickLine={false}
                axisLine={false}
                fontSize={12}
                width={32}
              />
              <ReferenceLine y={50} stroke="#dde3ea" />
              <Tooltip formatter={(v) => [`${String(v)} / 100`, 'Payment habit']} />
              <Line
                dataKey="score"
                name="Payment habit"
                stroke="#1d5bd8"
                strokeWidth={2}
                dot={{ r: 4 }}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
        <figcaption id={captionId} className="chart-note" data-testid="risk-summary">
          {riskSummary(risk)}
        </figcaption>
        <table className="sr-only">
          <caption>Payment habit score over time</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Payment habit score (0–100)</th>
            </tr>
          </thead>
          <tbody>
            {risk.history.map((p) => (
              <tr key={p.day}>
                <th scope="row">{formatDate(p.day)}</th>
                <td>{p.score}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </figure>
      {risk.reasons.length ? (
        <>
          <h3 className="risk-subtitle">Why</h3>
          <ul className="risk-reasons">
            {risk.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </>
      ) : null}
      <p className="note">
        The higher of the payment habit (how late a typical new invoice is expected to be paid; the line) and
        the share of the open balance not expected within 90 days. Scored {formatDate(risk.asOf)} by model{' '}
        {risk.modelVersion}.
      </p>
    </section>
  );
}
