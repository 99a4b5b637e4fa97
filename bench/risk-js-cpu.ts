/**
 * Research tool (issue 18, not part of `npm run bench`): the CPU time of Duely's own part of one scoring call, on
 * bench/risk.ts's workload (100,000 open invoices over 400,000). The bench's wall-clock ratio and its process CPU
 * include onnxruntime, whose threads a busy shared machine starves or lets spin by several times between runs; this
 * counts the main thread's CPU outside `session.run` (ledger index, feature rows, overdue calibration, forecasts,
 * reasons, result objects, and the collector's work on the main thread). Prints one JSON line per call after a
 * warm-up: `jsCpu` (that CPU), `jsWall` (wall time outside session.run), `ortWall`, the process CPU and the wall.
 *
 * `node --wasm-tier-up-filter=923 --import tsx bench/risk-js-cpu.ts [calls=5]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dayNumber, instantFromDay } from '../src/risk/ledger';
import { loadModel, writeModel } from '../src/risk/model-store';
import { scoreInvoices } from '../src/risk/score';
import { trainRiskModel } from '../src/risk/train';
import { riskScoringSet, riskTrainingSet } from './risk-workload';

const calls = Number(process.argv[2] ?? 5);
const { rows: trainRows, cutoff } = riskTrainingSet();
const trained = trainRiskModel(trainRows, { cutoff, seed: 1 });
const dir = mkdtempSync(join(tmpdir(), 'duely-bench-risk-js-'));
try {
  writeModel(dir, trained, { dataSha256: 'synthetic', rows: trainRows.length, cutoff, createdAt: cutoff });
  const model = await loadModel(dir);
  const { asOf, history, ids } = riskScoringSet();
  const at = instantFromDay(dayNumber(asOf));
  // session.run timed from outside: its main-thread CPU and wall time are taken out of the call's.
  let ortCpu = 0;
  let ortWall = 0;
  const session = model.session;
  const run = session.run.bind(session);
  session.run = (async (...args: Parameters<typeof run>) => {
    const cpu = process.threadCpuUsage();
    const t = performance.now();
    const out = await run(...args);
    const used = process.threadCpuUsage(cpu);
    ortCpu += (used.user + used.system) / 1e6;
    ortWall += (performance.now() - t) / 1000;
    return out;
  }) as typeof session.run;
  await scoreInvoices(model, history, ids, at); // warm-up at full size
  for (let k = 0; k < calls; k++) {
    ortCpu = 0;
    ortWall = 0;
    const thread = process.threadCpuUsage();
    const cpu = process.cpuUsage();
    const t = performance.now();
    const scores = await scoreInvoices(model, history, ids, at);
    const wall = (performance.now() - t) / 1000;
    const main = process.threadCpuUsage(thread);
    const all = process.cpuUsage(cpu);
    console.log(
      JSON.stringify({
        scored: scores.length,
        jsCpu: Number(((main.user + main.system) / 1e6 - ortCpu).toFixed(3)),
        jsWall: Number((wall - ortWall).toFixed(3)),
        ortWall: Number(ortWall.toFixed(3)),
        processCpu: Number(((all.user + all.system) / 1e6).toFixed(3)),
        wall: Number(wall.toFixed(3)),
        loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
      }),
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
