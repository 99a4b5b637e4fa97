import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/errors';
import type { SyncPage } from '../../connectors/types';
import { progressLine, syncFailure } from '../../src/cli-sync';
import { AppError } from '../../src/errors';
import { jobs } from '../../src/jobs/catalogue';
import { advanceProgress, SYNC_KINDS } from '../../src/sync/run-sync';

const empty = (cursor: unknown): SyncPage<unknown> => ({
  customers: [],
  invoices: [],
  payments: [],
  creditMemos: [],
  deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
  cursor,
});
const start = {
  entities: Object.fromEntries(SYNC_KINDS.map((k) => [k, { pages: 0, rows: 0, done: false }])),
};

describe('sync progress', () => {
  it('counts rows and pages per entity and marks entities done as the full-sync cursor moves on', () => {
    const inv = { ...empty({ mode: 'full', entity: 'Invoice', startPosition: 3, changedSince: 'x' }) };
    inv.invoices = [{} as never, {} as never];
    inv.deletions.invoices = [{ externalId: '9' }];
    const p1 = advanceProgress(start, inv);
    expect(p1.entities.invoices).toEqual({ pages: 1, rows: 3, done: false });
    expect(p1.entities.customers?.done).toBe(true);
    const p2 = advanceProgress(
      p1,
      empty({ mode: 'full', entity: 'Payment', startPosition: 1, changedSince: 'x' }),
    );
    expect(p2.entities.invoices?.done).toBe(true);
    expect(p2.entities.creditMemos?.done).toBe(true);
    expect(p2.entities.payments?.done).toBe(false);
    const p3 = advanceProgress(p2, empty({ mode: 'cdc', changedSince: 'y' }));
    expect(Object.values(p3.entities).every((e) => e.done)).toBe(true);
    expect(progressLine({ syncRunId: 'r', kind: 'full', progress: p2, stats: {} })).toBe(
      'sync full: customers 0 ✓ · invoices 3 ✓ · credit memos 0 ✓ · payments 0 (0p)',
    );
  });

  it('marks entities done for a full-sync cursor that names the kind it is at (not the provider entity)', () => {
    const inv = empty({ mode: 'full', kind: 'invoices', afterId: '42', since: 's' });
    inv.invoices = [{} as never];
    const p1 = advanceProgress(start, inv);
    expect(p1.entities.customers?.done).toBe(true);
    expect(p1.entities.invoices).toEqual({ pages: 1, rows: 1, done: false });
    const p2 = advanceProgress(p1, empty({ mode: 'full', kind: 'payments', afterId: null, since: 's' }));
    expect(p2.entities.invoices?.done).toBe(true);
    expect(p2.entities.creditMemos?.done).toBe(true);
    expect(p2.entities.payments?.done).toBe(false);
    // NetSuite reads its journal entries last, as a kind of its own: every canonical listing is behind it.
    const p3 = advanceProgress(
      p2,
      empty({ mode: 'full', kind: 'journalEntries', afterId: null, since: 's' }),
    );
    expect(Object.values(p3.entities).every((e) => e.done)).toBe(true);
  });

  it('declares one stately sync job per connection, retried with backoff', () => {
    const job = jobs.syncConnection;
    expect(job.name).toBe('sync.connection');
    expect(job.queue).toMatchObject({ policy: 'stately', retryBackoff: true });
    expect(job.singletonKey?.({ connectionId: 'abc', reason: 'webhook' })).toBe('abc');
    expect(() => job.schema.parse({ connectionId: 'not-a-uuid' })).toThrow();
  });
});

describe('duely sync errors', () => {
  it('a provider error is one clear line (retryable: progress kept), not a stack', () => {
    const e = syncFailure(
      new ConnectorError({ code: 'rate_limited', message: 'x', status: 429, providerCode: '3001' }),
      'acme',
    );
    expect(e?.message).toBe(
      'Sync of acme stopped: The accounting system asked us to slow down; we will retry shortly. (rate_limited, HTTP 429, code 3001). The pages synced so far are saved; run the command again later to continue.',
    );
    expect(e?.message).not.toContain('\n');
    expect(
      syncFailure(new ConnectorError({ code: 'forbidden', message: 'x', status: 403 }), 'acme')?.message,
    ).toBe(
      'Sync of acme stopped: Your accounting user is not allowed to perform this action. (forbidden, HTTP 403).',
    );
    expect(syncFailure(new AppError('aborted', 'sync interrupted', 503), 'acme')?.message).toMatch(
      /interrupted/,
    );
    expect(syncFailure(new TypeError('bug'), 'acme')).toBeNull();
  });

  it('after `--full`, says to continue without it (the same command again would start the full sync over)', () => {
    expect(
      syncFailure(new AppError('aborted', 'sync interrupted', 503), 'acme', { full: true })?.message,
    ).toBe(
      'Sync of acme interrupted; run `duely sync --tenant acme` (without --full) to continue where it stopped.',
    );
    expect(
      syncFailure(new ConnectorError({ code: 'rate_limited', message: 'x', status: 429 }), 'acme', {
        full: true,
      })?.message,
    ).toMatch(/saved; run `duely sync --tenant acme` \(without --full\) later to continue\.$/);
  });
});
