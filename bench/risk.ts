/**
 * Risk benchmarks: scoring throughput (ledger index + point-in-time features + ONNX + reasons, one call) for
 * 100,000 open invoices over a synthetic history of 400,000 invoices, and training time on 100,000 invoices. Run: npx tsx bench/risk.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildLedgerIndex, FEATURE_COUNT, featureMatrix } from '../src/risk/features';
import { dayNumber, instantFromDay } from '../src/risk/ledger';
import { loadModel, writeModel } from '../src/risk/model-store';
import { ONNX_INPUT } from '../src/risk/onnx-export';
import { scoreInvoices } from '../src/risk/score';
import { trainRiskModel } from '../src/risk/train';
import { riskScoringSet, riskTrainingSet } from './risk-workload';

export async function benchRisk(): Promise<Record<string, unknown>> {
  const { rows: trainRows, cutoff } = riskTrainingSet();
  let t = performance.now();
  const trained = trainRiskModel(trainRows, { cutoff, seed: 1 });
  const trainSeconds = (performance.now() - t) / 1000;

  const dir = mkdtempSync(join(tmpdir(), 'duely-bench-risk-'));
  try {
    writeModel(dir, trained, { dataSha256: 'synthetic', rows: trainRows.length, cutoff, createdAt: cutoff });
    const model = await loadModel(dir);
    // 100,000 open invoices over 400,000 scored in one call (risk-workload.ts).
    const { asOf, history, ids } = riskScoringSet();
    const asOfDay = dayNumber(asOf);
    await scoreInvoices(model, history, ids.slice(0, 1_000), instantFromDay(asOfDay)); // warm-up
    // The reference: raw onnxruntime on the same model and the same feature matrix (built outside the timing),
    // run before and after Duely's scoring in the same process; its rate is the mean of the two runs.
    const byId = new Map(history.map((r) => [r.invoiceId, r]));
    const X = featureMatrix(
      buildLedgerIndex(history),
      ids.map((id) => {
        const invoice = byId.get(id)!;
        return { invoice, day: Math.max(asOfDay, dayNumber(invoice.invoiceDate)) };
      }),
      model.manifest.priors,
    );
    const rawOrt = async () => {
      const t0 = performance.now();
      await model.session.run({ [ONNX_INPUT]: new ort.Tensor('float32', X, [ids.length, FEATURE_COUNT]) });
      return (performance.now() - t0) / 1000;
    };
    await rawOrt(); // warm-up at full batch size
    const ortBefore = await rawOrt();
    t = performance.now();
    const cpu = process.cpuUsage();
    const scores = await scoreInvoices(model, history, ids, instantFromDay(asOfDay));
    const scoreSeconds = (performance.now() - t) / 1000;
    // CPU time of this process (JS plus onnxruntime threads): the figure to trust on a busy shared machine.
    const { user, system } = process.cpuUsage(cpu);
    const scoreCpuSeconds = (user + system) / 1e6;
    const ortSeconds = (ortBefore + (await rawOrt())) / 2;
    const invoicesPerSecond = Math.round(scores.length / scoreSeconds);
    const ortPerSecond = Math.round(ids.length / ortSeconds);
    return {
      trainRows: trainRows.length,
      trainSamples: trained.counts.samples,
      trainSeconds: Number(trainSeconds.toFixed(2)),
      historyRows: history.length,
      openInvoices: ids.length,
      scoredInvoices: scores.length,
      scoreSeconds: Number(scoreSeconds.toFixed(2)),
      invoicesPerSecond,
      rawOrtSeconds: Number(ortSeconds.toFixed(3)),
      rawOrtInvoicesPerSecond: ortPerSecond,
      scoreCpuSeconds: Number(scoreCpuSeconds.toFixed(2)),
      invoicesPerCpuSecond: Math.round(scores.length / scoreCpuSeconds),
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
      figures: [
        {
          figure: 'scoring 100k open over 400k history',
          value: invoicesPerSecond,
          unit: 'invoices/s',
          reference: 'raw onnxruntime session.run, same model and feature matrix (same run)',
          referenceValue: ortPerSecond,
          ratio: invoicesPerSecond / ortPerSecond,
        },
      ],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // One JSON line: bench/run.ts prints it as a table.
  console.log(JSON.stringify({ bench: 'risk', ...(await benchRisk()) }));
}
