/**
 * Gives memory back to the operating system once the process has gone quiet.
 *
 * V8 grows its young generation while a process starts (and during any burst of work) to as much as 128 MiB on
 * Node 24 with a multi-GB heap limit, and frees garbage lazily; nothing shrinks either again while the process
 * sits idle, because V8's memory reducer is only armed by events an idle server never produces. Measured on
 * `duely serve` (Postgres, role all, 2026-12-04): 267–282 MiB resident at idle, of which ~120 MiB was the
 * grown young generation; one memory-reducing collection brought it to 146 MiB. This does that collection when
 * the event loop was mostly idle for a whole check interval and the resident size grew by `growthBytes` since the
 * last trim (so a process whose memory cannot shrink further, e.g. PGlite's WASM heap, is not collected again
 * and again). It costs one full collection (~0.1–0.4 s of CPU) per quiet period after growth.
 */
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';

export type FullGc = () => void;

/**
 * A full, memory-reducing collection (V8's "last resort" flavour shrinks the young generation and returns free
 * pages), or null when this V8 cannot expose it. Uses `globalThis.gc` when the process was started with
 * --expose-gc, else turns that flag on and takes `gc` from a fresh context (the flag only affects contexts
 * created afterwards).
 */
export function resolveFullGc(): FullGc | null {
  type GcFn = (opts?: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  let gc = (globalThis as { gc?: GcFn }).gc;
  if (typeof gc !== 'function') {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as GcFn;
    } catch {
      return null;
    }
  }
  if (typeof gc !== 'function') return null;
  const fn = gc;
  return () => fn({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export interface IdleTrimDeps {
  gc: FullGc;
  /** Resident set size in bytes now. */
  rss: () => number;
  /** Event-loop utilization (0–1) since the previous call (the first call: since this trimmer was made). */
  utilization: () => number;
}

export interface IdleTrimOptions {
  /**
   * Below this event-loop utilization over a check interval the process counts as quiet (default 0.25: an idle
   * PGlite server spends 8–24 % of its loop on pg-boss's polling through the in-process database under load).
   */
  idleUtilization?: number;
  /** Collect only when the resident size grew this much since the last collection (bytes). */
  growthBytes?: number;
  onTrim?: (before: number, after: number) => void;
}

/** The decision, separate from timers so it can be tested step by step: `check()` is one interval's look. */
export function idleTrimmer(deps: IdleTrimDeps, opts: IdleTrimOptions = {}) {
  const idleUtilization = opts.idleUtilization ?? 0.25;
  const growthBytes = opts.growthBytes ?? 32 * 1024 * 1024;
  // The first quiet interval after start trims: the start's garbage and grown young generation are all surplus.
  let afterLastTrim = 0;
  return {
    /** One check; true when it collected. */
    check(): boolean {
      const utilization = deps.utilization();
      const before = deps.rss();
      if (utilization >= idleUtilization || before < afterLastTrim + growthBytes) return false;
      deps.gc();
      afterLastTrim = deps.rss();
      opts.onTrim?.(before, afterLastTrim);
      return true;
    },
  };
}

/**
 * Checks every `intervalMs` (unref'd: never keeps the process alive) and trims when idle; returns a stop
 * function. A no-op when no full collection is available.
 */
export function startIdleTrim(opts: IdleTrimOptions & { intervalMs?: number } = {}): () => void {
  const gc = resolveFullGc();
  if (!gc) return () => {};
  let last = performance.eventLoopUtilization();
  const trimmer = idleTrimmer(
    {
      gc,
      rss: () => process.memoryUsage.rss(),
      utilization: () => {
        const now = performance.eventLoopUtilization();
        const { utilization } = performance.eventLoopUtilization(now, last);
        last = now;
        return utilization;
      },
    },
    opts,
  );
  const timer = setInterval(() => trimmer.check(), opts.intervalMs ?? 5_000);
  timer.unref();
  return () => clearInterval(timer);
}
