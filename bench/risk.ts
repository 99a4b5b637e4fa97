/**
 * Risk benchmarks: scoring throughput (ledger index + point-in-time features + ONNX + reasons, one call) for
 * 100,000 open invoices over a synthetic history of 400,000 invoices, and training time on 100,000 invoices. Run: npx tsx bench/risk.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dayNumber, instantFromDay } from '../src/risk/ledger';
import { loadModel, writeModel } from '../src/risk/model-store';
import { scoreInvoices } from '../src/risk/score';
import { syntheticLedger } from '../src/risk/synthetic-ledger';
import { trainRiskModel } from '../src/risk/train';

export async function benchRisk(): Promise<Record<string, string | number>> {
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
    t = performance.now();
    const cpu = process.cpuUsage();
    const scores = await scoreInvoices(model, history, ids, instantFromDay(asOfDay));
    const scoreSeconds = (performance.now() - t) / 1000;
    // CPU time of this process (JS plus onnxruntime threads): the figure to trust on a busy shared machine.
    const { user, system } = process.cpuUsage(cpu);
    const scoreCpuSeconds = (user + system) / 1e6;
    return {
      trainRows: trainRows.length,
      trainSamples: trained.counts.samples,
      trainSeconds: Number(trainSeconds.toFixed(2)),
      historyRows: history.length,
      openInvoices: ids.length,
      scoredInvoices: scores.length,
      scoreSeconds: Number(scoreSeconds.toFixed(2)),
      invoicesPerSecond: Math.round(scores.length / scoreSeconds),
      scoreCpuSeconds: Number(scoreCpuSeconds.toFixed(2)),
      invoicesPerCpuSecond: Math.round(scores.length / scoreCpuSeconds),
      loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // One JSON line: bench/run.ts prints it as a table.
  console.log(JSON.stringify({ bench: 'risk', ...(await benchRisk()) }));
}
