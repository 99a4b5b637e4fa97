/**
 * A sync process for kill tests: `node --import tsx tests/sync/sync-child.ts <connectionId>` runs the connection's
 * sync (runSync, as `duely sync` and the worker run it) on the database its environment names (DATABASE_URL, else
 * DATA_DIR), and SIGKILLs itself right after the page that ends a full sync committed: the page whose cursor left
 * full mode (every kind's listing done), before the run is marked `succeeded`. No other process can stop it at that
 * exact point from outside (no request is made between that page and the mark). Exits 0 if the sync ended without
 * reaching that point (the caller's test then fails on the missing signal).
 */
import { loadConfig } from '../../src/config';
import { createServices } from '../../src/services';
import { runSync, SYNC_KINDS } from '../../src/sync/run-sync';

const [connectionId] = process.argv.slice(2);
if (!connectionId) throw new Error('usage: sync-child.ts <connectionId>');
const services = await createServices(loadConfig(process.env), { queue: false });
const result = await runSync(services, {
  connectionId,
  reason: 'test',
  onProgress: (p) => {
    // run-sync marks every kind done only once a page's cursor left full mode (advanceProgress); with QuickBooks'
    // order (payments last) nothing before that page has payments done.
    if (p.kind === 'full' && SYNC_KINDS.every((k) => p.progress.entities[k]?.done))
      process.kill(process.pid, 'SIGKILL');
  },
});
process.stdout.write(`${JSON.stringify({ status: result.status, kind: result.kind })}\n`);
await services.close();
