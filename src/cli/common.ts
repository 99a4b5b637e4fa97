/**
 * What every `duely` command module shares: flag parsing and the configuration as of `--now`. Kept free of heavy
 * imports (no db, React, onnxruntime, pg-boss) so `src/cli.ts` can load it for any command.
 */
import { closeSync, createReadStream, fstatSync, openSync, type ReadStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseClockDate } from '../clock';
import { loadConfig } from '../config';
import { UsageError } from './errors';

export { ReportedFailure, UsageError } from './errors';

export type Flags = Record<string, string | boolean | undefined>;

export function parse<O extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({
      args,
      options: { now: { type: 'string' as const }, ...options },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** A file named on the command line; a read error names it (src/cli.ts prints it in one line). */
export function readInput(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    if (err && typeof err === 'object' && !('path' in err)) Object.assign(err, { path: file });
    throw err;
  }
}

/**
 * A file named on the command line as a stream of 256 KiB pieces (a large file is never held whole); opened at once,
 * so that a missing or unreadable file fails here and names it, like readInput.
 */
export function streamInput(file: string): ReadStream {
  try {
    const fd = openSync(file, 'r');
    if (fstatSync(fd).isDirectory()) {
      closeSync(fd);
      readFileSync(file); // the error reading a directory gives (EISDIR), as readInput reports it
    }
    return createReadStream('', { fd, highWaterMark: 256 * 1024 });
  } catch (err) {
    if (err && typeof err === 'object' && !('path' in err)) Object.assign(err, { path: file });
    throw err;
  }
}

/** A date flag's value (YYYY-MM-DD, or a full ISO instant); anything else is a usage error naming the flag. */
export function dateFlag(name: string, value: string): Date {
  try {
    return parseClockDate(value);
  } catch {
    throw new UsageError(`--${name} "${value}" is not a date: use YYYY-MM-DD`);
  }
}

/** A whole-number flag's value, at least `min`; anything else is a usage error naming the flag. */
export function countFlag(name: string, value: string, min: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} "${value}" is not a whole number of at least ${min}`);
  }
  return n;
}

export function configFor(flags: Flags, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  if (typeof flags.now === 'string') {
    dateFlag('now', flags.now);
    env.DUELY_NOW = flags.now;
  }
  return loadConfig(env);
}
