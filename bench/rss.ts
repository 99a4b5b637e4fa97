/**
 * Memory of `duely serve` (what `npm start` runs: role all, the demo company as configured by default), as a
 * child process read through /proc/<pid>/status: its start peak (VmHWM when the banner is printed and after the
 * idle wait) and its idle RSS (VmRSS after IDLE seconds), on PGlite and on Postgres. Targets (issue 18): Postgres
 * idle ≤ 250 MB, PGlite start peak ≤ 700 MB. PGlite's first start makes its database (the stored initdb directory unpacked,
 * src/db/pglite-template.mjs, and the migrations) in a short-lived child process: its memory is reported apart (the server and its children summed, sampled every 20 ms). The settings app is built beforehand (in this process) so the
 * child's start does not include a Vite build.
 * `tsx bench/rss.ts [idleSeconds] [pglite|postgres|both]`: one JSON line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { memOf, NODE_FLAGS, ROOT, treeRssOf } from './proc';

/** The targets are in MB (10^6 bytes); /proc reports KiB, printed here as MiB (2^20 bytes). */
const MB_IN_MIB = 1e6 / 2 ** 20;
const PGLITE_PEAK_TARGET_MB = 700; // 667.6 MiB
const POSTGRES_IDLE_TARGET_MB = 250; // 238.4 MiB

/** A memory figure against a target in MB (ratio = target ÷ figure: ≥ 1 meets it). */
function vsTarget(figure: string, valueMiB: number, targetMb: number) {
  const targetMiB = targetMb * MB_IN_MIB;
  return {
    figure,
    value: valueMiB,
    unit: 'MiB',
    reference: `target ${targetMb} MB = ${targetMiB.toFixed(1)} MiB (ratio = target ÷ figure)`,
    referenceValue: Math.round(targetMiB * 10) / 10,
    ratio: targetMiB / valueMiB,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_ENV' || k.startsWith('VITEST') || k === 'DATABASE_URL' || k.startsWith('DUELY_'))
      continue;
    env[k] = v;
  }
  return { ...env, LOG_LEVEL: 'warn', ...extra };
}

async function serveMemory(env: NodeJS.ProcessEnv, idleSeconds: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    [...NODE_FLAGS, path.join(ROOT, 'bin/duely.js'), 'serve', '--port', '0'],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const t0 = performance.now();
  let out = '';
  let peak = 0;
  // The summed RSS of the server and its children (PGlite's first start runs initdb in a child process).
  let treePeak = 0;
  const timer = setInterval(() => {
    const m = child.pid ? memOf(child.pid) : null;
    if (m && Number.isFinite(m.hwm)) peak = Math.max(peak, m.hwm);
    const tree = child.pid ? treeRssOf(child.pid) : 0;
    if (Number.isFinite(tree)) treePeak = Math.max(treePeak, tree);
  }, 20);
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (b: Buffer) => {
        out += b;
        if (/Sign in[^\n]*\n/.test(out)) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (b) => (out += b));
      child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${out.slice(-500)}`)));
      setTimeout(() => reject(new Error(`serve not up after 180 s: ${out.slice(-500)}`)), 180_000);
    });
    const startSeconds = (performance.now() - t0) / 1000;
    const atBanner = memOf(child.pid!)!;
    await sleep(idleSeconds * 1000);
    const idle = memOf(child.pid!)!;
    peak = Math.max(peak, idle.hwm);
    return {
      startSeconds: Math.round(startSeconds * 100) / 100,
      rssAtBannerMiB: Math.round(atBanner.rss),
      idleRssMiB: Math.round(idle.rss),
      startPeakMiB: Math.round(peak),
      startPeakWithChildrenMiB: Math.round(Math.max(treePeak, peak)),
    };
  } finally {
    clearInterval(timer);
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

export async function benchRss(idleSeconds = 10, which: 'pglite' | 'postgres' | 'both' = 'both') {
  const { ensureWebBuild } = await import('../src/http/web');
  await ensureWebBuild();
  const result: Record<string, unknown> = { bench: 'rss', 'idle wait s': idleSeconds };
  const figures: unknown[] = [];
  let pg: Awaited<ReturnType<typeof serveMemory>> | null = null;
  if (which !== 'pglite') {
    const base = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const { default: postgres } = await import('postgres');
    const name = `duely_bench_${randomBytes(4).toString('hex')}`;
    const admin = postgres(base, { max: 1, onnotice: () => {} });
    const dir = mkdtempSync(path.join(tmpdir(), 'duely-rss-'));
    try {
      await admin.unsafe(`create database ${name}`);
      const url = new URL(base);
      url.pathname = `/${name}`;
      pg = await serveMemory(childEnv({ DATA_DIR: dir, DATABASE_URL: url.toString() }), idleSeconds);
      for (const [k, v] of Object.entries(pg)) result[`postgres ${k}`] = v;
    } finally {
      await admin.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await admin.end();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (which !== 'postgres') {
    const dir = mkdtempSync(path.join(tmpdir(), 'duely-rss-'));
    try {
      const lite = await serveMemory(childEnv({ DATA_DIR: dir }), idleSeconds);
      for (const [k, v] of Object.entries(lite)) result[`pglite ${k}`] = v;
      figures.push(
        vsTarget('PGlite `duely serve` start peak (VmHWM)', lite.startPeakMiB, PGLITE_PEAK_TARGET_MB),
        vsTarget(
          'PGlite first start, server + new-database child summed (peak of the sum)',
          lite.startPeakWithChildrenMiB,
          PGLITE_PEAK_TARGET_MB,
        ),
      );
      figures.push({
        figure: 'PGlite `duely serve` idle RSS',
        value: lite.idleRssMiB,
        unit: 'MiB',
        reference: 'Postgres idle RSS, same run (ratio = Postgres ÷ PGlite)',
        referenceValue: pg?.idleRssMiB ?? null,
        ratio: pg ? pg.idleRssMiB / lite.idleRssMiB : null,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (pg) {
    figures.push(vsTarget('Postgres `duely serve` idle RSS', pg.idleRssMiB, POSTGRES_IDLE_TARGET_MB));
  }
  return { ...result, figures };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  const idle = Number(process.argv[2] ?? 10);
  const which = (process.argv[3] ?? 'both') as 'pglite' | 'postgres' | 'both';
  benchRss(idle, which).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
