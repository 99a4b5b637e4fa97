/**
 * The dashboard's answer cache: per (tenant, day, query) until the tenant's change marker moves (a sync run or
 * import starts or finishes; a scoring run) or for at most `ttlMs`; concurrent identical requests share one
 * computation, and a failed computation is not kept. The change marker and the tenant row are re-read at most once
 * per `checkMs` per tenant, so under load a cached answer costs no query. Time comes from `clock` (elapsed time,
 * not the business date: a frozen demo or test clock must not freeze the cache, so the route uses the system
 * clock, tests may pass a ManualClock).
 */
import { type Clock, systemClock } from '../clock';

export interface AnalyticsCacheOptions {
  clock?: Clock;
  ttlMs?: number;
  checkMs?: number;
  /** Entries per map before the oldest is dropped. */
  maxEntries?: number;
}

interface Timed<T> {
  at: number;
  value: Promise<T>;
}

/** A memo of promises re-made after `everyMs`; a rejected promise is forgotten. */
function throttled<T>(now: () => number, everyMs: number, maxEntries: number) {
  const map = new Map<string, Timed<T>>();
  return (key: string, load: () => Promise<T>): Promise<T> => {
    const t = now();
    let hit = map.get(key);
    if (!hit || t - hit.at >= everyMs) {
      hit = { at: t, value: load() };
      map.set(key, hit);
      if (map.size > maxEntries) map.delete(map.keys().next().value!);
      hit.value.catch(() => map.delete(key));
    }
    return hit.value;
  };
}

export function createAnalyticsCache(opts: AnalyticsCacheOptions = {}) {
  const clock = opts.clock ?? systemClock;
  const ttlMs = opts.ttlMs ?? 60_000;
  const checkMs = opts.checkMs ?? 1_000;
  const maxEntries = opts.maxEntries ?? 1000;
  const now = () => clock.now().getTime();
  const entries = new Map<string, { version: string; at: number; value: Promise<string> }>();
  return {
    /** A tenant row by reference, re-read at most once per `checkMs` (settings changes show within it). */
    tenant: throttled<unknown>(now, checkMs, maxEntries) as <T>(
      ref: string,
      load: () => Promise<T>,
    ) => Promise<T>,
    /** The tenant's change marker, re-read at most once per `checkMs`. */
    version: throttled<string>(now, checkMs, Number.POSITIVE_INFINITY),
    /** The serialized answer for `key` at `version`, computed by `compute` when missing, stale or expired. */
    answer(key: string, version: string, compute: () => Promise<string>): Promise<string> {
      const t = now();
      let entry = entries.get(key);
      if (!entry || entry.version !== version || t - entry.at > ttlMs) {
        entry = { version, at: t, value: compute() };
        entries.set(key, entry);
        if (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
        // A failed computation is not cached.
        entry.value.catch(() => entries.delete(key));
      }
      return entry.value;
    },
  };
}

export type AnalyticsCache = ReturnType<typeof createAnalyticsCache>;
