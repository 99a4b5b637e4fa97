/**
 * Research tool (issue 18, not part of `npm run bench`): splits a V8 CPU profile of a PGlite run — e.g. the one
 * `BENCH_CPU_PROFILE=<file>` makes bench/quickbooks-sync.ts write — into the main-thread time spent under PGlite
 * (its WASM engine plus its JS glue: protocol serialize/parse, the Emscripten file system) and everything else
 * (HTTP, JSON, zod, mapping, drizzle), idle and GC. That split bounds what moving PGlite off the main thread (a
 * worker) could gain: the sync can go no faster than the larger side. It then lists PGlite's engine functions by
 * inclusive time, named from pglite.wasm's export table (static C functions show as #index).
 *
 * `tsx bench/cpu-profile-breakdown.ts <file.cpuprofile> [top=40]`
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { wasmFunctionExports } from './wasm-exports';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Function index → export name (pglite.wasm has no name section). */
function wasmExportNames(file: string): Map<number, string> {
  return new Map([...wasmFunctionExports(readFileSync(file))].map(([name, index]) => [index, name]));
}

function main(): void {
  const file = process.argv[2];
  if (!file) throw new Error('usage: tsx bench/cpu-profile-breakdown.ts <file.cpuprofile> [top]');
  const top = Number(process.argv[3] ?? 40);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const require = createRequire(import.meta.url);
  const wasm = path.join(path.dirname(require.resolve('@electric-sql/pglite')), 'pglite.wasm');
  const names = wasmExportNames(wasm);

  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, k) => {
    const dt = profile.timeDeltas[k + 1] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });

  const isPglite = (f: CallFrame) => f.url.startsWith('wasm://') || f.url.includes('@electric-sql/pglite');
  const frameName = (f: CallFrame): string | null => {
    const m = /wasm-function\[(\d+)\]/.exec(f.functionName);
    if (m) return names.get(Number(m[1])) ?? `#${m[1]}`;
    return f.url.includes('@electric-sql/pglite') ? `js:${f.functionName || '(anonymous)'}` : null;
  };

  const split = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, t: number) => m.set(k, (m.get(k) ?? 0) + t);
  for (const [id, t] of self) {
    const leaf = byId.get(id)?.callFrame;
    let underPglite = false;
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const f = byId.get(x)?.callFrame;
      if (!f) break;
      if (isPglite(f)) underPglite = true;
      const name = frameName(f);
      if (name && !seen.has(name)) {
        seen.add(name);
        add(inclusive, name, t);
      }
    }
    const special = leaf && ['(idle)', '(garbage collector)', '(program)'].includes(leaf.functionName);
    add(
      split,
      underPglite
        ? 'PGlite (WASM + its JS glue, inclusive)'
        : special
          ? leaf.functionName
          : 'everything else',
      t,
    );
  }

  const line = (k: string, v: number) =>
    `${(v / 1e6).toFixed(3).padStart(8)} s ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  const out = [`profile ${(total / 1e6).toFixed(2)} s of main-thread samples`];
  for (const [k, v] of sorted(split)) out.push(line(k, v));
  const pglite = split.get('PGlite (WASM + its JS glue, inclusive)') ?? 0;
  out.push(
    `upper bound of a PGlite worker (wall ≥ the PGlite share): ${(total / Math.max(pglite, total - pglite)).toFixed(2)}x`,
  );
  out.push('', `PGlite functions by inclusive time (top ${top}):`);
  for (const [k, v] of sorted(inclusive).slice(0, top)) out.push(line(k, v));
  process.stdout.write(`${out.join('\n')}\n`);
}

main();
