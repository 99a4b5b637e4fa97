/**
 * A model on disk is a directory with model.onnx and manifest.json. The manifest carries what scoring needs
 * besides the graph (feature list and priors, the logistic weights the reasons are explained from, band
 * thresholds) and what an auditor needs (training-data hash, cutoff, validation metrics, creation date).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
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
  /**
   * 'heuristic': the tenant's own check found that no model beat the customer-history rule of thumb, so P(late) and
   * pay dates come from that rule (the graph, the shipped default's, still answers collection for overdue invoices).
   * Absent: the model scores.
   */
  scoring?: 'model' | 'heuristic';
  createdAt: string;
  featureNames: string[];
  priors: FeaturePriors;
  logistic: Omit<LogisticModel, 'lambda'>;
  /**
   * Lower cuts of the high and medium bands: the 80th / 50th percentile of P(late) on the validation slice (without
   * a slice, the Youden cut and half of it). An overdue invoice is banded by P(not collected within 90 days).
   */
  thresholds: { late: number; medium: number };
  training: {
    /** sha256 of the training CSV; with several ledgers, of their hashes joined in order. */
    dataSha256: string;
    /** The ledgers it was trained on (the shipped default: both development ledgers). */
    sources?: LedgerSource[];
    rows: number;
    /** Labels are invoices settled before this date. */
    cutoff: string;
    labelledInvoices: number;
    samples: number;
    maturityDays: number;
    /** Conformal days added to each side of the P10–P90 interval. */
    intervalWidening: number;
    /** Share of the P50 pay-date head's correction kept (chosen on the validation slice). */
    payDateShrink?: number;
    /** Weight of the delivery-adjusted pay-date baseline (base_remaining_adjusted) against base_remaining. */
    baseMix?: number;
    /** Weight of the mode offset added to the P50 pay date (0: the median date). */
    modeShift?: number;
    lambda: number;
    blend: number;
    /** History depth (settled invoices) at which model and heuristic weigh the same (0: model only). */
    historyK?: number;
    /** Share of the model in p_late at every history depth, the rest the smoothed late rate (absent: 1). */
    modelShare?: number;
    /** Platt recalibration of p_late, fitted on the validation slice. */
    calibration?: { a: number; b: number };
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
  meta: { dataSha256: string; rows: number; cutoff: Date; createdAt: Date; sources?: LedgerSource[] },
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
      late: trained.bandCuts?.high ?? trained.lateThreshold,
      medium: trained.bandCuts?.medium ?? Math.round((trained.lateThreshold / 2) * 1000) / 1000,
    },
    training: {
      dataSha256: meta.dataSha256,
      ...(meta.sources ? { sources: meta.sources } : {}),
      rows: meta.rows,
      cutoff: isoFromDay(dayOfInstant(meta.cutoff)),
      ...trained.counts,
      intervalWidening: trained.intervalWidening,
      payDateShrink: trained.payDateShrink,
      baseMix: model.baseMix,
      modeShift: model.modeShift ?? 0,
      lambda: model.logistic.lambda,
      blend: model.blend,
      historyK: model.historyK,
      ...(model.modelShare !== undefined && model.modelShare !== 1 ? { modelShare: model.modelShare } : {}),
      calibration: model.calibration,
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

export interface LedgerSource {
  file: string;
  sha256: string;
  rows: number;
  /** Days its dates were moved forward so that every ledger ends on the same day (a whole number of weeks). */
  shiftDays: number;
}

export interface TrainDefaultOptions {
  /** Paths to canonical invoice-history CSVs (one ledger each). */
  historyCsvs: string[];
  outDir: string;
  /** Creation date written to the manifest; training uses what was known before min(now, the data's snapshot). */
  now: Date;
  seed?: number;
}

const shiftDate = (iso: string, days: number) => isoFromDay(dayNumber(iso) + days);

/**
 * Several ledgers as one training history, each still in its own time order: customer ids are prefixed with the
 * ledger's position (no customer crosses ledgers), and each ledger's dates move forward by whole weeks (weekday
 * kept) so that all of them end within a week of the latest snapshot. One cutoff then means "what each ledger
 * knew on its last day", and nothing a ledger did not know yet becomes a label.
 */
export function combineLedgers(ledgers: { file: string; buffer: Buffer; rows: LedgerInvoice[] }[]): {
  rows: LedgerInvoice[];
  sources: LedgerSource[];
  snapshotDay: number;
} {
  const snapshots = ledgers.map((l) => ledgerSnapshotDay(l.rows));
  const latest = Math.max(...snapshots);
  const rows: LedgerInvoice[] = [];
  const sources: LedgerSource[] = [];
  let snapshotDay = latest;
  ledgers.forEach((l, k) => {
    const shift = ledgers.length === 1 ? 0 : Math.floor((latest - snapshots[k]!) / 7) * 7;
    snapshotDay = Math.min(snapshotDay, snapshots[k]! + shift);
    const prefix = ledgers.length === 1 ? '' : `${k + 1}:`;
    for (const r of l.rows) {
      rows.push({
        ...r,
        customerId: prefix + r.customerId,
        invoiceId: prefix + r.invoiceId,
        invoiceDate: shift ? shiftDate(r.invoiceDate, shift) : r.invoiceDate,
        dueDate: shift ? shiftDate(r.dueDate, shift) : r.dueDate,
        paidDate: r.paidDate === null || !shift ? r.paidDate : shiftDate(r.paidDate, shift),
      });
    }
    sources.push({ file: basename(l.file), sha256: sha256(l.buffer), rows: l.rows.length, shiftDays: shift });
  });
  return { rows, sources, snapshotDay };
}

export function trainDefaultModel(options: TrainDefaultOptions): ModelManifest {
  const ledgers = options.historyCsvs.map((file) => {
    const buffer = readFileSync(file);
    const { rows, errors } = parseHistoryCsv(buffer);
    if (errors.length > 0) {
      throw new Error(
        `${file}: ${errors.length} invalid row(s); first: line ${errors[0]!.line}: ${errors[0]!.message}`,
      );
    }
    return { file, buffer, rows: rows.map(({ line: _, ...r }) => r) };
  });
  const { rows, sources, snapshotDay } = combineLedgers(ledgers);
  const cutoff = instantFromDay(Math.min(dayOfInstant(options.now), snapshotDay));
  const trained = trainRiskModel(rows, { cutoff, seed: options.seed ?? 1 });
  return writeModel(options.outDir, trained, {
    dataSha256: sources.length === 1 ? sources[0]!.sha256 : sha256(sources.map((x) => x.sha256).join('\n')),
    sources: sources.length === 1 ? undefined : sources,
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
