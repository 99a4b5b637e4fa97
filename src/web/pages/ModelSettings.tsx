import { useEffect, useState } from 'react';
import { Card, ErrorBanner } from '../components/ui';
import { api } from '../lib/api';
import { formatDate, formatInstant } from '../lib/format';
import {
  type ComparisonFigures,
  comparisonInWords,
  type ModelChangeFigures,
  modelChangeInWords,
  modelInUseInWords,
  versionInWords,
  versionToDescribe,
} from '../lib/model-figures';
import { useApi } from '../lib/use-api';

interface TenantSettings {
  timezone: string;
  locale: string;
  currency: string;
  sensitivity?: number;
}

interface ModelsResponse {
  active: {
    version: string;
    createdAt: string;
    /** 'heuristic': the tenant predicts with the customer-history rule of thumb (no trained model beat it). */
    scoring?: 'model' | 'heuristic';
    validation: { invoices: number; auc: number; brier: number; intervalCoverage: number } | null;
  };
  change?: ModelChangeFigures | null;
  versions: {
    version: string;
    status: string;
    reason: string;
    createdAt: string;
    comparison?: ComparisonFigures | null;
  }[];
}

const SENSITIVITY: { value: number; label: string }[] = [
  { value: -2, label: 'Relaxed: flag only clear risks' },
  { value: -1, label: 'Lenient' },
  { value: 0, label: 'As validated (default)' },
  { value: 1, label: 'Cautious' },
  { value: 2, label: 'Very cautious: flag early' },
];

/**
 * Time zone and model sensitivity (PATCH /settings; a sensitivity change re-scores every open invoice), and the
 * model in use with its validation figures and the tenant's own trained versions.
 */
export function ModelSettings({ tenant }: { tenant: string }) {
  const base = `/api/v1/tenants/${encodeURIComponent(tenant)}`;
  const settings = useApi<TenantSettings>(`${base}/settings`);
  const models = useApi<ModelsResponse>(`${base}/models`);
  const [timezone, setTimezone] = useState('');
  const [sensitivity, setSensitivity] = useState(0);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  useEffect(() => {
    if (!settings.data) return;
    setTimezone(settings.data.timezone);
    setSensitivity(settings.data.sensitivity ?? 0);
  }, [settings.data]);

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setSaved(false);
    setError(null);
    try {
      await api.patch(`${base}/settings`, { timezone, sensitivity });
      setSaved(true);
      settings.reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };

  const active = models.data?.active;
  // The figures in words: of the version in use when it is the tenant's own, else of the newest one trained.
  const described = versionToDescribe(models.data?.versions ?? []);
  const isTenantModel = models.data?.versions.some((v) => v.status === 'active') ?? false;
  return (
    <>
      <Card title="Scheduling and risk">
        <ErrorBanner error={settings.error ?? error} />
        <form onSubmit={save} className="filters">
          <div className="field">
            <label htmlFor="settings-timezone">Company time zone (used when a debtor has none)</label>
            <input
              id="settings-timezone"
              value={timezone}
              onChange={(e) => setTimezone(e.target.value)}
              placeholder="America/New_York"
              autoComplete="off"
            />
          </div>
          <div className="field">
            <label htmlFor="settings-sensitivity">Late-payment sensitivity</label>
            <select
              id="settings-sensitivity"
              value={sensitivity}
              onChange={(e) => setSensitivity(Number(e.target.value))}
            >
              {SENSITIVITY.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </div>
          <div className="field field-actions">
            <button type="submit" className="btn" disabled={saving || !settings.data}>
              {saving ? 'Saving…' : 'Save'}
            </button>
          </div>
        </form>
        {saved && (
          <p role="status" className="banner banner-ok">
            Saved. Open invoices are being re-scored with the new sensitivity.
          </p>
        )}
      </Card>
      <Card title="Payment-delay model">
        <ErrorBanner error={models.error} />
        {active && (
          <dl className="facts">
            <dt>Model in use</dt>
            <dd className="mono">{active.version}</dd>
            {active.scoring !== 'heuristic' && (
              <>
                <dt>Trained</dt>
                <dd>{active.createdAt.slice(0, 10)}</dd>
              </>
            )}
            {modelInUseInWords(active, isTenantModel) && (
              <>
                <dt>
                  {active.scoring === 'heuristic'
                    ? 'How it predicts'
                    : 'How well it predicted (in date order)'}
                </dt>
                <dd>{modelInUseInWords(active, isTenantModel)}</dd>
              </>
            )}
            {models.data?.change ? (
              <>
                <dt>Last change of model</dt>
                <dd data-testid="model-change">{modelChangeInWords(models.data.change, formatDate)}</dd>
              </>
            ) : null}
            <dt>Models trained on your history</dt>
            <dd>
              {models.data && models.data.versions.length > 0
                ? models.data.versions.map((v) => (
                    <div key={v.version}>
                      <span title={`version ${v.version}: ${v.reason}`}>
                        {versionInWords(
                          v,
                          formatDate,
                          models.data!.versions.some(
                            (o) => o !== v && o.createdAt.slice(0, 10) === v.createdAt.slice(0, 10),
                          )
                            ? (iso: string) => formatInstant(iso)
                            : undefined,
                        )}
                      </span>
                      {v === described && comparisonInWords(v.comparison) && (
                        <p className="muted" data-testid="model-figures">
                          {comparisonInWords(v.comparison)}
                        </p>
                      )}
                    </div>
                  ))
                : 'None yet (needs 300 settled invoices; tried weekly and after large imports or syncs)'}
            </dd>
          </dl>
        )}
      </Card>
    </>
  );
}
