import { useId, useRef, useState } from 'react';
import { Badge, Card, Empty, ErrorBanner, Loading, PageHeader } from '../components/ui';
import { api, apiPath } from '../lib/api';
import { formatInstant } from '../lib/format';
import { useCan } from '../lib/role';
import type { Connection, Integrations, SyncRun, Tenant } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../page-props';
import {
  CsvFormatHint,
  ImportError,
  type ImportResult,
  ImportSummary,
  NewCompanyCsvForm,
} from './connections/csv-upload';
import { OwnEmail } from './connections/OwnEmail';
import { ProviderCards } from './connections/ProviderCards';
import { INTEGRATIONS_PATH } from './connections/QuickbooksConnect';
import { KINDS, syncPending } from './connections/sync-progress';

const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/**
 * One line per sync run: what it was, and the records it read, in the words of the ledger ("150 customers, 4,999
 * invoices, … read"). Pages, allocations and the like are how the sync works, not what a controller looks for.
 */
export function describeRun(run: SyncRun): string {
  if (run.kind === 'import') {
    const file = typeof run.source.fileName === 'string' ? run.source.fileName : 'CSV upload';
    const rows = run.stats.rows;
    return `${file}${rows !== undefined ? ` · ${rows.toLocaleString('en-US')} rows` : ''}`;
  }
  const n = (key: string) => (typeof run.stats[key] === 'number' ? run.stats[key] : 0);
  const read = KINDS.filter((k) => n(k.key) > 0).map((k) =>
    count(n(k.key), k.label.replace(/s$/, ''), k.label),
  );
  const parts = read.length ? [`${read.join(', ')} read`] : [];
  if (n('deletions') > 0) parts.push(`${n('deletions').toLocaleString('en-US')} deleted in the ledger`);
  const host = run.source.provider === 'netsuite' ? 'NetSuite' : 'QuickBooks';
  const what = run.kind === 'full' ? 'full sync' : 'sync of changes';
  if (run.status === 'running')
    return `${host} ${what} · in progress${parts.length ? `: ${parts.join(', ')} so far` : ''}`;
  return `${host} ${what} · ${parts.length ? parts.join(', ') : run.kind === 'full' ? 'nothing read' : 'nothing new'}`;
}

/**
 * The runs the "Sync runs and imports" card lists: the stored ones, plus a connection's running sync the list does
 * not have yet (it was read before the run began; the connections poll sees it first), newest first. It said
 * "Nothing imported or synced yet." under a sync that was running.
 */
export function runsShown(runs: readonly SyncRun[], conns: readonly Connection[]): SyncRun[] {
  const known = new Set(runs.map((r) => r.id));
  const running: SyncRun[] = conns.flatMap((c) =>
    c.runningSync && !known.has(c.runningSync.id)
      ? [
          {
            id: c.runningSync.id,
            kind: c.runningSync.kind,
            status: 'running',
            source: { provider: c.provider },
            // Rows read so far: the run's progress (its stats are written when it ends).
            stats: Object.fromEntries(
              Object.entries(c.runningSync.progress.entities).map(([k, v]) => [k, v.rows]),
            ),
            error: null,
            startedAt: c.runningSync.startedAt,
            finishedAt: null,
          },
        ]
      : [],
  );
  return [...running, ...runs].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** What the card says with no run to list: a sync about to start is not "nothing synced yet". */
export function noRunsText(conns: readonly Connection[]): string {
  return conns.some((c) => syncPending(c))
    ? 'A sync is about to start: it is listed here as soon as it runs.'
    : 'Nothing imported or synced yet.';
}

export function ConnectionsPage({ tenant, onCompanyCreated, imported }: PageProps) {
  const runs = useApi<{ items: SyncRun[] }>(apiPath(tenant, 'sync-runs'));
  const integrations = useApi<Integrations>(INTEGRATIONS_PATH);
  const conns = useApi<{ items: Connection[] }>(apiPath(tenant, 'connections'));
  // CSV uploads are for CSV companies only (the server refuses others with a 409): not offered to a synced one.
  const companies = useApi<{ items: Tenant[] }>('/api/v1/tenants');
  const source = companies.data?.items.find((t) => t.slug === tenant)?.source ?? null;
  // Importing is an admin's change (the upload route refuses anyone else).
  const mayImport = useCan('admin');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  // The last upload's summary: this page's own, or the one that created the company (the app switched to it).
  const [result, setResult] = useState<ImportResult | null>(imported ?? null);
  const [error, setError] = useState<Error | null>(null);
  const fileId = useId();
  /** A credential connection's Reconnect: its form, for that account (n remounts it per click). */
  const [reconnect, setReconnect] = useState<{
    provider: string;
    accountId: string;
    type: string | null;
    n: number;
  } | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const shown = runsShown(runs.data?.items ?? [], conns.data?.items ?? []);

  const upload = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const r = await api.uploadCsv<ImportResult>(apiPath(tenant, 'imports'), file);
      setResult(r);
      setFile(null);
      if (input.current) input.current.value = '';
      runs.reload();
    } catch (err) {
      setError(err as Error);
      runs.reload();
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader title="Connections" subtitle="Where the ledger comes from" />
      <OwnEmail session={api.current} />
      <div className="chart-grid">
        <ProviderCards
          tenant={tenant}
          conns={conns}
          integrations={integrations}
          onChange={runs.reload}
          reconnect={reconnect}
          onReconnect={(a) => {
            setReconnect((r) => ({ ...a, n: (r?.n ?? 0) + 1 }));
            // The form is below the rows: bring it into view.
            requestAnimationFrame(() =>
              document.querySelector(`[data-testid="connect-${a.provider}"]`)?.scrollIntoView(),
            );
          }}
          onConnected={() => {
            conns.reload();
            runs.reload();
          }}
        />
        {source !== null && source !== 'csv' ? (
          <Card title="Upload a CSV">
            <p className="muted" data-testid="csv-not-offered">
              This company's ledger comes from{' '}
              {(integrations.data as Record<string, { displayName?: string } | undefined> | undefined)?.[
                source
              ]?.displayName ?? source}
              : it is synced, not uploaded. CSV uploads are for companies without an accounting connection.
            </p>
            {api.current?.operator && onCompanyCreated ? (
              <>
                <p className="muted">To bring in a CSV ledger, upload it as another company:</p>
                <CsvFormatHint />
                <NewCompanyCsvForm onImported={onCompanyCreated} submitLabel="Import as a new company" />
              </>
            ) : null}
          </Card>
        ) : !mayImport ? null : (
          <Card title="Upload a CSV">
            <CsvFormatHint />
            <form onSubmit={upload} className="upload">
              <div className="field">
                <label htmlFor={fileId}>CSV file</label>
                <input
                  ref={input}
                  id={fileId}
                  type="file"
                  accept=".csv,text/csv"
                  onChange={(e) => setFile(e.target.files?.[0] ?? null)}
                />
              </div>
              <button type="submit" className="btn" disabled={!file || busy}>
                {busy ? 'Importing…' : 'Import'}
              </button>
            </form>
            <ImportSummary result={result} />
            <ImportError error={error} />
          </Card>
        )}
        {source === 'csv' && api.current?.operator && onCompanyCreated ? (
          <Card title="Another company from a CSV">
            <p className="muted">
              The upload above adds to this company's ledger. To bring in another company's ledger, upload it
              as a new company:
            </p>
            <NewCompanyCsvForm onImported={onCompanyCreated} submitLabel="Import as a new company" />
          </Card>
        ) : null}
      </div>
      <Card title="Sync runs and imports">
        {runs.loading && !runs.data ? <Loading /> : null}
        <ErrorBanner error={runs.error} />
        {runs.data && shown.length === 0 ? <Empty>{noRunsText(conns.data?.items ?? [])}</Empty> : null}
        {runs.data && shown.length > 0 ? (
          <div className="table-wrap">
            <table className="table" data-testid="sync-runs">
              <caption className="sr-only">Sync runs and imports, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">What</th>
                  <th scope="col">Status</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.id}>
                    <td>{formatInstant(r.startedAt)}</td>
                    <td className="what-cell">
                      {describeRun(r)}
                      {r.error ? <div className="error-text small">{r.error}</div> : null}
                    </td>
                    <td>
                      <Badge value={r.status} />
                    </td>
                    <td>{formatInstant(r.finishedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </Card>
    </>
  );
}
