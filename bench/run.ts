/**
 * `npm run bench`: every benchmark, each in its own process (so its peak RSS is its own), printed as a table, then
 * every figure of issue 18 with its reference and the ratio.
 *
 *   npm run bench                      every bench, one round
 *   npm run bench -- render cli-help   only the names given (an unknown name is an error: exit 2)
 *   npm run bench -- --list            the bench names
 *   npm run bench -- --rounds 3        3 interleaved rounds (all selected benches, then again…): min / median
 *                                      of each ratio over the rounds
 *   npm run bench -- --size 2000       a smaller workload for each bench that takes one (development runs)
 *
 * A ratio is only printed when its reference was measured in the same round (or is an external constant, named
 * as such); a reference nobody measures yet prints "reference: not measured yet". Children run with
 * NODE_ENV=production unless NODE_ENV is set (React's development build is several times slower).
 * Postgres figures need the local server (BENCH_DATABASE_URL, else DATABASE_URL, else postgres@127.0.0.1/postgres);
 * when it is not reachable those rows say so.
 */
import { execFile } from 'node:child_process';
import { loadavg } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { NODE_FLAGS } from './proc';

const run = promisify(execFile);

type Output = Record<string, unknown>;

/** A figure a bench prints with its own reference (measured inside that bench, same process, interleaved). */
interface SelfFigure {
  figure: string;
  value: number;
  unit: string;
  reference: string;
  referenceValue: number | null;
  /** value ÷ reference, oriented so that higher is better for Duely; null when there is no reference. */
  ratio: number | null;
}

/** How a figure of a bench's output is compared, for benches that print plain key/value lines. */
interface FigureSpec {
  figure: string;
  key: string;
  unit: string;
  reference:
    | { kind: 'constant'; label: string; value: number }
    | { kind: 'bench'; label: string; bench: string; key: string }
    /** Another figure of the same bench's output (measured in the same process). */
    | { kind: 'same'; label: string; key: string }
    | { kind: 'none'; label: string };
}

interface Bench {
  name: string;
  file: string;
  args: (size: number | undefined) => string[];
  /** What its figures are compared with (benches that print `figures` themselves need none). */
  figures?: FigureSpec[];
}

/** QuickBooks Online's per-company limit: 500 requests/min × 1,000 entities per query page = 8,333 entities/s. */
const QBO_CEILING = 8_333;

const benches: Bench[] = [
  // CSV import vs COPY into staging + INSERT…SELECT, measured in the same process (bench/import.ts prints figures).
  { name: 'import', file: 'import.ts', args: (n) => ['pglite', `${n ?? 100_000}`] },
  { name: 'import', file: 'import.ts', args: (n) => ['postgres', `${n ?? 100_000}`] },
  // `duely serve` as its own process on a 100k-invoice tenant, driven by an external load generator (100 clients):
  // analytics p99 against the 50 ms target (bench/analytics.ts prints its figures).
  { name: 'analytics', file: 'analytics.ts', args: (n) => ['pglite', `${n ?? 100_000}`] },
  { name: 'analytics', file: 'analytics.ts', args: (n) => ['postgres', `${n ?? 100_000}`] },
  // The Invoices and Customers lists (search, sort, keyset pages, totals, CSV) on 100k invoices (bench/lists.ts).
  { name: 'lists', file: 'lists.ts', args: (n) => ['pglite', `${n ?? 100_000}`] },
  { name: 'lists', file: 'lists.ts', args: (n) => ['postgres', `${n ?? 100_000}`] },
  // Scoring 100k open invoices (features + ONNX + reasons) vs raw onnxruntime, and training on 100k rows.
  { name: 'risk', file: 'risk.ts', args: () => [] },
  // The QuickBooks connector alone: full-sync iterators over a 100k-invoice sandbox company, no database.
  { name: 'quickbooks-fetch', file: 'quickbooks.ts', args: (n) => [`${n ?? 100_000}`] },
  // Planning and rendering reminders, and the rate Resend actually takes them at (bench/dunning.ts).
  { name: 'dunning', file: 'dunning.ts', args: (n) => [`${n ?? 10_000}`] },
  // The send path's own rate (claim, render, locked re-check, store, call, record) one per message and in stored
  // batches, against Resend's ceiling of 2 requests/s × messages per request (bench/dunning-send.ts).
  { name: 'dunning-send', file: 'dunning-send.ts', args: (n) => ['pglite', `${n ?? 300}`, '1'] },
  { name: 'dunning-send', file: 'dunning-send.ts', args: (n) => ['postgres', `${n ?? 300}`, '1'] },
  // Reminder render vs renderToStaticMarkup of the same tree (bench/render.ts, interleaved in one process).
  { name: 'render', file: 'render.ts', args: (n) => [`${n ?? 2_000}`] },
  // `duely help` vs bare node, as child processes (bench/cli-help.ts).
  { name: 'cli-help', file: 'cli-help.ts', args: () => [] },
  // `duely serve` idle RSS on PGlite and Postgres, PGlite's start peak (bench/rss.ts).
  { name: 'rss', file: 'rss.ts', args: () => [] },
  // Full QuickBooks sync of a 20k-invoice sandbox company through run-sync (bench/quickbooks-sync.ts).
  ...(['pglite', 'postgres'] as const).map(
    (kind): Bench => ({
      name: 'quickbooks-sync',
      file: 'quickbooks-sync.ts',
      args: (n) => [kind, `${n ?? 20_000}`],
      figures: [
        {
          figure: `QuickBooks full sync, ${kind === 'pglite' ? 'PGlite' : 'Postgres'}`,
          key: 'entities/s',
          unit: 'entities/s',
          reference: {
            kind: 'constant',
            label: "QuickBooks' ceiling per company (constant)",
            value: QBO_CEILING,
          },
        },
        {
          figure: `QuickBooks full sync, ${kind === 'pglite' ? 'PGlite' : 'Postgres'}`,
          key: 'entities/s',
          unit: 'entities/s',
          reference: {
            kind: 'bench',
            label: 'the connector alone (quickbooks-fetch)',
            bench: 'quickbooks-fetch',
            key: 'entitiesPerSecond',
          },
        },
      ],
    }),
  ),
  // Full NetSuite sync of a 5k-invoice stand-in account (TBA, SuiteQL; the stand-in in its own process) through
  // run-sync, against NetSuite's ceiling per account = account concurrency × 1,000 rows ÷ seconds per page (15
  // concurrent, Premium tier without SuiteCloud Plus; 1.0 s per page, assumed: Oracle documents no latency; the
  // bench prints its parameters, bench/netsuite-sync.ts cites the sources), at Duely's share of that pool
  // (NETSUITE_CONCURRENCY), and against the connector alone. Then the connector alone with every page taking that
  // second: requests/s against NETSUITE_CONCURRENCY ÷ page seconds shows it keeps its share in flight.
  ...(['pglite', 'postgres'] as const).map((kind): Bench => {
    const db = kind === 'pglite' ? 'PGlite' : 'Postgres';
    return {
      name: 'netsuite',
      file: 'netsuite-sync.ts',
      args: (n) => [kind, `${n ?? 5_000}`],
      figures: [
        {
          figure: `NetSuite full sync, ${db}`,
          key: 'entities/s',
          unit: 'entities/s',
          reference: {
            kind: 'same',
            label: "NetSuite's ceiling per account (15 × 1,000 rows ÷ 1.0 s/page, assumed)",
            key: 'ceiling entities/s',
          },
        },
        {
          figure: `NetSuite full sync, ${db}`,
          key: 'entities/s',
          unit: 'entities/s',
          reference: {
            kind: 'same',
            label: 'the ceiling at NETSUITE_CONCURRENCY (3 × 1,000 ÷ 1.0 s)',
            key: 'ceiling at NETSUITE_CONCURRENCY entities/s',
          },
        },
        {
          figure: `NetSuite full sync, ${db}`,
          key: 'entities/s',
          unit: 'entities/s',
          reference: {
            kind: 'same',
            label: 'the connector alone (same run)',
            key: 'connector entities/s',
          },
        },
        {
          figure: `NetSuite full sync again at 1.0 s/page, ${db}`,
          key: 'full sync at page latency entities/s',
          unit: 'entities/s',
          reference: {
            kind: 'same',
            label: 'the connector alone at 1.0 s/page (same run)',
            key: 'connector at page latency entities/s',
          },
        },
        {
          figure: `NetSuite connector at 1.0 s/page (${db} run)`,
          key: 'requests/s at page latency',
          unit: 'requests/s',
          reference: {
            kind: 'same',
            label: 'NETSUITE_CONCURRENCY ÷ page seconds',
            key: 'requests/s ceiling (NETSUITE_CONCURRENCY ÷ page seconds)',
          },
        },
      ],
    };
  }),
];

const names = [...new Set(benches.map((b) => b.name))];

interface Options {
  only: string[];
  rounds: number;
  size: number | undefined;
  list: boolean;
}

function options(argv: string[]): Options | string {
  const o: Options = { only: [], rounds: 1, size: undefined, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list') o.list = true;
    else if (a === '--rounds' || a === '--size') {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) return `${a} needs a positive whole number`;
      if (a === '--rounds') o.rounds = v;
      else o.size = v;
    } else if (a.startsWith('-')) return `unknown option ${a}`;
    else o.only.push(a);
  }
  const unknown = o.only.filter((n) => !names.includes(n));
  if (unknown.length > 0) return `unknown bench ${unknown.map((u) => `"${u}"`).join(', ')}`;
  return o;
}

interface Row {
  figure: string;
  unit: string;
  reference: string;
  values: number[];
  refValues: number[];
  ratios: number[];
  loads: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (x: number) =>
  Math.abs(x) >= 100 ? Math.round(x).toLocaleString('en-US') : `${Math.round(x * 1000) / 1000}`;

async function main(): Promise<number> {
  const o = options(process.argv.slice(2));
  if (typeof o === 'string') {
    process.stderr.write(`bench: ${o}.\nValid names: ${names.join(', ')}\n`);
    return 2;
  }
  if (o.list) {
    process.stdout.write(`${names.join('\n')}\n`);
    return 0;
  }
  const selected = benches.filter((b) => o.only.length === 0 || o.only.includes(b.name));
  const rows = new Map<string, Row>();
  const row = (figure: string, unit: string, reference: string) => {
    const id = `${figure}\0${reference}`;
    let r = rows.get(id);
    if (!r) {
      r = { figure, unit, reference, values: [], refValues: [], ratios: [], loads: [] };
      rows.set(id, r);
    }
    return r;
  };
  let failed = 0;
  for (let round = 1; round <= o.rounds; round++) {
    const outputs = new Map<string, Output>();
    for (const b of selected) {
      const args = b.args(o.size);
      process.stdout.write(
        `\n# ${b.name} ${args.join(' ')}${o.rounds > 1 ? ` (round ${round}/${o.rounds})` : ''}\n`,
      );
      let out: Output;
      try {
        const { stdout } = await run(
          process.execPath,
          [...NODE_FLAGS, '--import', 'tsx', path.join(import.meta.dirname, b.file), ...args],
          {
            maxBuffer: 16 * 1024 * 1024,
            timeout: 15 * 60_000,
            env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production' },
          },
        );
        out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Output;
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        process.stdout.write(
          `  failed: ${(e.stderr || e.message).trim().split('\n').slice(-3).join(' | ')}\n`,
        );
        failed++;
        continue;
      }
      const load = loadavg()[0]!;
      outputs.set(b.name, out);
      for (const [k, v] of Object.entries(out)) {
        if (k === 'figures') continue;
        process.stdout.write(`  ${k.padEnd(34)} ${typeof v === 'object' ? JSON.stringify(v) : v}\n`);
      }
      process.stdout.write(`  ${'load average (1 min)'.padEnd(34)} ${load.toFixed(2)}\n`);
      for (const f of (out.figures as SelfFigure[] | undefined) ?? []) {
        const r = row(f.figure, f.unit, f.reference);
        r.values.push(f.value);
        if (f.referenceValue !== null) r.refValues.push(f.referenceValue);
        if (f.ratio !== null) r.ratios.push(f.ratio);
        r.loads.push(load);
      }
      for (const spec of b.figures ?? []) {
        const value = Number(out[spec.key]);
        if (!Number.isFinite(value)) continue;
        const ref = spec.reference;
        const r = row(spec.figure, spec.unit, ref.label);
        r.values.push(value);
        r.loads.push(load);
        const refValue =
          ref.kind === 'constant'
            ? ref.value
            : ref.kind === 'bench'
              ? Number(outputs.get(ref.bench)?.[ref.key])
              : ref.kind === 'same'
                ? Number(out[ref.key])
                : Number.NaN;
        if (Number.isFinite(refValue)) {
          r.refValues.push(refValue);
          r.ratios.push(value / refValue);
        }
      }
    }
  }
  process.stdout.write(
    `\n# Figures${o.rounds > 1 ? ` (${o.rounds} interleaved rounds: figure and reference medians, ratio min / median)` : ''}\n`,
  );
  for (const r of rows.values()) {
    const ref =
      r.refValues.length > 0
        ? `${r.reference}: ${fmt(median(r.refValues))}`
        : `${r.reference}: reference: not measured yet`;
    const ratio =
      r.ratios.length > 0
        ? `ratio ${fmt(Math.min(...r.ratios))} / ${fmt(median(r.ratios))}`
        : 'ratio: none (no reference in this run)';
    process.stdout.write(
      `  ${r.figure}: ${fmt(median(r.values))} ${r.unit} | ${ref} | ${ratio} | load ${fmt(Math.min(...r.loads))}–${fmt(Math.max(...r.loads))}\n`,
    );
  }
  return failed > 0 ? 1 : 0;
}

main().then((code) => process.exit(code));
