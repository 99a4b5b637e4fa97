/**
 * A model on disk is a directory with model.onnx and manifest.json. The manifest carries what scoring needs
 * besides the graph (feature list and priors, the logistic weights the reasons are explained from, band
 * thresholds) and what an auditor needs (training-data hash, cutoff, validation metrics, creation date).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseHistoryCsv } from '../../connectors/csv/parse';
import { FEATURE_NAMES, type FeaturePriors } from './features';
import { dayNumber, dayOfInstant, instantFromDay, isoFromDay, type LedgerInvoice } from './ledger';
import type { LogisticModel } from './logreg';
import { exportOnnx, ONNX_INPUT, ONNX_OUTPUTS } from './onnx-export';
import { type TrainResult, trainRiskModel, type ValidationMetrics } from './train';

export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';

export interface ModelManifest {
  version: string;
  createdAt: string;
  featureNames: string[];
  priors: FeaturePriors;
  logistic: Omit<LogisticModel, 'lambda'>;
  /** Late/not-late cut (from validation) and the lower cut of the medium band. */
  thresholds: { late: number; medium: number };
  training: {
    dataSha256: string;
    rows: number;
    /** Labels are invoices settled before this date. */
    cutoff: string;
    labelledInvoices: number;
    samples: number;
    maturityDays: number;
    /** Conformal days added to each side of the P10–P90 interval. */
    intervalWidening: number;
    lambda: number;
    blend: number;
    trees: { classifier: number; p10: number; p50: number; p90: number };
  };
  validation: ValidationMetrics | null;
  onnx: { file: string; sha256: string; input: string; outputs: string[] };
}

export interface LoadedModel {
  session: ort.InferenceSession;
  manifest: ModelManifest;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Writes model.onnx + manifest.json for a trained model and returns the manifest. */
export function writeModel(
  outDir: string,
  trained: TrainResult,
  meta: { dataSha256: string; rows: number; cutoff: Date; createdAt: Date },
): ModelManifest {
  const { model } = trained;
  const bytes = exportOnnx(model, { producer: 'duely risk', features: FEATURE_NAMES.join(',') });
  const onnxSha = sha256(bytes);
  const createdAt = meta.createdAt.toISOString();
  const manifest: ModelManifest = {
    version: `payment-delay-${createdAt.slice(0, 10)}-${onnxSha.slice(0, 8)}`,
    createdAt,
    featureNames: model.featureNames,
    priors: model.priors,
    logistic: {
      mean: model.logistic.mean,
      scale: model.logistic.scale,
      coef: model.logistic.coef,
      intercept: model.logistic.intercept,
    },
    thresholds: {
      late: trained.lateThreshold,
      medium: Math.round((trained.lateThreshold / 2) * 1000) / 1000,
    },
    training: {
      dataSha256: meta.dataSha256,
      rows: meta.rows,
      cutoff: isoFromDay(dayOfInstant(meta.cutoff)),
      ...trained.counts,
      intervalWidening: trained.intervalWidening,
      lambda: model.logistic.lambda,
      blend: model.blend,
      trees: {
        classifier: model.classifier.trees.length,
        p10: model.quantiles[0].trees.length,
        p50: model.quantiles[1].trees.length,
        p90: model.quantiles[2].trees.length,
      },
    },
    validation: trained.validation,
    onnx: { file: MODEL_FILE, sha256: onnxSha, input: ONNX_INPUT, outputs: Object.values(ONNX_OUTPUTS) },
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, MODEL_FILE), bytes);
  writeFileSync(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * The day after the latest date in the ledger: an export cannot know anything later, so labels and the
 * maturity window are measured from there rather than from a wall clock that may be years ahead of the data.
 */
export function ledgerSnapshotDay(rows: readonly LedgerInvoice[]): number {
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows)
    last = Math.max(last, dayNumber(r.invoiceDate), r.paidDate === null ? last : dayNumber(r.paidDate));
  return last + 1;
}

export interface TrainDefaultOptions {
  /** Path to a canonical invoice-history CSV. */
  historyCsv: string;
  outDir: string;
  /** Creation date written to the manifest; training uses what was known before min(now, the data's snapshot). */
  now: Date;
  seed?: number;
}

export function trainDefaultModel(options: TrainDefaultOptions): ModelManifest {
  const buffer = readFileSync(options.historyCsv);
  const { rows, errors } = parseHistoryCsv(buffer);
  if (errors.length > 0) {
    throw new Error(
      `${options.historyCsv}: ${errors.length} invalid row(s); first: line ${errors[0]!.line}: ${errors[0]!.message}`,
    );
  }
  const cutoff = instantFromDay(Math.min(dayOfInstant(options.now), ledgerSnapshotDay(rows)));
  const trained = trainRiskModel(rows, { cutoff, seed: options.seed ?? 1 });
  return writeModel(options.outDir, trained, {
    dataSha256: sha256(buffer),
    rows: rows.length,
    cutoff,
    createdAt: options.now,
  });
}

export async function loadModel(
  dir: string,
  sessionOptions?: ort.InferenceSession.SessionOptions,
): Promise<LoadedModel> {
  const manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as ModelManifest;
  const bytes = readFileSync(join(dir, manifest.onnx.file));
  if (sha256(bytes) !== manifest.onnx.sha256)
    throw new Error(`${dir}: ${manifest.onnx.file} does not match its manifest`);
  const expected = FEATURE_NAMES.join(',');
  if (manifest.featureNames.join(',') !== expected) {
    throw new Error(
      `${dir}: model ${manifest.version} was built for other features; retrain it with this code`,
    );
  }
  return { session: await ort.InferenceSession.create(bytes, sessionOptions), manifest };
}
