/**
 * Client-side throttle per realm so we stay under Intuit's limits instead of collecting 429s: at most 10 requests
 * in flight and 500 started per rolling minute per realm and app.
 * https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
 */
import { abortError } from './abortable-sleep';

export interface RealmLimits {
  concurrency: number;
  perMinute: number;
}

export const QBO_LIMITS: RealmLimits = { concurrency: 10, perMinute: 500 };
const MINUTE_MS = 60_000;

export class RealmLimiter {
  private active = 0;
  private readonly starts: number[] = [];
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly limits: RealmLimits = QBO_LIMITS,
    private readonly clock: () => number = () => Date.now(),
  ) {}

  /** Runs `task` once a slot is free under both limits. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const now = this.clock();
      while (this.starts.length > 0 && (this.starts[0] ?? 0) <= now - MINUTE_MS) this.starts.shift();
      if (this.active < this.limits.concurrency && this.starts.length < this.limits.perMinute) {
        this.active++;
        this.starts.push(now);
        return;
      }
      // Wait for a finishing request, or for the oldest start to leave the rolling minute.
      const windowWait =
        this.starts.length >= this.limits.perMinute ? (this.starts[0] ?? now) + MINUTE_MS - now : null;
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          cleanup();
          resolve();
        };
        const onAbort = () => {
          cleanup();
          reject(abortError(signal as AbortSignal));
        };
        const timer = windowWait === null ? null : setTimeout(wake, Math.max(windowWait, 1));
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          signal?.removeEventListener('abort', onAbort);
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

const limiters = new Map<string, RealmLimiter>();

/** The process-wide limiter of one realm, shared by every client built for it. */
export function limiterForRealm(realmId: string): RealmLimiter {
  let limiter = limiters.get(realmId);
  if (!limiter) {
    limiter = new RealmLimiter();
    limiters.set(realmId, limiter);
  }
  return limiter;
}
