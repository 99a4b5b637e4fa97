/**
 * What the list pages (Invoices, Customers, Messages, Approvals, Call list) share: filters, search and sort in the
 * URL; server-side pages with the filtered `total`; sortable column headers; a CSV export of exactly the filtered
 * set; and selection for bulk actions ("these rows" or "all N matching").
 */
import { type ReactNode, useEffect, useId, useRef, useState } from 'react';
import { api, apiPath } from '../lib/api';
import { formatDate } from '../lib/format';
import { navigate, useLocation } from '../lib/router';
import './list.css';

export type Params = Record<string, string>;

export interface ListAnswer<T> {
  items: T[];
  nextCursor: string | null;
  total: number;
  [extra: string]: unknown;
}

/** The URL's query as list parameters (only the names the page knows). */
export function paramsFrom(search: URLSearchParams, names: readonly string[], defaults: Params = {}): Params {
  const out: Params = {};
  for (const n of names) {
    const v = search.get(n) ?? defaults[n];
    if (v) out[n] = v;
  }
  return out;
}

/** Sets (or clears) query parameters on the current page; a new filter starts from the first page. */
export function setQuery(
  pathname: string,
  search: URLSearchParams,
  changes: Record<string, string | null>,
): void {
  const q = new URLSearchParams(search);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const qs = q.toString();
  navigate(`${pathname}${qs ? `?${qs}` : ''}`);
}

/** Loads the first page for `params` and more on demand; only the latest request may fill the rows. */
export function useList<T>(tenant: string, resource: string, params: Params, pageSize = 50) {
  const [answer, setAnswer] = useState<ListAnswer<T> | null>(null);
  const [rows, setRows] = useState<T[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  const key = JSON.stringify(params);
  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for params; tick forces a reload
  useEffect(() => {
    const request = ++latest.current;
    setLoading(true);
    setError(null);
    api.get<ListAnswer<T>>(apiPath(tenant, resource, { ...params, limit: pageSize })).then(
      (a) => {
        if (request !== latest.current) return;
        setAnswer(a);
        setRows(a.items);
        setLoading(false);
      },
      (e: Error) => {
        if (request !== latest.current) return;
        setAnswer(null);
        setRows([]);
        setError(e);
        setLoading(false);
      },
    );
  }, [tenant, resource, key, tick, pageSize]);

  const loadMore = async () => {
    if (!answer?.nextCursor) return;
    const request = latest.current;
    setLoading(true);
    try {
      const a = await api.get<ListAnswer<T>>(
        apiPath(tenant, resource, { ...params, limit: pageSize, cursor: answer.nextCursor }),
      );
      if (request !== latest.current) return;
      setRows((r) => [...r, ...a.items]);
      // A list read in pages was read as of its first page (`listedAt` and `listedSnapshot`, where a list gives them).
      setAnswer((prev) =>
        prev && 'listedAt' in prev
          ? {
              ...a,
              listedAt: prev.listedAt,
              ...('listedSnapshot' in prev ? { listedSnapshot: prev.listedSnapshot } : {}),
            }
          : a,
      );
    } catch (e) {
      setError(e as Error);
    } finally {
      setLoading(false);
    }
  };
  /**
   * Rows done with on the page (a task closed, a message approved): gone from the list, and from its `total`, so a
   * count above the list follows ("Open tasks (1)" stayed over an empty list).
   */
  const drop = (gone: (row: T) => boolean) => {
    const removed = rows.filter(gone).length;
    if (removed === 0) return;
    setRows((xs) => xs.filter((x) => !gone(x)));
    setAnswer((a) => (a ? { ...a, total: Math.max(0, a.total - removed) } : a));
  };
  return {
    answer,
    rows,
    setRows,
    drop,
    loading,
    error,
    hasMore: Boolean(answer?.nextCursor),
    loadMore,
    reload: () => setTick((t) => t + 1),
  };
}

/** A column header that sorts the list on the server: first click ascending (or `firstDesc`), then the other way. */
/**
 * A sorted table's hidden caption in the columns' words: "Invoices, sorted by Days late, descending", never the
 * API's field name ("sorted by daysOverdue"). A sort no column shows (a link's ?sort=issueDate) is spelt out in words.
 */
export function sortCaption(noun: string, sort: string, labels: Readonly<Record<string, string>>): string {
  const key = sort.replace(/^-/, '');
  const label = labels[key] ?? key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return `${noun}, sorted by ${label}, ${sort.startsWith('-') ? 'descending' : 'ascending'}`;
}

export function SortHeader({
  label,
  sortKey,
  sort,
  onSort,
  className,
  firstDesc = false,
}: {
  label: string;
  sortKey: string;
  sort: string;
  onSort: (sort: string) => void;
  className?: string;
  firstDesc?: boolean;
}) {
  const active = sort.replace(/^-/, '') === sortKey;
  const desc = active && sort.startsWith('-');
  const next = active ? (desc ? sortKey : `-${sortKey}`) : firstDesc ? `-${sortKey}` : sortKey;
  return (
    <th scope="col" className={className} aria-sort={active ? (desc ? 'descending' : 'ascending') : 'none'}>
      <button type="button" className="sort-button" onClick={() => onSort(next)} data-sort={sortKey}>
        {label}
        <span aria-hidden="true" className="sort-mark">
          {active ? (desc ? ' ▼' : ' ▲') : ''}
        </span>
      </button>
    </th>
  );
}

/** A search box that applies as you type (after a short pause) and on Enter. */
export function SearchBox({
  value,
  onSearch,
  label,
  placeholder,
}: {
  value: string;
  onSearch: (q: string) => void;
  label: string;
  placeholder?: string;
}) {
  const [text, setText] = useState(value);
  const id = useId();
  const applied = useRef(value);
  useEffect(() => {
    setText(value);
    applied.current = value;
  }, [value]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: onSearch changes every render
  useEffect(() => {
    if (text.trim() === applied.current) return;
    const t = setTimeout(() => {
      applied.current = text.trim();
      onSearch(text.trim());
    }, 300);
    return () => clearTimeout(t);
  }, [text]);
  return (
    <div className="field field-search">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="search"
        value={text}
        placeholder={placeholder}
        autoComplete="off"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            applied.current = text.trim();
            onSearch(text.trim());
          }
        }}
      />
    </div>
  );
}

/** A download of exactly the filtered set (every matching row, not just this page). */
export function ExportLink({
  tenant,
  resource,
  params,
  label = 'Export CSV',
}: {
  tenant: string;
  resource: string;
  params: Params;
  label?: string;
}) {
  const { sort, ...rest } = params;
  return (
    <a
      className="btn btn-secondary"
      href={apiPath(tenant, resource, { ...rest, sort, format: 'csv' })}
      download
      data-testid="export-csv"
    >
      {label}
    </a>
  );
}

export interface Selection {
  ids: Set<string>;
  /** "All N matching": the bulk action names the filter, not the ids. */
  allMatching: boolean;
}

export function useSelection(resetKey: string) {
  const [sel, setSel] = useState<Selection>({ ids: new Set(), allMatching: false });
  // A new filter or sort clears the selection: it named rows of another list.
  // biome-ignore lint/correctness/useExhaustiveDependencies: resetKey is the trigger
  useEffect(() => setSel({ ids: new Set(), allMatching: false }), [resetKey]);
  return {
    sel,
    toggle: (id: string) =>
      setSel((s) => {
        const ids = new Set(s.ids);
        if (ids.has(id)) ids.delete(id);
        else ids.add(id);
        return { ids, allMatching: false };
      }),
    setPage: (ids: string[], on: boolean) =>
      setSel({ ids: on ? new Set(ids) : new Set(), allMatching: false }),
    selectAllMatching: () => setSel((s) => ({ ...s, allMatching: true })),
    clear: () => setSel({ ids: new Set(), allMatching: false }),
  };
}

/** The body of a bulk request for the selection. */
export function bulkTarget(sel: Selection, params: Params): { ids: string[] } | { filter: Params } {
  if (sel.allMatching) {
    const { sort: _sort, cursor: _cursor, ...filter } = params;
    return { filter };
  }
  return { ids: [...sel.ids] };
}

/** The bar above a list with a selection: how many, "select all N matching", the actions, and the last result. */
export function BulkBar({
  sel,
  shown,
  total,
  noun,
  onAllMatching,
  onClear,
  children,
}: {
  sel: Selection;
  shown: number;
  total: number;
  noun: string;
  onAllMatching: () => void;
  onClear: () => void;
  children: ReactNode;
}) {
  const count = sel.allMatching ? total : sel.ids.size;
  if (count === 0) return null;
  return (
    <section className="bulk-bar" aria-label="Bulk actions" data-testid="bulk-bar">
      <span>
        <strong>{count}</strong> {noun} selected{sel.allMatching ? ' (all matching)' : ''}
      </span>
      {!sel.allMatching && sel.ids.size >= shown && total > shown ? (
        <button type="button" className="btn btn-ghost" onClick={onAllMatching}>
          Select all {total} matching
        </button>
      ) : null}
      <button type="button" className="btn btn-ghost" onClick={onClear}>
        Clear selection
      </button>
      <div className="bulk-actions">{children}</div>
    </section>
  );
}

export interface BulkResult {
  requested: number;
  applied: number;
  notApplied: { id: string; reason: string }[];
}

/** "12 approved; 2 left as they were: 1 is skipped, not awaiting approval; …" */
export function bulkSummary(r: BulkResult, verb: string): string {
  const left = r.notApplied.length;
  if (left === 0) return `${r.applied} ${verb}.`;
  const reasons = Map.groupBy(r.notApplied, (n) => n.reason);
  const why = [...reasons.entries()].map(([reason, xs]) => `${xs.length} ${reason}`).join('; ');
  return `${r.applied} ${verb}; ${left} left as they were (${why}).`;
}

/** Pages through the setQuery for one page's path. */
export function useQueryState(names: readonly string[], defaults: Params = {}) {
  const { pathname, search } = useLocation();
  const params = paramsFrom(search, names, defaults);
  return {
    params,
    search,
    set: (changes: Record<string, string | null>) => setQuery(pathname, search, changes),
  };
}

/**
 * The lists' "Next reminder" cell: its day, and what it waits for when a person must act first (a reviewer's
 * approval, or a newer upload of a CSV company's ledger): its send time may then be past, and the cell says why.
 */
export function NextReminderCell({ at, waits }: { at: string | null; waits: 'approval' | 'upload' | null }) {
  return (
    <td>
      {formatDate(at?.slice(0, 10))}
      {waits ? (
        // A second, smaller line: the column stays as wide as its dates (the lists fit 1280 px without scrolling).
        <div
          className="muted next-waits"
          data-testid="next-reminder-waits"
          title={
            waits === 'approval'
              ? 'It goes once a reviewer approves it'
              : 'It goes once the company uploads a newer export of its ledger'
          }
        >
          {waits === 'approval' ? 'needs approval' : 'needs an upload'}
        </div>
      ) : null}
    </td>
  );
}
