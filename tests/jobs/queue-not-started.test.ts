/**
 * Services built without the job queue (`queue: false`: the CLI's one-shot commands, many sync suites) cannot enqueue.
 * An enqueue is refused at once, naming the job and why, and the transaction it was in rolls back, leaving the
 * database usable. Before, on PGlite an enqueue inside a transaction hung for good (pg-boss, never started, waited
 * for the one connection the transaction held); on Postgres pg-boss's own "Database not opened" assertion answered.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { sendMessageJob } from '../../src/jobs/dunning-jobs';
import type { Services } from '../../src/services';
import { createTestServices } from '../helpers/services';

let s: Services;
beforeAll(async () => {
  s = await createTestServices({ queue: false });
});
afterAll(async () => {
  await s?.close();
});

describe('services without the job queue', () => {
  it('refuse an enqueue inside a transaction at once, which rolls back; the database stays usable', async () => {
    await expect(
      s.db.transaction(async (tx) => {
        await tx.execute(sql`create table queue_probe (n int)`);
        await s.queue.send(sendMessageJob, { messageId: 'dm_probe' }, { tx });
      }),
    ).rejects.toThrow(/job queue is not started.*dunning-send/);
    const [r] = rowsOf<{ t: string | null }>(
      await s.db.execute(sql`select to_regclass('queue_probe')::text as t`),
    );
    expect(r?.t).toBeNull();
  });

  it('refuse an enqueue and a job lookup outside a transaction too', async () => {
    await expect(s.queue.send(sendMessageJob, { messageId: 'dm_probe' })).rejects.toThrow(/not started/);
    await expect(s.queue.findJobs(sendMessageJob.name)).rejects.toThrow(/not started/);
  });
});
