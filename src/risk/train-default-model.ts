/**
 * Rebuilds the shipped model: `npx tsx src/risk/train-default-model.ts [outDir] [createdAt] [csv…]`.
 * Defaults reproduce models/default from both development ledgers (kept outside the repo, in ../shared).
 */
import { DEFAULT_MODEL_CREATED_AT, DEFAULT_TRAINING_CSVS } from './cli-commands';
import { trainDefaultModel } from './model-store';

const [outDir = 'models/default', createdAt = DEFAULT_MODEL_CREATED_AT, ...csvs] = process.argv.slice(2);
const manifest = trainDefaultModel({
  historyCsvs: csvs.length ? csvs : DEFAULT_TRAINING_CSVS,
  outDir,
  now: new Date(createdAt),
});
console.log(
  `${manifest.version} written to ${outDir} (validation AUC ${manifest.validation?.auc.toFixed(3) ?? 'n/a'})`,
);
