/**
 * Under the real time a CSV company's ledger is a ledger of its export's day (analytics ledgerDay), and it is scored
 * as of that day (scoringInstant). Its own model was still trained as of the clock: an invoice open in a 2019 export
 * was, as of 2026, "unpaid for seven years" (late, never collected) in the training labels, though nothing is known
 * of it after the export. The challenger is now trained on what the export knows, with its cutoff on that day; the
 * version is still created and promoted at the real time.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock';
import { modelVersions, syncRuns } from '../../src/db/schema';
import { retrainTenant } from '../../src/risk/service';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { createTestServices } from '../helpers/services';
import { ledgerCsv } from './helpers';

const EXPORT_DAY = '2019-03-31';
const realClock: Clock = { now: () => new Date('2026-12-07T09:00:00Z'), real: true };
let s: Services;
let tenantId: string;

beforeAll(async () => {
  s = await createTestServices({ clock: realClock, queue: false });
  const rows = syntheticLedger({
    customers: 40,
    invoicesPerCustomer: 25,
    seed: 23,
    start: '2017-12-01',
    days: 420,
    snapshot: EXPORT_DAY,
  });
  const r = await importHistoryCsv(s.db, ledgerCsv(rows), { tenantName: 'Old Export', now: s.clock.now() });
  tenantId = r.tenant.id;
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe("a CSV company's own model under the real time", () => {
  it("is trained as of the export's day, created at the real time", async () => {
    const r = await retrainTenant(s, tenantId);
    expect(r.trained, r.reason).toBe(true);
    const [row] = await s.db.select().from(modelVersions).where(eq(modelVersions.tenantId, tenantId));
    const manifest = row!.manifest as { training: { cutoff: string }; createdAt: string };
    // The export's day: its latest date, as the import recorded it (the cutoff was 2026-12-07).
    const [run] = await s.db.select().from(syncRuns).where(eq(syncRuns.tenantId, tenantId));
    expect(run!.source.asOf).toMatch(/^2019-03-/);
    expect(manifest.training.cutoff).toBe(run!.source.asOf);
    expect(manifest.createdAt.slice(0, 10)).toBe('2026-12-07');
  }, 180_000);
});
