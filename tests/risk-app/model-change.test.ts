/**
 * When scoring switches models (the first tenant model promoted by the automatic retrain, the rule of thumb taken
 * up), the Dashboard's high-risk count can halve with no invoice changing (seen 277 → 141): each model sets its own
 * band cuts. The first run with the new model records how the bands moved (tenants.model_change); Settings
 * (GET …/models `change`) and the Dashboard's revenue-at-risk figures (`modelChange`) say when and by how much.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { modelVersions } from '../../src/db/schema';
import { DEFAULT_MODEL_DIR } from '../../src/risk/model-registry';
import { MODEL_FILE } from '../../src/risk/model-store';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { ledgerCsv, synthetic } from './helpers';

const NOW = '2013-06-01T12:00:00Z';
let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenantId: string;
let slug: string;

const testApp = suiteTestApp({ clock: fixedClock(NOW), token: 'operator' });
beforeAll(async () => {
  ({ services: s, app } = testApp);
  auth = testApp.auth;
  const r = await importHistoryCsv(s.db, ledgerCsv(synthetic(20, 20, NOW)), {
    tenantName: 'Switching',
    now: s.clock.now(),
  });
  tenantId = r.tenant.id;
  slug = r.tenant.slug;
}, 120_000);

describe('a switch of models is explained where the high-risk count is shown', () => {
  it('records the bands under the previous model and the new one, for Settings and the Dashboard', async () => {
    await scoreTenant(s, tenantId);
    const models = async () =>
      (await app.inject({ url: `/api/v1/tenants/${slug}/models`, headers: auth })).json();
    // The dashboard's answers are cached under a version re-read at most once a second: the answer after the switch
    // is asked for another period (its high-risk figures do not depend on it), which no cache holds.
    const analytics = async (period = 90) =>
      (await app.inject({ url: `/api/v1/tenants/${slug}/analytics?period=${period}`, headers: auth })).json();
    // One model so far: nothing to explain.
    expect((await models()).change).toBeNull();
    const first = await analytics();
    expect(first.revenueAtRisk.modelChange).toBeNull();
    const highBefore: number = first.revenueAtRisk.highRiskCount;
    expect(highBefore).toBeGreaterThan(0);

    // A tenant model takes over whose own validation slice put the high-risk cut higher (the same graph: only its
    // bands differ, as a retrained model's do).
    const shipped = await s.models.default();
    const version = 'payment-delay-tenant-test';
    await s.db.insert(modelVersions).values({
      tenantId,
      version,
      status: 'active',
      manifest: {
        ...shipped.manifest,
        version,
        thresholds: {
          ...shipped.manifest.thresholds,
          late: Math.min(0.99, shipped.manifest.thresholds.late * 1.5),
        },
      } as unknown as Record<string, unknown>,
      onnx: readFileSync(path.join(DEFAULT_MODEL_DIR, MODEL_FILE)),
      comparison: {},
      reason: 'challenger log-loss 0.40 is 0.01 better than the current 0.41',
      promotedAt: s.clock.now(),
    });
    await scoreTenant(s, tenantId);

    const { change } = await models();
    expect(change).toMatchObject({
      from: shipped.manifest.version,
      to: version,
      at: new Date(NOW).toISOString(),
    });
    expect(change.before.high).toBe(highBefore);
    expect(change.after.high).toBeLessThan(change.before.high);
    const sum = (b: { low: number; medium: number; high: number }) => b.low + b.medium + b.high;
    expect(sum(change.after)).toBe(sum(change.before));
    const after = await analytics(30);
    expect(after.revenueAtRisk.modelChange).toEqual({
      on: NOW.slice(0, 10),
      highBefore,
      highAfter: after.revenueAtRisk.highRiskCount,
    });

    // The next run with the same model changes nothing recorded.
    await scoreTenant(s, tenantId);
    expect((await models()).change).toEqual(change);
  }, 120_000);
});
