/** Child-process measurements for the benches: wall time and peak RSS (VmHWM), read from /proc while it runs. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

export const ROOT = new URL('..', import.meta.url).pathname;

/**
 * The node flags the product runs with: bin/duely.js's shebang and package.json's scripts pass them (see there).
 * Every bench child gets them, so a figure is what `npm start` / `duely …` would do. tests/foundation/node-flags
 * holds the three to the same flags, and the function index to PGlite's `_bt_compare`.
 */
export const NODE_FLAGS = ['--wasm-tier-up-filter=923'];

/** VmRSS and VmHWM of a live process in MiB (null when /proc has no such process). */
export function memOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/**
 * Runs a command to completion: wall seconds, and peak RSS in MiB from /proc/<pid>/status VmHWM sampled every
 * 5 ms (a short-lived process can end between samples; the last sample is its peak so far).
 */
export function timeChild(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ seconds: number; peakMiB: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'ignore'] });
    let peak = 0;
    const sample = () => {
      const m = child.pid ? memOf(child.pid) : null;
      if (m && Number.isFinite(m.hwm)) peak = Math.max(peak, m.hwm);
    };
    const timer = setInterval(sample, 5);
    child.on('error', reject);
    child.on('exit', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(timer);
      resolve({ seconds, peakMiB: peak, code });
    });
  });
}

/** CPU seconds (user + system) a live process has used so far, from /proc/<pid>/stat (null when it is gone). */
export function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at index 2: utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** A process and its descendants (Linux /proc/<pid>/task/<tid>/children). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const tid of readdirSync(`/proc/${out[i]}/task`)) {
        const kids = readFileSync(`/proc/${out[i]}/task/${tid}/children`, 'utf8').trim();
        if (kids) out.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** The summed VmRSS (MiB) of a process and its descendants right now. */
export function treeRssOf(pid: number): number {
  return processTree(pid).reduce((sum, p) => {
    const rss = memOf(p)?.rss ?? 0;
    return sum + (Number.isFinite(rss) ? rss : 0);
  }, 0);
}

/**
 * BENCH_CPU_PROFILE=<file>: a CPU profile of the timed full sync only (not start-up, migrations or the re-sync),
 * for `node --cpu-prof`-style analysis without the set-up noise (bench/quickbooks-sync.ts, bench/netsuite-sync.ts;
 * bench/cpu-profile-breakdown.ts reads it).
 */
export async function startProfile(): Promise<{ stop(): Promise<void> } | null> {
  const file = process.env.BENCH_CPU_PROFILE;
  if (!file) return null;
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
