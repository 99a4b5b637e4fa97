import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { rowsOf } from '../../src/db/client';
import { defineJob } from '../../src/jobs/define';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';

const seen: string[] = [];
let failuresLeft = 1;

const echo = defineJob({
  name: 'test-echo',
  schema: z.object({ word: z.string().min(1) }),
  queue: { retryLimit: 2, retryDelay: 1 },
  handler: async ({ word }) => {
    if (word === 'flaky' && failuresLeft-- > 0) throw new Error('transient');
    seen.push(word);
  },
});

let s: Services;
beforeAll(async () => {
  s = await createTestServices({ jobs: [echo] });
  await s.db.execute(sql`create table if not exists queue_probe (word text primary key)`);
  await s.queue.work(s, 2);
});
afterAll(async () => {
  await s?.close();
});

describe('job queue', () => {
  it('runs a typed job', async () => {
    await s.queue.send(echo, { word: 'hello' });
    await vi.waitFor(() => expect(seen).toContain('hello'), { timeout: 15_000, interval: 100 });
  });

  it('rejects an invalid payload at enqueue time', async () => {
    await expect(s.queue.send(echo, { word: '' })).rejects.toThrow();
  });

  it('enqueues inside the caller transaction: a rollback leaves no job, a commit does', async () => {
    await expect(
      s.db.transaction(async (tx) => {
        await tx.execute(sql`insert into queue_probe values ('rolled-back')`);
        await s.queue.send(echo, { word: 'rolled-back' }, { tx });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await s.db.transaction(async (tx) => {
      await tx.execute(sql`insert into queue_probe values ('committed')`);
      await s.queue.send(echo, { word: 'committed' }, { tx });
    });
    await vi.waitFor(() => expect(seen).toContain('committed'), { timeout: 15_000, interval: 100 });
    const jobs = await s.queue.findJobs('test-echo');
    expect(jobs.map((j) => (j.data as { word: string }).word)).not.toContain('rolled-back');
    const probe = rowsOf<{ word: string }>(await s.db.execute(sql`select word from queue_probe`));
    expect(probe.map((r) => r.word)).toEqual(['committed']);
  });

  it('retries a failed job per its policy', async () => {
    await s.queue.send(echo, { word: 'flaky' });
    await vi.waitFor(() => expect(seen).toContain('flaky'), { timeout: 20_000, interval: 200 });
    expect(failuresLeft).toBe(-1);
  });

  it('reports its health', async () => {
    expect(await s.queue.health()).toEqual({ ok: true, started: true });
  });
});
