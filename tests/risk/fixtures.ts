/** A small trained model shared by the tests of one file (each vitest file runs in its own process). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticLedger } from '../../src/risk/synthetic-ledger';
import { type TrainResult, trainRiskModel } from '../../src/risk/train';

export const CUTOFF = new Date('2023-11-01T00:00:00Z');

export const rows = syntheticLedger({
  customers: 40,
  invoicesPerCustomer: 30,
  seed: 3,
  start: '2023-01-01',
  days: 420,
});

let trained: TrainResult | null = null;
export function trainedModel(): TrainResult {
  trained ??= trainRiskModel(rows, { cutoff: CUTOFF, seed: 1, boost: { maxTrees: 60 } });
  return trained;
}

export const tempDir = () => mkdtempSync(join(tmpdir(), 'duely-risk-test-'));
