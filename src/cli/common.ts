/**
 * What every `duely` command module shares: flag parsing and the configuration as of `--now`. Kept free of heavy
 * imports (no db, React, onnxruntime, pg-boss) so `src/cli.ts` can load it for any command.
 */
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

export function configFor(flags: Flags, extra: Record<string, string | undefined> = {}) {
  const env: Record<string, string | undefined> = { ...process.env, ...extra };
  if (typeof flags.now === 'string') {
    parseClockDate(flags.now);
    env.DUELY_NOW = flags.now;
  }
  return loadConfig(env);
}
