import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import {
  LARGE_CHANGE_INVOICES,
  ledgerChanged,
  MAX_CARRIED_IDS,
  planTenantJob,
  scored,
  scoreTenantJob,
} from '../../src/jobs/workflow';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { ledgerCsv, synthetic } from '../risk-app/helpers';
import { createTestServices } from '../helpers/services';

const NOW = '2013-06-01';
let s: Services;

beforeAll(async () => {
  s = await createTestServices({ clock: fixedClock(NOW) });
});
afterAll(async () => {
  await s?.close();
});

async function tenant(name: string) {
  const r = await importHistoryCsv(s.db, ledgerCsv(synthetic(2, 4, NOW)), {
    tenantName: name,
    now: s.clock.now(),
  });
  return r.tenant.id;
}
const jobsOf = async (queue: string, tenantId: string) =>
  (await s.queue.findJobs(queue)).filter((j) => (j.data as { tenantId: string }).tenantId === tenantId);

describe('the pipeline (src/jobs/workflow.ts)', () => {
  it('ledgerChanged → a score job carrying the changed invoice ids; a page event never retrains', async () => {
    const t = await tenant('Page change');
    const ids = ['inv-0', 'inv-1', 'inv-2'];
    await ledgerChanged(s, undefined, { tenantId: t, reason: 'sync', invoiceIds: [...ids, ids[0]!] });
    const [job, ...more] = await jobsOf('risk-score', t);
    expect(more).toHaveLength(0);
    expect(job!.data).toEqual({ tenantId: t, reason: 'sync', invoiceIds: ids });
    expect(await jobsOf('risk-retrain', t)).toHaveLength(0);
  });

  it('a change larger than MAX_CARRIED_IDS carries no ids (= the whole tenant), and a large whole change retrains', async () => {
    const t = await tenant('Full sync');
    const ids = Array.from({ length: MAX_CARRIED_IDS + 1 }, (_, i) => `inv-${i}`);
    await ledgerChanged(s, undefined, {
      tenantId: t,
      reason: 'full sync',
      invoiceIds: ids,
      changedInvoices: LARGE_CHANGE_INVOICES,
    });
    const [job] = await jobsOf('risk-score', t);
    expect(job!.data).toEqual({ tenantId: t, reason: 'full sync' });
    expect((await jobsOf('risk-retrain', t)).map((j) => j.data)).toEqual([
      { tenantId: t, reason: 'large full sync' },
    ]);
  });

  it('scored → a plan job with the same ids; the score handler makes that transition', async () => {
    const t = await tenant('Scored');
    await scored(s, { tenantId: t, invoiceIds: ['a', 'b'] });
    expect((await jobsOf('dunning-plan', t)).map((j) => j.data)).toEqual([
      { tenantId: t, reason: 'scored', invoiceIds: ['a', 'b'] },
    ]);

    const t2 = await tenant('Scored by the handler');
    await scoreTenantJob.handler(scoreTenantJob.schema.parse({ tenantId: t2, invoiceIds: ['x'] }), s, {
      id: 'test',
      retryCount: 0,
    });
    expect((await jobsOf('dunning-plan', t2)).map((j) => j.data)).toEqual([
      { tenantId: t2, reason: 'scored', invoiceIds: ['x'] },
    ]);
  });

  it('payloads queued before invoiceIds existed still validate', () => {
    const id = '00000000-0000-4000-8000-000000000000';
    expect(scoreTenantJob.schema.parse({ tenantId: id, reason: 'sync' })).toEqual({
      tenantId: id,
      reason: 'sync',
    });
    expect(planTenantJob.schema.parse({ tenantId: id })).toEqual({ tenantId: id, reason: 'changed' });
  });
});
