/**
 * Checks against the IBM sample in ../shared (not in the repo). Skipped, with a message, where it is absent.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { evaluateBacktest } from '../../src/risk/evaluate';
import { DEFAULT_MODEL_CREATED_AT, DEFAULT_TRAINING_CSVS } from '../../src/risk/cli-commands';
import { loadModel, trainDefaultModel } from '../../src/risk/model-store';
import { scoreInvoices } from '../../src/risk/score';

const dataDir = resolve(process.cwd(), '../shared/data/ibm-ar');
const csvPath = resolve(dataDir, 'invoices-dev.csv');
const present = existsSync(csvPath);
if (!present) console.warn(`skipping IBM sample checks: ${csvPath} is not present`);

describe.skipIf(!present)('IBM sample (../shared/data/ibm-ar)', () => {
  it('backtest at 2013-01-01 beats chance and stays below the leakage line', () => {
    const { rows } = parseHistoryCsv(readFileSync(csvPath));
    const report = evaluateBacktest({
      rows,
      cutoff: new Date('2013-01-01T00:00:00Z'),
      bootstrap: 100,
      seed: 1,
    });
    expect(report.model.auc.value).toBeGreaterThan(0.8);
    expect(report.model.auc.value).toBeLessThan(0.93); // higher would mean the future leaked in
    expect(report.model.payDateMae.value).toBeLessThan(10);
  });

  it('the shipped model was trained on this file (and the real export) and scores its open invoices', async () => {
    const buffer = readFileSync(csvPath);
    const model = await loadModel(resolve(process.cwd(), 'models/default'));
    const sources = model.manifest.training.sources ?? [];
    expect(sources.map((x) => x.sha256)).toContain(createHash('sha256').update(buffer).digest('hex'));
    expect(sources).toHaveLength(2);
    const { rows } = parseHistoryCsv(buffer);
    const open = rows.filter((r) => r.paidDate === null).map((r) => r.invoiceId);
    const scores = await scoreInvoices(model, rows, open, new Date('2013-07-01T00:00:00Z'));
    expect(scores).toHaveLength(open.length);
  });
});

const hrPath = resolve(process.cwd(), '../shared/data/highradius-dev/invoices.csv');
const both = present && existsSync(hrPath);

describe.skipIf(!both)('shipped model (both development ledgers)', () => {
  it('is reproduced byte for byte by `duely model train`', () => {
    const dir = mkdtempSync(join(tmpdir(), 'duely-default-'));
    try {
      const m = trainDefaultModel({
        historyCsvs: DEFAULT_TRAINING_CSVS,
        outDir: dir,
        now: new Date(DEFAULT_MODEL_CREATED_AT),
      });
      const shipped = resolve(process.cwd(), 'models/default');
      expect(readFileSync(join(dir, 'model.onnx')).equals(readFileSync(join(shipped, 'model.onnx')))).toBe(
        true,
      );
      expect(readFileSync(join(dir, 'manifest.json'), 'utf8')).toBe(
        readFileSync(join(shipped, 'manifest.json'), 'utf8'),
      );
      expect(m.training.sources?.map((x) => x.file)).toEqual(['invoices-dev.csv', 'invoices.csv']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
