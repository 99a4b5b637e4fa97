/** `duely sync` and `duely demo` (src/cli-sync.ts), with their usage errors reported like every command's. */
import { CliUsageError, demoCommand, syncCommand } from '../cli-sync';
import { UsageError } from './errors';

const usage =
  (command: (args: string[]) => Promise<void>) =>
  async (args: string[]): Promise<void> => {
    try {
      await command(args);
    } catch (err) {
      throw err instanceof CliUsageError ? new UsageError(err.message) : err;
    }
  };

export const sync = usage(syncCommand);
export const demo = usage(demoCommand);
