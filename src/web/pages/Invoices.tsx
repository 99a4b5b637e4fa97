import { useEffect, useId, useState } from 'react';
import { InvoiceTable } from '../components/InvoiceTable';
import { Empty, ErrorBanner, Loading, PageHeader } from '../components/ui';
import { ApiError, api, apiPath } from '../lib/api';
import { navigate, useLocation } from '../lib/router';
import type { InvoiceRow, Prediction } from '../lib/types';
import type { PageProps } from '../nav';

interface Page {
  items: InvoiceRow[];
  nextCursor: string | null;
}

/** Filters live in the URL (shareable, back button works). Without a status the page shows open invoices. */
export function filtersFromSearch(search: URLSearchParams) {
  const status = search.get('status') ?? 'open';
  const overdue = search.get('overdue') ?? '';
  return {
    /** '' = all statuses (status=all in the URL). */
    status: ['open', 'paid', 'void', 'deleted'].includes(status) ? status : '',
    overdue: overdue === 'true' || overdue === 'false' ? overdue : '',
    customer: search.get('customer') ?? '',
  };
}

/** Joins the risk model's predictions into invoice rows (when the predictions endpoint exists and has rows). */
export function withPredictions(rows: InvoiceRow[], predictions: Map<string, Prediction>): InvoiceRow[] {
  if (predictions.size === 0) return rows;
  return rows.map((r) => {
    const p = predictions.get(r.id);
    return p && r.status === 'open'
      ? { ...r, pLate: r.pLate ?? p.pLate, riskBand: r.riskBand ?? p.riskBand, predictedPayDate: r.predictedPayDate ?? p.predictedPayDate }
      : r;
  });
}

export function InvoicesPage({ tenant }: PageProps) {
  const { search } = useLocation();
  const filters = filtersFromSearch(search);
  const [customer, setCustomer] = useState(filters.customer);
  const [rows, setRows] = useState<InvoiceRow[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [predictions, setPredictions] = useState<Map<string, Prediction>>(new Map());
  const ids = { status: useId(), overdue: useId(), customer: useId() };
  const key = `${tenant}|${filters.status}|${filters.overdue}|${filters.customer}`;

  // Predictions are optional: until the risk routes exist (404) or the tenant is scored, no risk columns.
  useEffect(() => {
    let live = true;
    api.get<{ items: Prediction[] }>(apiPath(tenant, 'predictions', { limit: 1000 })).then(
      (r) => live && setPredictions(new Map(r.items.map((p) => [p.invoiceId, p]))),
      () => live && setPredictions(new Map()),
    );
    return () => {
      live = false;
    };
  }, [tenant]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: key covers tenant and filters
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    api
      .get<Page>(
        apiPath(tenant, 'invoices', {
          status: filters.status,
          overdue: filters.overdue,
          customer: filters.customer,
          limit: 50,
        }),
      )
      .then(
        (p) => {
          if (!live) return;
          setRows(p.items);
          setNext(p.nextCursor);
          setLoading(false);
        },
        (e: Error) => {
          if (!live) return;
          setRows([]);
          setNext(null);
          setError(e instanceof ApiError && e.status === 404 ? new Error(`No customer "${filters.customer}".`) : e);
          setLoading(false);
        },
      );
    return () => {
      live = false;
    };
  }, [key]);

  const loadMore = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const p = await api.get<Page>(
        apiPath(tenant, 'invoices', {
          status: filters.status,
          overdue: filters.overdue,
          customer: filters.customer,
          limit: 50,
          cursor: next,
        }),
      );
      setRows((r) => [...r, ...p.items]);
      setNext(p.nextCursor);
    } catch (e) {
      setError(e as Error);
    } finally {
      setLoading(false);
    }
  };

  const setFilter = (name: string, value: string) => {
    const q = new URLSearchParams(search);
    if (value) q.set(name, value);
    else q.delete(name);
    const qs = q.toString();
    navigate(`/invoices${qs ? `?${qs}` : ''}`);
  };

  const shown = withPredictions(rows, predictions);
  return (
    <>
      <PageHeader title="Invoices" subtitle="Sorted by due date, oldest first" />
      <form
        className="filters"
        aria-label="Filter invoices"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter('customer', customer.trim());
        }}
      >
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select id={ids.status} value={filters.status || 'all'} onChange={(e) => setFilter('status', e.target.value)}>
            <option value="all">All</option>
            <option value="open">Open</option>
            <option value="paid">Paid</option>
            <option value="void">Void</option>
            <option value="deleted">Deleted</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.overdue}>Overdue</label>
          <select id={ids.overdue} value={filters.overdue} onChange={(e) => setFilter('overdue', e.target.value)}>
            <option value="">Any</option>
            <option value="true">Overdue only</option>
            <option value="false">Not overdue</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.customer}>Customer ID</label>
          <input
            id={ids.customer}
            value={customer}
            onChange={(e) => setCustomer(e.target.value)}
            placeholder="e.g. ACME"
            autoComplete="off"
          />
        </div>
        <div className="field field-actions">
          <button type="submit" className="btn">
            Apply
          </button>
          {filters.status !== 'open' || filters.overdue || filters.customer ? (
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => {
                setCustomer('');
                navigate('/invoices');
              }}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <ErrorBanner error={error} />
      <div aria-live="polite" className="sr-only">
        {loading ? 'Loading invoices' : `${rows.length} invoices shown`}
      </div>
      {rows.length > 0 ? <InvoiceTable rows={shown} caption="Invoices" /> : null}
      {!loading && !error && rows.length === 0 ? <Empty>No invoices match these filters.</Empty> : null}
      {loading ? <Loading label="Loading invoices…" /> : null}
      {next && !loading ? (
        <div className="more">
          <button type="button" className="btn btn-secondary" onClick={loadMore}>
            Load more
          </button>
        </div>
      ) : null}
    </>
  );
}
