/**
 * Uploading a CSV ledger: the format hint, a refused file's problems (how many, the first 20, how many more), and the
 * form that uploads a file as a new company (the first import of an operator without one; from a synced company's
 * Connections page, another company beside it).
 */
import { useId, useState } from 'react';
import { ErrorBanner } from '../../components/ui';
import { ApiError, api } from '../../lib/api';
import type { ImportResult } from '../../lib/contracts';
import { formatDate, formatMoney } from '../../lib/format';

export type { ImportResult };

const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** The counts an upload's summary sentence reads (an ImportResult; older servers lack the optional ones). */
export interface ImportCounts {
  rows: number;
  customers: number;
  invoices: { inserted: number; updated: number; unchanged?: number; open: number; paid: number };
  /** The file's latest date (YYYY-MM-DD) and its open invoices' total per currency (src/sync/csv-summary.ts). */
  asOf?: string;
  openBalance?: Record<string, number>;
}

/**
 * What an upload amounts to, "as of" the file's latest date (an old export is a ledger of then: recent Dashboard
 * periods stay empty): "Ledger as of Mar 31, 2014: 120 customers, 45 open invoices, $12,345.67 open. Imported
 * 1,234 invoices: 10 new, 1,224 updated, 1,189 paid."
 */
export function importSummary(r: ImportCounts): string {
  const balances = Object.entries(r.openBalance ?? {})
    .filter(([, minor]) => minor !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, minor]) => formatMoney(minor, currency));
  const ledger =
    `${r.asOf ? `Ledger as of ${formatDate(r.asOf)}` : 'Ledger'}: ${count(r.customers, 'customer')}, ` +
    `${count(r.invoices.open, 'open invoice')}, ${balances.length ? `${balances.join(' + ')} open` : 'nothing open'}.`;
  const imported =
    `Imported ${count(r.rows, 'invoice')}: ${r.invoices.inserted.toLocaleString('en-US')} new, ` +
    `${r.invoices.updated.toLocaleString('en-US')} updated, ` +
    `${r.invoices.unchanged ? `${r.invoices.unchanged.toLocaleString('en-US')} unchanged, ` : ''}` +
    `${r.invoices.paid.toLocaleString('en-US')} paid.`;
  return `${ledger} ${imported}`;
}

/**
 * An accepted upload: the summary sentence and the lines taken with a remark (the first PROBLEMS_SHOWN, naming
 * each line, and how many more), so a prepayment or a due date before its invoice date is seen on day one.
 */
export function ImportSummary({ result }: { result: ImportResult | null }) {
  if (!result) return null;
  const listed = result.warnings.slice(0, PROBLEMS_SHOWN);
  const more = Math.max(result.warningCount, result.warnings.length) - listed.length;
  return (
    <div className="banner banner-ok" role="status" data-testid="import-summary">
      <p>{importSummary(result)}</p>
      {result.warningCount > 0 ? (
        <>
          <p>
            {count(result.warningCount, 'line')} imported with a remark
            {more > 0 ? ` (the first ${listed.length.toLocaleString('en-US')})` : ''}:
          </p>
          <ul className="problems">
            {listed.map((w) => (
              <li key={`${w.line}-${w.column}-${w.message}`}>
                Line {w.line.toLocaleString('en-US')}
                {w.column ? `, ${w.column}` : ''}: {w.message}
              </li>
            ))}
          </ul>
          {more > 0 ? <p>… and {more.toLocaleString('en-US')} more.</p> : null}
        </>
      ) : null}
    </div>
  );
}

/** A line of a refused upload (the 422's details). */
export interface ImportProblem {
  line?: number;
  column?: string | null;
  message: string;
}

/** How many of a refused upload's problems the page lists (the server sends the first 200). */
export const PROBLEMS_SHOWN = 20;

/**
 * A refused upload's problems: the first PROBLEMS_SHOWN, and how many the file has in all (the error body's
 * `total`; from a server without it, what it listed). None for a refusal without details (409, 413).
 */
export function importProblems(err: unknown): { list: ImportProblem[]; total: number } {
  if (!(err instanceof ApiError)) return { list: [], total: 0 };
  const details = err.details as { issues?: ImportProblem[] } | ImportProblem[] | undefined;
  const all = Array.isArray(details) ? details : (details?.issues ?? []);
  if (all.length === 0) return { list: [], total: 0 };
  return { list: all.slice(0, PROBLEMS_SHOWN), total: Math.max(err.total ?? 0, all.length) };
}

/**
 * "The file was not imported: 301 problems. The first 20:", the list, "… and 281 more." In place of the server's
 * message, which speaks of the 200 it listed.
 */
export function ImportProblems({ list, total }: { list: ImportProblem[]; total: number }) {
  if (list.length === 0) return null;
  const more = total - list.length;
  return (
    <div className="banner banner-error" role="alert" data-testid="import-problems">
      <p>
        The file was not imported: {count(total, 'problem')}.
        {more > 0 ? ` The first ${list.length.toLocaleString('en-US')}:` : ''}
      </p>
      <ul className="problems">
        {list.map((p) => (
          <li key={`${p.line}-${p.column}-${p.message}`}>
            {p.line ? `Line ${p.line.toLocaleString('en-US')}` : ''}
            {p.column ? `, ${p.column}` : ''}: {p.message}
          </li>
        ))}
      </ul>
      {more > 0 ? (
        <p>
          … and {more.toLocaleString('en-US')} more. Fix these lines and upload the file again to see the rest
          (nothing of it is imported until every line is good).
        </p>
      ) : null}
    </div>
  );
}

/** A refused upload's error: its problems listed (ImportProblems) when it has any, else the error's banner. */
export function ImportError({ error }: { error: Error | null }) {
  const problems = importProblems(error);
  return problems.list.length ? <ImportProblems {...problems} /> : <ErrorBanner error={error} />;
}

/** What an upload must be: the canonical columns, all or nothing (the first import's card and Connections'). */
export function CsvFormatHint() {
  return (
    <p className="muted">
      A canonical invoice history:{' '}
      <code>customer_id, invoice_id, invoice_date, due_date, amount, currency, paid_date</code>. A file with
      any bad line imports nothing.
    </p>
  );
}

/**
 * Company name + CSV file → a new company (source csv) holding that ledger; `onImported` gets its slug and the
 * import's result (the app switches to the company and shows that summary there). The name of an existing CSV
 * company imports into it, as the API does.
 */
export function NewCompanyCsvForm({
  onImported,
  submitLabel = 'Import',
}: {
  onImported: (slug: string, result: ImportResult) => Promise<void>;
  submitLabel?: string;
}) {
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const nameId = useId();
  const fileId = useId();
  return (
    <>
      <form
        className="upload"
        onSubmit={async (e) => {
          e.preventDefault();
          if (!file || !name.trim()) return;
          setBusy(true);
          setError(null);
          try {
            const r = await api.uploadCsv<ImportResult>(
              `/api/v1/tenants/${encodeURIComponent(name.trim())}/imports`,
              file,
            );
            await onImported(r.tenant.slug, r);
          } catch (err) {
            setError(err as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="field">
          <label htmlFor={nameId}>Company name</label>
          <input
            id={nameId}
            value={name}
            onChange={(e) => setName(e.target.value)}
            required
            autoComplete="organization"
          />
        </div>
        <div className="field">
          <label htmlFor={fileId}>CSV file</label>
          <input
            id={fileId}
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </div>
        <button type="submit" className="btn" disabled={!file || !name.trim() || busy}>
          {busy ? 'Importing…' : submitLabel}
        </button>
      </form>
      <ImportError error={error} />
    </>
  );
}
