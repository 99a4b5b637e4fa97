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
import { ONNX_INPUT } from '../src/risk/onnx-export';
import { loadModel, writeModel } from '../src/risk/model-store';
import { scoreInvoices } from '../src/risk/score';
import { syntheticLedger } from '../src/risk/synthetic-ledger';
import { trainRiskModel } from '../src/risk/train';

export async function benchRisk(): Promise<Record<string, unknown>> {
  const trainRows = syntheticLedger({
    customers: 2_500,
    invoicesPerCustomer: 40,
    seed: 11,
    start: '2021-01-01',
    days: 540,
  });
  const cutoff = instantFromDay(dayNumber('2021-01-01') + 600);
  let t = performance.now();
  const trained = trainRiskModel(trainRows, { cutoff, seed: 1 });
  const trainSeconds = (performance.now() - t) / 1000;

  const dir = mkdtempSync(join(tmpdir(), 'duely-bench-risk-'));
  try {
    writeModel(dir, trained, { dataSha256: 'synthetic', rows: trainRows.length, cutoff, createdAt: cutoff });
    const model = await loadModel(dir);
    // 300,000 settled invoices of 5,000 customers, then 20 more per customer issued in the last 60 days and
    // still unpaid: 100,000 open invoices scored in one call.
    const asOf = '2023-09-01';
    const asOfDay = dayNumber(asOf);
    const settled = syntheticLedger({
      customers: 5_000,
      invoicesPerCustomer: 60,
      seed: 12,
      start: '2022-01-01',
      days: 540,
      snapshot: asOf,
    });
    const open = syntheticLedger({
      customers: 5_000,
      invoicesPerCustomer: 20,
      seed: 13,
      start: '2023-07-03',
      days: 60,
      snapshot: '2023-07-03',
      idPrefix: 'OPEN',
    });
    const history = [...settled, ...open];
    const ids = open.map((r) => r.invoiceId);
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
