import { useId, useState } from 'react';
import {
  BulkBar,
  type BulkResult,
  bulkSummary,
  bulkTarget,
  ExportLink,
  NextReminderCell,
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
import type { CustomerRow } from '../lib/types';
import type { PageProps } from '../page-props';

type Row = CustomerRow;

const PARAMS = ['q', 'sort', 'overdue', 'open', 'dunning', 'minRisk'] as const;

/** The sortable columns' labels, for the table's caption (sortCaption). */
export const CUSTOMER_SORT_LABELS = {
  name: 'Customer',
  openInvoices: 'Open invoices',
  balance: 'Open balance',
  overdue: 'Overdue',
  daysOverdue: 'Oldest overdue',
  risk: 'Risk',
  atRisk: 'Risk × open balance',
  lastContact: 'Last contact (UTC)',
  nextAction: 'Next reminder (UTC)',
} satisfies Record<string, string>;

/** "Paused until Jul 9" / "Excluded" / "" for a customer's dunning state on `today`. */
export function dunningState(c: Pick<Row, 'pausedUntil' | 'excluded'>, today: string): string {
  if (c.excluded) return 'Excluded';
  if (c.pausedUntil && c.pausedUntil >= today) return `Paused until ${formatDate(c.pausedUntil)}`;
  return '';
}

/** The ledger id shown after a customer's name, unless it is the name (a CSV ledger names customers by id). */
export function ledgerIdNote(c: { name: string; externalId: string }): string | null {
  return c.name.trim() === c.externalId.trim() ? null : c.externalId;
}

export function CustomersPage({ tenant, currency }: PageProps) {
  const state = useQueryState(PARAMS);
  const params = state.params;
  const sort = params.sort ?? 'name';
  const list = useList<Row>(tenant, 'customers', params, 100);
  const selection = useSelection(JSON.stringify(params));
  const [until, setUntil] = useState('');
  const [result, setResult] = useState('');
  const [busy, setBusy] = useState(false);
  const [bulkError, setBulkError] = useState<Error | null>(null);
  const ids = { overdue: useId(), dunning: useId(), until: useId() };
  const work = canWork();
  const today = new Date().toISOString().slice(0, 10);
  const totals = list.answer?.totals as { openBalanceMinor: number; overdueMinor: number } | undefined;
  const pageIds = list.rows.map((r) => r.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selection.sel.ids.has(id));
  const onSort = (s: string) => state.set({ sort: s });

  const bulk = async (action: 'pause' | 'resume' | 'exclude' | 'include' | 'send_statement') => {
    setBusy(true);
    setBulkError(null);
    try {
      const r = await api.post<BulkResult>(apiPath(tenant, 'customers/bulk'), {
        action,
        ...bulkTarget(selection.sel, params),
        ...(action === 'pause' ? { until } : {}),
      });
      const verb = {
        pause: 'customers paused',
        resume: 'customers resumed',
        exclude: 'customers excluded',
        include: 'customers included again',
        // A statement someone asks for still waits for a reviewer (Approvals) before it is sent.
        send_statement: 'statements of account created, waiting for approval',
      }[action];
      setResult(bulkSummary(r, verb));
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
        title="Customers"
        subtitle="Balances, overdue amounts, risk and the next reminder per customer"
        actions={<ExportLink tenant={tenant} resource="customers" params={params} />}
      />
      <search className="filters" aria-label="Filter customers">
        <SearchBox
          label="Search"
          placeholder="Name, ID or email"
          value={params.q ?? ''}
          onSearch={(q) => state.set({ q: q || null })}
        />
        <div className="field">
          <label htmlFor={ids.overdue}>Balance</label>
          <select
            id={ids.overdue}
            value={params.overdue === 'true' ? 'overdue' : params.open === 'true' ? 'open' : ''}
            onChange={(e) =>
              state.set({
                overdue: e.target.value === 'overdue' ? 'true' : null,
                open: e.target.value === 'open' ? 'true' : null,
              })
            }
          >
            <option value="">Any</option>
            <option value="open">With an open balance</option>
            <option value="overdue">With an overdue balance</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.dunning}>Reminders</label>
          <select
            id={ids.dunning}
            value={params.dunning ?? ''}
            onChange={(e) => state.set({ dunning: e.target.value || null })}
          >
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="paused">Paused</option>
            <option value="excluded">Excluded</option>
          </select>
        </div>
      </search>
      {list.answer && totals ? (
        <p className="list-totals" data-testid="list-totals">
          <span>
            <strong>{list.answer.total}</strong> customers · open{' '}
            <strong>{formatMoney(totals.openBalanceMinor, currency)}</strong> · overdue{' '}
            {formatMoney(totals.overdueMinor, currency)}
          </span>
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
            ? 'Loading customers'
            : `${list.rows.length} of ${list.answer?.total ?? 0} customers shown`)}
      </div>
      {work ? (
        <BulkBar
          sel={selection.sel}
          shown={list.rows.length}
          total={list.answer?.total ?? 0}
          noun="customers"
          onAllMatching={selection.selectAllMatching}
          onClear={selection.clear}
        >
          <div className="field">
            <label htmlFor={ids.until}>Pause until</label>
            <input id={ids.until} type="date" value={until} onChange={(e) => setUntil(e.target.value)} />
          </div>
          <button type="button" className="btn" disabled={busy || !until} onClick={() => bulk('pause')}>
            Pause
          </button>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => bulk('resume')}>
            Resume
          </button>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => bulk('exclude')}>
            Exclude
          </button>
          <button type="button" className="btn btn-secondary" disabled={busy} onClick={() => bulk('include')}>
            Include
          </button>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={busy}
            title="One statement of account per customer, listing its open invoices; a reviewer approves it before it is sent"
            onClick={() => bulk('send_statement')}
          >
            Send statement
          </button>
        </BulkBar>
      ) : null}
      {list.rows.length > 0 ? (
        <div className="table-wrap">
          <table className="table list-table" data-testid="customer-list">
            <caption className="sr-only">{sortCaption('Customers', sort, CUSTOMER_SORT_LABELS)}</caption>
            <thead>
              <tr>
                {work ? (
                  <th scope="col" className="check">
                    <input
                      type="checkbox"
                      aria-label="Select all customers on this page"
                      checked={allOnPage}
                      onChange={(e) => selection.setPage(pageIds, e.target.checked)}
                    />
                  </th>
                ) : null}
                <SortHeader label={CUSTOMER_SORT_LABELS.name} sortKey="name" sort={sort} onSort={onSort} />
                <th scope="col">Email</th>
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.openInvoices}
                  sortKey="openInvoices"
                  sort={sort}
                  onSort={onSort}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.balance}
                  sortKey="balance"
                  sort={sort}
                  onSort={onSort}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.overdue}
                  sortKey="overdue"
                  sort={sort}
                  onSort={onSort}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.daysOverdue}
                  sortKey="daysOverdue"
                  sort={sort}
                  onSort={onSort}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.risk}
                  sortKey="risk"
                  sort={sort}
                  onSort={onSort}
                  className="num"
                  firstDesc
                />
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.lastContact}
                  sortKey="lastContact"
                  sort={sort}
                  onSort={onSort}
                  firstDesc
                />
                <SortHeader
                  label={CUSTOMER_SORT_LABELS.nextAction}
                  sortKey="nextAction"
                  sort={sort}
                  onSort={onSort}
                />
                <th scope="col">Reminders</th>
              </tr>
            </thead>
            <tbody>
              {list.rows.map((c) => (
                <tr key={c.id} aria-selected={selection.sel.allMatching || selection.sel.ids.has(c.id)}>
                  {work ? (
                    <td className="check">
                      <input
                        type="checkbox"
                        aria-label={`Select ${c.name}`}
                        checked={selection.sel.allMatching || selection.sel.ids.has(c.id)}
                        onChange={() => selection.toggle(c.id)}
                      />
                    </td>
                  ) : null}
                  <th scope="row" className="name-cell">
                    <Link href={`/customers/${encodeURIComponent(c.id)}`}>{c.name}</Link>
                    {ledgerIdNote(c) ? (
                      <>
                        {' '}
                        <span className="muted small mono">{ledgerIdNote(c)}</span>
                      </>
                    ) : null}
                  </th>
                  <td className="email-cell">{c.contactEmails?.[0] ?? c.emails[0] ?? '—'}</td>
                  <td className="num">{c.openInvoices}</td>
                  <td className="num">
                    {formatMoney(c.openBalanceMinor, currency)}
                    {c.otherCurrencies?.length ? (
                      <span className="muted small" data-testid="other-currencies">
                        {' '}
                        + open in {c.otherCurrencies.join(', ')}
                      </span>
                    ) : null}
                  </td>
                  <td className="num">{c.overdueMinor > 0 ? formatMoney(c.overdueMinor, currency) : '—'}</td>
                  <td className="num">{c.maxDaysOverdue > 0 ? `${c.maxDaysOverdue} d` : '—'}</td>
                  <td className="num">
                    {c.riskScore === null ? '—' : c.riskScore}
                    {c.slowingAlert ? <span className="muted small"> slowing</span> : null}
                  </td>
                  <td>{formatDate(c.lastContactAt?.slice(0, 10))}</td>
                  <NextReminderCell at={c.nextActionAt} waits={c.nextActionWaits} />
                  <td>
                    {dunningState(c, today) ? (
                      <Badge value="medium" label={dunningState(c, today)} />
                    ) : (
                      'Active'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {!list.loading && !list.error && list.rows.length === 0 ? <Empty>No customers match.</Empty> : null}
      {list.loading ? <Loading label="Loading customers…" /> : null}
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
