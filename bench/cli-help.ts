/**
 * `duely help` (bin/duely.js, as a user runs it) vs bare `node -e 0`, both as child processes, interleaved, the
 * minimum of 5 runs each: wall seconds and peak RSS (VmHWM). Target (issue 18): duely help ≤ 0.3 s.
 * `tsx bench/cli-help.ts [runs]`: one JSON line.
 */
import path from 'node:path';
import { NODE_FLAGS, ROOT, timeChild } from './proc';

export async function benchCliHelp(runs = 5) {
  const duely: { seconds: number; peakMiB: number }[] = [];
  const bare: { seconds: number; peakMiB: number }[] = [];
  for (let i = 0; i < runs; i++) {
    const d = await timeChild(process.execPath, [...NODE_FLAGS, path.join(ROOT, 'bin/duely.js'), 'help']);
    if (d.code !== 0) throw new Error(`duely help exited with ${d.code}`);
    duely.push(d);
    bare.push(await timeChild(process.execPath, ['-e', '0']));
  }
  const min = (xs: number[]) => Math.min(...xs);
  const s = min(duely.map((d) => d.seconds));
  const b = min(bare.map((d) => d.seconds));
  const rss = min(duely.map((d) => d.peakMiB));
  const bareRss = min(bare.map((d) => d.peakMiB));
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    bench: 'cli-help',
    runs,
    'duely help s (min)': r3(s),
    'node -e 0 s (min)': r3(b),
    'duely help peak RSS MiB (min)': Math.round(rss),
    'node -e 0 peak RSS MiB (min)': Math.round(bareRss),
    'target s': 0.3,
    figures: [
      {
        figure: '`duely help` time',
        value: r3(s),
        unit: 's',
        reference: 'bare node -e 0 (ratio = node ÷ duely)',
        referenceValue: r3(b),
        ratio: b / s,
      },
      {
        figure: '`duely help` peak RSS',
        value: Math.round(rss),
        unit: 'MiB',
        reference: 'bare node -e 0 (ratio = node ÷ duely)',
        referenceValue: Math.round(bareRss),
        ratio: bareRss / rss,
      },
    ],
  };
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  benchCliHelp(Number(process.argv[2] ?? 5)).then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
}
