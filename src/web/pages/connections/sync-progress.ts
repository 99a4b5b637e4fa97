/**
 * The Connections page's sync logic without React: how far a running sync is (for the progress bar), what to say
 * when it finished, and whether the page should keep polling. Progress comes from sync_runs.progress
 * (src/sync/run-sync.ts): per entity kind, pages and rows read so far and whether the kind is done; a full sync reads
 * the kinds one after another, an incremental one (CDC) reads them all at once.
 */
import type { Connection, SyncRunView } from '../../lib/types';

/** The kinds in the order a full sync reads them (SYNC_KINDS in src/sync/run-sync.ts), with their display names. */
export const KINDS: readonly { key: string; label: string }[] = [
  { key: 'customers', label: 'customers' },
  { key: 'invoices', label: 'invoices' },
  { key: 'creditMemos', label: 'credit memos' },
  { key: 'payments', label: 'payments' },
];

export interface ProgressView {
  /** A bar with a value (determinate), or one that only says "working" (indeterminate). */
  determinate: boolean;
  value: number;
  max: number;
  /** 0–100, rounded; null when indeterminate. */
  percent: number | null;
  /** Rows read so far, all kinds. */
  rows: number;
  /** The kind being read now (full sync), e.g. "invoices". */
  current: string | null;
  /** What a screen reader says (aria-valuetext) and the line under the bar. */
  text: string;
}

const n = (v: number) => v.toLocaleString('en-US');

type Entities = SyncRunView['progress']['entities'];

function kindsOf(entities: Entities): { key: string; label: string }[] {
  const extra = Object.keys(entities)
    .filter((k) => !KINDS.some((x) => x.key === k))
    .map((k) => ({ key: k, label: k }));
  return [...KINDS, ...extra];
}

/**
 * The bar for a connection: `run` is its running sync (null while the sync is queued but not started).
 * Determinate where totals are known: by rows when every kind reports a total, else (full sync) by kinds done;
 * an incremental sync reads everything in one go, so its bar is indeterminate with counts.
 */
export function syncProgressView(run: Pick<SyncRunView, 'kind' | 'progress'> | null): ProgressView {
  if (!run) {
    return {
      determinate: false,
      value: 0,
      max: 0,
      percent: null,
      rows: 0,
      current: null,
      text: 'Waiting for the sync to start…',
    };
  }
  const entities = run.progress?.entities ?? {};
  const kinds = kindsOf(entities);
  const rows = kinds.reduce((a, k) => a + (entities[k.key]?.rows ?? 0), 0);
  const counts = kinds
    .filter((k) => (entities[k.key]?.rows ?? 0) > 0)
    .map((k) => `${n(entities[k.key]?.rows ?? 0)} ${k.label}`);
  const countText = counts.length ? counts.join(', ') : 'nothing read yet';
  const withTotals = kinds.filter((k) => entities[k.key] !== undefined);
  const totalsKnown =
    withTotals.length > 0 && withTotals.every((k) => typeof entities[k.key]?.total === 'number');
  if (totalsKnown) {
    const max = withTotals.reduce((a, k) => a + (entities[k.key]?.total ?? 0), 0);
    const value = withTotals.reduce(
      (a, k) => a + Math.min(entities[k.key]?.rows ?? 0, entities[k.key]?.total ?? 0),
      0,
    );
    const percent = max > 0 ? Math.round((value / max) * 100) : 100;
    return {
      determinate: true,
      value,
      max,
      percent,
      rows,
      current: null,
      text: `${n(value)} of ${n(max)} records (${percent}%): ${countText}`,
    };
  }
  if (run.kind === 'full') {
    const order = kinds;
    const done = order.filter((k) => entities[k.key]?.done).length;
    const current = order.find((k) => !entities[k.key]?.done)?.label ?? null;
    const percent = Math.round((done / order.length) * 100);
    return {
      determinate: true,
      value: done,
      max: order.length,
      percent,
      rows,
      current,
      text: `${done} of ${order.length} kinds done${current ? `, reading ${current}` : ''}: ${countText}`,
    };
  }
  return {
    determinate: false,
    value: 0,
    max: 0,
    percent: null,
    rows,
    current: null,
    text: `Reading changes: ${countText}`,
  };
}

/** "Sync finished: 20 customers, 200 invoices, 14 credit memos, 160 payments." (or why it did not). */
export function syncFinishedMessage(
  run: Pick<SyncRunView, 'status' | 'stats' | 'progress' | 'error'>,
): string {
  if (run.status !== 'succeeded') return `Sync failed: ${run.error ?? 'unknown error'}`;
  const entities = run.progress?.entities ?? {};
  const parts = KINDS.map((k) => {
    const v = typeof run.stats?.[k.key] === 'number' ? run.stats[k.key]! : (entities[k.key]?.rows ?? 0);
    return `${n(v)} ${k.label}`;
  });
  return `Sync finished: ${parts.join(', ')}.`;
}

/**
 * A sync is pending for a connection while it runs, while the first one after connecting has not started yet, or
 * while one the user asked for (`requestedAfter` = the id of the last run at the time, null for none) has not
 * finished.
 */
export function syncPending(c: Connection, requestedAfter?: string | null): boolean {
  // A run still being recorded counts whatever the status (a rejected grant marks the connection first).
  if (c.runningSync) return true;
  if (c.status !== 'active') return false;
  if (!c.lastRun && !c.lastSyncAt) return true;
  return requestedAfter !== undefined && (c.lastRun?.id ?? null) === requestedAfter;
}

/**
 * The run that finished between two polls of a connection the page was watching (it was pending before), or null.
 */
export function finishedRun(before: Connection, after: Connection): SyncRunView | null {
  if (after.runningSync || !after.lastRun) return null;
  if (before.lastRun?.id === after.lastRun.id) return null;
  return after.lastRun;
}

/**
 * "Sync now" refused because the connection changed since the page loaded it (409: another call of Duely's found
 * the grant revoked and marked it "reconnect needed", or it was disconnected): what the row says. The page then
 * reloads the list, so the reconnect prompt replaces the stale "Sync now". Null for any other error (a banner).
 */
export function syncRefusedMessage(err: { status: number; code: string; message: string }): string | null {
  if (err.status !== 409 || !['reconnect_needed', 'disconnected'].includes(err.code)) return null;
  return `Sync failed: ${err.message}`;
}

/**
 * A sync the user asked for that will not run: between two polls the connection stopped being active with no run
 * finished and none running (a background call of Duely's met the revoked grant first and marked it, or it was
 * disconnected elsewhere; the worker then skips the queued sync without recording a run). What the row says, so the
 * click is answered; null when a run finished (syncFinishedMessage says it) or the connection is still active.
 */
export function syncOvertakenMessage(before: Connection, after: Connection): string | null {
  if (before.status !== 'active' || after.status === 'active' || after.runningSync) return null;
  if (finishedRun(before, after)) return null;
  return after.status === 'reconnect_needed'
    ? 'Sync failed: the ledger no longer accepts Duely’s access to this company. Reconnect to sync.'
    : 'Sync failed: the connection was disconnected before the sync started.';
}
