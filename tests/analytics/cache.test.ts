/** The dashboard cache on a ManualClock: no real time passes. */
import { describe, expect, it } from 'vitest';
import { createAnalyticsCache } from '../../src/analytics/cache';
import { ManualClock } from '../../src/clock';

describe('analytics cache', () => {
  it('re-reads the change marker at most once a second and recomputes when it moved', async () => {
    const clock = new ManualClock('2013-07-01T00:00:00Z');
    const cache = createAnalyticsCache({ clock });
    let marker = 'v1';
    let reads = 0;
    let computed = 0;
    const version = () =>
      cache.version('t', async () => {
        reads += 1;
        return marker;
      });
    const answer = async () =>
      cache.answer('t|q', await version(), async () => {
        computed += 1;
        return `answer ${computed}`;
      });
    expect(await answer()).toBe('answer 1');
    marker = 'v2';
    clock.advance(999);
    expect(await answer()).toBe('answer 1'); // within the second: marker not re-read
    expect(reads).toBe(1);
    clock.advance(1);
    expect(await answer()).toBe('answer 2'); // a second later: marker re-read, it moved
    expect(reads).toBe(2);
    clock.advance(1_000);
    expect(await answer()).toBe('answer 2'); // re-read, unchanged: the cached answer
    expect(reads).toBe(3);
  });

  it('expires an answer after the TTL even when nothing changed, and forgets failures', async () => {
    const clock = new ManualClock('2013-07-01T00:00:00Z');
    const cache = createAnalyticsCache({ clock, ttlMs: 60_000 });
    let n = 0;
    const compute = async () => `a${++n}`;
    expect(await cache.answer('k', 'v', compute)).toBe('a1');
    clock.advance(60_000);
    expect(await cache.answer('k', 'v', compute)).toBe('a1');
    clock.advance(1);
    expect(await cache.answer('k', 'v', compute)).toBe('a2');
    await expect(cache.answer('f', 'v', async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
    await Promise.resolve();
    expect(await cache.answer('f', 'v', compute)).toBe('a3');
  });

  it('shares one computation between concurrent identical requests', async () => {
    const cache = createAnalyticsCache({ clock: new ManualClock('2013-07-01') });
    let n = 0;
    const compute = async () => `a${++n}`;
    const [x, y] = await Promise.all([cache.answer('k', 'v', compute), cache.answer('k', 'v', compute)]);
    expect([x, y, n]).toEqual(['a1', 'a1', 1]);
  });
});
