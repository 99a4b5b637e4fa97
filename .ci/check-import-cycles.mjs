#!/usr/bin/env node
// Import circles, enforced. Reads every .ts/.tsx under src/, connectors/, emails/ and sandboxes/, takes its static
// imports and re-exports (`import … from`, `import type … from`, `import '…'`, `export … from`) and its dynamic
// `import('…')` with a literal specifier, resolves the relative ones the way tsconfig's Bundler resolution does
// (./x → x.ts, x.tsx, x/index.ts, x/index.tsx; ./x.js → x.ts), finds the strongly connected components of that
// graph (Tarjan) and prints each cycle as a chain of files. Type-only imports count: a type cycle ties the modules'
// design together as much as a value cycle does.
//
// Exits 1 if a cycle exists that is not within one entry of ALLOWED below, or if a cycle of value imports (a
// load-order cycle) sits inside an allowed one; 0 otherwise.
//
// Usage: node .ci/check-import-cycles.mjs [root]   (root: the repository, by default the one this script is in)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Known cycles, each the list of its files (relative to the root). A cycle passes when all its files are in one
 * entry and it is closed by type-only imports; a cycle that grows beyond its entry, a value cycle inside it, or any
 * other cycle fails. An entry no cycle uses any more is reported, to be removed.
 */
const ALLOWED = [];

const DIRS = ['src', 'connectors', 'emails', 'sandboxes'];
const EXTS = ['.ts', '.tsx'];

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const rel = (abs) => relative(root, abs).split(sep).join('/');

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (EXTS.some((e) => name.endsWith(e)) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** The source with comments blanked out (newlines kept), so an import named in a comment is no edge. */
function withoutComments(src) {
  let out = '';
  let i = 0;
  let last = ''; // last significant code character, to tell a regex literal from a division
  while (i < src.length) {
    const c = src[i];
    const n = src[i + 1];
    if (c === '/' && n === '/') {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (c === '/' && n === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      out += src.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j + 1;
      last = c;
    } else if (
      c === '/' &&
      (last === '' || '(,=:[!&|?{};+-*%<>~^'.includes(last) || /\breturn\s*$/.test(out))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== '\n') {
        if (src[j] === '\\') j++;
        else if (src[j] === '[') inClass = true;
        else if (src[j] === ']') inClass = false;
        else if (src[j] === '/' && !inClass) break;
        j++;
      }
      out += src.slice(i, j + 1);
      i = j + 1;
      last = '/';
    } else {
      out += c;
      if (!/\s/.test(c)) last = c;
      i++;
    }
  }
  return out;
}

const STATIC = /^[ \t]*(?:import|export)\b([^;=()]*?)\bfrom\s*(['"])([^'"\n]+)\2/gm;
const BARE = /^[ \t]*import\s*(['"])([^'"\n]+)\1/gm;
const DYNAMIC = /\bimport\s*\(\s*(['"`])([^'"`\n$]+)\1\s*\)/g;

/** `import type …`, `export type …`, or braces naming only types: erased, no load-time dependency. */
function typeOnly(head) {
  const h = head.trim();
  if (/^type\b/.test(h)) return true;
  const braces = h.match(/^\{([^}]*)\}$/);
  if (!braces) return false;
  const names = braces[1]
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return names.length > 0 && names.every((n) => /^type\s/.test(n));
}

/** Each import of the file: its specifier and whether only types come through it. */
function specifiers(src) {
  const code = withoutComments(src);
  const out = [];
  for (const m of code.matchAll(STATIC)) out.push({ spec: m[3], typeOnly: typeOnly(m[1]) });
  for (const re of [BARE, DYNAMIC])
    for (const m of code.matchAll(re)) out.push({ spec: m[2], typeOnly: false });
  return out;
}

function resolveSpecifier(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  const stems = [base];
  const js = base.match(/^(.*)\.(m?js|jsx)$/);
  if (js) stems.unshift(js[1]);
  for (const stem of stems) {
    const candidates = [stem, ...EXTS.map((e) => stem + e), ...EXTS.map((e) => join(stem, `index${e}`))];
    for (const c of candidates)
      if (EXTS.some((e) => c.endsWith(e)) && existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

const files = DIRS.map((d) => join(root, d))
  .filter((d) => existsSync(d))
  .flatMap((d) => walk(d, []))
  .sort();
const graph = new Map(); // file → the files it imports
const valueGraph = new Map(); // file → the files it imports values from (type-only imports left out)
const known = new Set(files);
for (const f of files) {
  const edges = new Set();
  const valueEdges = new Set();
  for (const { spec, typeOnly } of specifiers(readFileSync(f, 'utf8'))) {
    const to = resolveSpecifier(f, spec);
    if (!to || !known.has(to)) continue;
    edges.add(to);
    if (!typeOnly) valueEdges.add(to);
  }
  graph.set(f, [...edges].sort());
  valueGraph.set(f, [...valueEdges].sort());
}

// Tarjan's strongly connected components (iterative: no recursion limit on a long import chain).
function tarjan(nodes, edgesOf) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const onStack = new Set();
  const stack = [];
  const sccs = [];
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work = [[start, 0]];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      const edges = edgesOf(v);
      if (i < edges.length) {
        frame[1]++;
        const w = edges[i];
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        const scc = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          scc.push(w);
        } while (w !== v);
        sccs.push(scc.sort());
      }
    }
  }
  return sccs;
}

/** One shortest chain start → … → start inside the component (breadth-first). */
function chainThrough(start, members) {
  const prev = new Map();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [];
        for (let u = v; u !== start; u = prev.get(u)) path.unshift(u);
        return [start, ...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

const cyclesOf = (nodes, g) =>
  tarjan(nodes, (v) => g.get(v) ?? []).filter(
    (scc) => scc.length > 1 || (g.get(scc[0]) ?? []).includes(scc[0]),
  );
const cycles = cyclesOf(files, graph);
const allowed = ALLOWED.map((entry) => new Set(entry));
let failed = 0;
const used = new Set();
for (const scc of cycles) {
  const names = scc.map(rel);
  let entry = allowed.findIndex((a) => names.every((n) => a.has(n)));
  // An allowed entry covers a cycle closed by type-only imports: a cycle of value imports inside it (a load-order
  // cycle, which the entry's removal would not remove) is not allowed.
  const members0 = new Set(scc);
  const valueCycles = cyclesOf(
    scc,
    new Map(scc.map((f) => [f, (valueGraph.get(f) ?? []).filter((t) => members0.has(t))])),
  );
  if (entry >= 0) used.add(entry);
  if (entry >= 0 && valueCycles.length > 0) {
    for (const vc of valueCycles)
      console.log(`IMPORT CYCLE of value imports inside an allowed cycle: ${vc.map(rel).join(', ')}`);
    entry = -1;
  }
  const members = new Set(scc);
  const label = entry >= 0 ? 'allowed import cycle' : 'IMPORT CYCLE';
  console.log(`${label} (${scc.length} files):`);
  // Each file's shortest way back to itself, so every file's part in the cycle shows.
  const seen = new Set();
  for (const f of scc) {
    const chain = chainThrough(f, members).map(rel);
    const key = [...chain.slice(0, -1)].sort().join('|');
    if (seen.has(key)) continue;
    seen.add(key);
    console.log(`  ${chain.join(' → ')}`);
  }
  if (entry < 0) failed++;
}
ALLOWED.forEach((entry, i) => {
  if (entry.length > 0 && !used.has(i))
    console.log(`note: allowed cycle ${i + 1} (${entry[0]} …) no longer exists: remove it from ALLOWED`);
});
console.log(
  `${files.length} files, ${cycles.length} cycle${cycles.length === 1 ? '' : 's'}, ${failed} not allowed`,
);
if (failed > 0) {
  console.error(
    'break the cycle (a type into its own module, a port, a factory taking its dependency) and rerun',
  );
  process.exit(1);
}
