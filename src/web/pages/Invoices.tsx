import { useId, useState } from 'react';
import { riskLabel, riskTitle } from '../components/InvoiceTable';
import {
  BulkBar,
  type BulkResult,
  bulkSummary,
  bulkTarget,
  ExportLink,
  NextReminderCell,
  type Params,
  SearchBox,
  SortHeader,
  sortCaption,
  useList,
  useQueryState,
  useSelection,
} from '../components/list';
import { Badge, Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { api, apiPath, canWork } from '../lib/api';
import { formatDate, formatMoney } from '../lib/format';
import { navigate } from '../lib/router';
import type { InvoiceRow, Prediction } from '../lib/types';
import type { PageProps } from '../page-props';

/** The sortable columns' labels, for the table's caption (sortCaption). */
export const INVOICE_SORT_LABELS = {
  number: 'Invoice',
  customer: 'Customer',
  dueDate: 'Due',
  total: 'Amount',
  balance: 'Open',
  status: 'Status',
  daysOverdue: 'Days late',
  paidDate: 'Paid',
  lastReminder: 'Last reminder',
  nextReminder: 'Next reminder',
  risk: 'Risk',
} satisfies Record<string, string>;

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
      ? {
          ...r,
          pLate: r.pLate ?? p.pLate,
          riskBand: r.riskBand ?? p.riskBand,
          predictedPayDate: r.predictedPayDate ?? p.predictedPayDate,
          pCollect30: r.pCollect30 ?? p.pCollect30,
          pCollect90: r.pCollect90 ?? p.pCollect90,
        }
      : r;
  });
}

/** Query parameters the page passes through to the API (the dashboard's drill-downs use the date ones). */
const PARAMS = [
  'status',
  'overdue',
  'customer',
  'q',
  'sort',
  'aging',
  'currency',
  'dueFrom',
  'dueTo',
  'issuedFrom',
  'issuedTo',
  'expectedFrom',
  'expectedTo',
  'risk',
  'disputed',
] as const;

/** How a drill-down filter reads in the "Filtered by" line. */
const CHIP_LABEL: Record<string, string> = {
  customer: 'Customer',
  aging: 'Aging',
  currency: 'Currency',
  dueFrom: 'Due from',
  dueTo: 'Due to',
  issuedFrom: 'Issued from',
  issuedTo: 'Issued to',
  expectedFrom: 'Expected from',
  expectedTo: 'Expected to',
  risk: 'Risk',
  disputed: 'Disputed',
};

interface Row extends InvoiceRow {
  customerName: string;
  disputed: boolean;
  lastReminderAt: string | null;
  nextReminderAt: string | null;
  nextReminderWaits: 'approval' | 'upload' | null;
}
interface Totals {
  currency: string;
  count: number;
  totalMinor: number;
  balanceMinor: number;
  overdueMinor: number;
}

export function InvoicesPage({ tenant }: PageProps) {
  const state = useQueryState(PARAMS);
  const filters = filtersFromSearch(state.search);
  const params: Params = { ...state.params, status: filters.status || 'all' };
  const sort = params.sort ?? 'dueDate';
  const list = useList<Row>(tenant, 'invoices', params);
  const selection = useSelection(JSON.stringify(params));
  const [result, setResult] = useState<string>('');
  const [busy, setBusy] = useState(false);
  const [bulkError, setBulkError] = useState<Error | null>(null);
  const ids = { status: useId(), overdue: useId() };
  const work = canWork();
  const totals = (list.answer?.totals as Totals[] | undefined) ?? [];
  // Open invoices have no paid date: the column would only push Risk past the right edge at 1280 px.
  const showPaid = filters.status !== 'open';
  const chips = Object.keys(CHIP_LABEL).filter((k) => state.params[k]);
  const pageIds = list.rows.map((r) => r.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selection.sel.ids.has(id));

  const bulk = async (action: 'dispute' | 'resolve') => {
    setBusy(true);
    setBulkError(null);
    try {
      const r = await api.post<BulkResult>(apiPath(tenant, 'invoices/bulk'), {
        action,
        ...bulkTarget(selection.sel, params),
      });
      setResult(bulkSummary(r, action === 'dispute' ? 'marked disputed' : 'disputes resolved'));
      selection.clear();
      list.reload();
    } catch (e) {
      setBulkError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title="Invoices"
        subtitle={
          list.answer
            ? `${list.answer.total} invoices · as of ${formatDate(list.answer.asOf as string)} (UTC)`
            : 'Invoices'
        }
        actions={<ExportLink tenant={tenant} resource="invoices" params={params} />}
      />
      <search className="filters" aria-label="Filter invoices">
        <SearchBox
          label="Search"
          placeholder="Invoice number, customer, email"
          value={state.params.q ?? ''}
          onSearch={(q) => state.set({ q: q || null })}
        />
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select
            id={ids.status}
            value={filters.status || 'all'}
            onChange={(e) => state.set({ status: e.target.value })}
          >
            <option value="all">All</option>
            <option value="open">Open</option>
            <option value="paid">Paid</option>
            <option value="void">Void</option>
            <option value="deleted">Deleted</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.overdue}>Overdue</label>
          <select
            id={ids.overdue}
            value={filters.overdue}
            onChange={(e) => state.set({ overdue: e.target.value || null })}
          >
            <option value="">Any</option>
            <option value="true">Overdue only</option>
            <option value="false">Not overdue</option>
          </select>
        </div>
        {state.search.toString() ? (
          <div className="field field-actions">
            <button type="button" className="btn btn-ghost" onClick={() => navigate('/invoices')}>
              Clear filters
            </button>
          </div>
        ) : null}
      </search>
      {chips.length ? (
        <section className="chips" aria-label="Filtered by">
          {chips.map((k) => (
            <button key={k} type="button" className="chip" onClick={() => state.set({ [k]: null })}>
              {CHIP_LABEL[k]}: {state.params[k]} <span aria-hidden="true">✕</span>
              <span className="sr-only"> (remove this filter)</span>
            </button>
          ))}
        </section>
      ) : null}
      {totals.length ? (
        <p className="list-totals" data-testid="list-totals">
          {totals.map((t) => (
            <span key={t.currency}>
              <strong>{t.count}</strong> invoices · original {formatMoney(t.totalMinor, t.currency)} · open{' '}
              <strong>{formatMoney(t.balanceMinor, t.currency)}</strong> · overdue{' '}
              {formatMoney(t.overdueMinor, t.currency)}
            </span>
          ))}
        </p>
      ) : null}
      <ErrorBanner error={list.error ?? bulkError} />
      <div
        role="status"
        aria-live="polite"
        className={result ? 'banner banner-ok' : 'sr-only'}
        data-testid="bulk-result"
      >
        {result ||
          (list.loading
            ? 'Loading invoices'
            : `${list.rows.length} of ${list.answer?.total ?? 0} invoices shown`)}
      </div>
      {work ? (
        <BulkBar
          sel={selection.sel}
          shown={list.rows.length}
          total={list.answer?.total ?? 0}
          noun="invoices"
          onAllMatching={selection.selectAllMatching}
          onClear={selection.clear}
        >
          <button type="button" className="btn" disabled={busy} onClick={() => bulk('dispute')}>
            Mark disputed
          </button>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => bulk('resolve')}>
            Resolve disputes
          </button>
        </BulkBar>
      ) : null}
      {list.rows.length > 0 ? (
        <div className="table-wrap">
          <table className="table list-table invoice-table" data-testid="invoice-list">
            <caption className="sr-only">{sortCaption('Invoices', sort, INVOICE_SORT_LABELS)}</caption>
            <thead>
              <tr>
                {work ? (
                  <th scope="col" className="check">
                    <input
                      type="checkbox"
                      aria-label="Select all invoices on this page"
                      checked={allOnPage}
                      onChange={(e) => selection.setPage(pageIds, e.target.checked)}
                    />
                  </th>
                ) : null}
                <SortHeader
                  label={INVOICE_SORT_LABELS.number}
                  sortKey="number"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.customer}
                  sortKey="customer"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.dueDate}
                  sortKey="dueDate"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.total}
                  sortKey="total"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.balance}
                  sortKey="balance"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.status}
                  sortKey="status"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.daysOverdue}
                  sortKey="daysOverdue"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                  className="num"
                  firstDesc
                />
                {showPaid ? (
                  <SortHeader
                    label={INVOICE_SORT_LABELS.paidDate}
                    sortKey="paidDate"
                    sort={sort}
                    onSort={(s) => state.set({ sort: s })}
                    firstDesc
                  />
                ) : null}
                <SortHeader
                  label={INVOICE_SORT_LABELS.lastReminder}
                  sortKey="lastReminder"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                  firstDesc
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.nextReminder}
                  sortKey="nextReminder"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                />
                <SortHeader
                  label={INVOICE_SORT_LABELS.risk}
                  sortKey="risk"
                  sort={sort}
                  onSort={(s) => state.set({ sort: s })}
                  firstDesc
                />
              </tr>
            </thead>
            <tbody>
              {list.rows.map((r) => (
                <tr key={r.id} aria-selected={selection.sel.allMatching || selection.sel.ids.has(r.id)}>
                  {work ? (
                    <td className="check">
                      <input
                        type="checkbox"
                        aria-label={`Select invoice ${r.number ?? r.externalId}`}
                        checked={selection.sel.allMatching || selection.sel.ids.has(r.id)}
                        onChange={() => selection.toggle(r.id)}
                      />
                    </td>
                  ) : null}
                  <th scope="row" className="mono">
                    {r.number ?? r.externalId}
                  </th>
                  <td data-col="customer" className="name-cell">
                    <Link href={`/customers/${encodeURIComponent(r.customerId)}`}>{r.customerName}</Link>
                  </td>
                  <td>{formatDate(r.dueDate)}</td>
                  <td className="num">{formatMoney(r.totalMinor, r.currency)}</td>
                  <td className="num">{formatMoney(r.balanceMinor, r.currency)}</td>
                  <td data-col="status">
                    {r.daysOverdue > 0 ? (
                      <Badge value="overdue" label="overdue" />
                    ) : (
                      <Badge value={r.status} />
                    )}
                    {r.disputed ? <Badge value="medium" label="disputed" /> : null}
                  </td>
                  <td className="num">{r.daysOverdue > 0 ? r.daysOverdue : '—'}</td>
                  {showPaid ? <td>{formatDate(r.paidDate)}</td> : null}
                  <td>{formatDate(r.lastReminderAt?.slice(0, 10))}</td>
                  <NextReminderCell at={r.nextReminderAt} waits={r.nextReminderWaits} />
                  <td>
                    {r.riskBand ? (
                      <span title={riskTitle(r)}>
                        <Badge value={r.riskBand} label={riskLabel(r)} />
                      </span>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {!list.loading && !list.error && list.rows.length === 0 ? (
        <Empty>No invoices match these filters.</Empty>
      ) : null}
      {list.loading ? <Loading label="Loading invoices…" /> : null}
      {list.hasMore && !list.loading ? (
        <div className="more">
          <button type="button" className="btn btn-secondary" onClick={list.loadMore}>
            Load more ({list.rows.length} of {list.answer?.total})
          </button>
        </div>
      ) : null}
    </>
  );
}
