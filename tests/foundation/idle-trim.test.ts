/**
 * The idle memory trim (src/idle-trim.ts): it collects only when the event loop was idle over a whole check
 * interval and the resident size grew since the last collection, and the collection it resolves is a real one.
 */
import { describe, expect, it } from 'vitest';
import { idleTrimmer, resolveFullGc } from '../../src/idle-trim';

const MiB = 2 ** 20;

function fake(rssMiB: number, utilization: number[]) {
  const state = { rss: rssMiB * MiB, gcs: 0, u: 0 };
  return {
    state,
    deps: {
      gc: () => {
        state.gcs++;
        state.rss -= 100 * MiB;
      },
      rss: () => state.rss,
      utilization: () => utilization[Math.min(state.u++, utilization.length - 1)]!,
    },
    grow(toMiB: number) {
      state.rss = toMiB * MiB;
    },
  };
}

describe('idle memory trim', () => {
  it('collects on the first idle interval, not while busy, and again only after the process grew', () => {
    const f = fake(270, [0.6, 0.01, 0.01, 0.02, 0.3, 0.01]);
    const trim = idleTrimmer(f.deps, { growthBytes: 32 * MiB });
    expect(trim.check()).toBe(false); // busy (60 %): no collection even though nothing was trimmed yet
    expect(f.state.gcs).toBe(0);
    expect(trim.check()).toBe(true); // idle: the start's surplus goes
    expect(f.state.gcs).toBe(1);
    expect(f.state.rss).toBe(170 * MiB);
    expect(trim.check()).toBe(false); // still idle, but nothing grew since: no second collection
    f.grow(190); // grew 20 MiB: under the threshold
    expect(trim.check()).toBe(false);
    f.grow(260); // a burst of work grew it 90 MiB, but the loop is busy
    expect(trim.check()).toBe(false);
    expect(trim.check()).toBe(true); // quiet again: trimmed
    expect(f.state.gcs).toBe(2);
  });

  it('resolves a working memory-reducing collection in this runtime', async () => {
    const gc = resolveFullGc();
    expect(gc).toBeTypeOf('function');
    const ref = new WeakRef({ big: new Array(1000).fill(0) });
    // A WeakRef's target is kept until the current job ends.
    await new Promise((r) => setImmediate(r));
    gc!();
    // The only reference was weak: a real full collection clears it.
    expect(ref.deref()).toBeUndefined();
  });
});
