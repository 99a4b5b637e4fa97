/**
 * Rebuilds the shipped model: `npx tsx src/risk/train-default-model.ts [historyCsv] [outDir] [createdAt]`.
 * Defaults reproduce models/default from the IBM sample (kept outside the repo, in ../shared).
 */
import { resolve } from 'node:path';
import { trainDefaultModel } from './model-store';

const [
  csv = resolve(process.cwd(), '../shared/data/ibm-ar/invoices-dev.csv'),
  outDir = 'models/default',
  createdAt = '2026-11-27T00:00:00Z',
] = process.argv.slice(2);
const manifest = trainDefaultModel({ historyCsv: csv, outDir, now: new Date(createdAt) });
console.log(
  `${manifest.version} written to ${outDir} (validation AUC ${manifest.validation?.auc.toFixed(3) ?? 'n/a'})`,
);
