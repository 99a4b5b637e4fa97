/** `duely dunning plan|outbox` (src/cli-dunning.ts), with its usage errors reported like every command's. */
import { DunningUsageError, dunningCommand } from '../cli-dunning';
import { UsageError } from './errors';

export async function run(args: string[]): Promise<void> {
  try {
    await dunningCommand(args);
  } catch (err) {
    throw err instanceof DunningUsageError ? new UsageError(err.message) : err;
  }
}
