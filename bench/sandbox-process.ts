/**
 * The QuickBooks sandbox in a child process, for benches that time our side of a sync. Real QuickBooks is a remote
 * server: rendering and serving its JSON is not our CPU, so the bench must not charge it to the process it times.
 * The child generates the company, serves it on a local port and reports what the bench needs over IPC; `stop()`
 * ends it. Nothing else moves out: fetching, parsing, mapping and writing all stay in the timed process.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { Sandbox, SandboxOptions } from '../sandboxes/quickbooks';

export interface SandboxProcess {
  realmId: string;
  config: Sandbox['config'];
  /** The sandbox clock's instant when it started (benches do not advance it). */
  now: Date;
  /** Rows the company holds per entity kind (the bench's entity count). */
  counts: { customers: number; invoices: number; payments: number; creditMemos: number };
  stop(): Promise<void>;
}

interface Ready {
  realmId: string;
  config: Sandbox['config'];
  now: string;
  counts: SandboxProcess['counts'];
}

type ChildOptions = Omit<SandboxOptions, 'now'> & { now: string };

/** Starts the sandbox in a child process and resolves once it serves. */
export function startSandboxProcess(options: SandboxOptions): Promise<SandboxProcess> {
  const childOptions: ChildOptions = { ...options, now: options.now.toISOString() };
  const child = fork(import.meta.filename, ['--child', JSON.stringify(childOptions)], {
    execArgv: ['--import', 'tsx'],
    // The parent may be profiled (NODE_OPTIONS=--cpu-prof): the child is not what is measured.
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`sandbox process exited (${code}) before serving`)));
    child.once('message', (m: Ready) => {
      resolve({
        realmId: m.realmId,
        config: m.config,
        now: new Date(m.now),
        counts: m.counts,
        stop: async () => {
          if (child.exitCode === null) child.kill();
          await exited;
        },
      });
    });
  });
}

async function serveChild(options: ChildOptions): Promise<void> {
  const { startSandbox } = await import('../sandboxes/quickbooks');
  const sandbox = await startSandbox({ ...options, now: new Date(options.now) });
  const ready: Ready = {
    realmId: sandbox.realmId,
    config: sandbox.config,
    now: sandbox.now().toISOString(),
    counts: {
      customers: sandbox.company.customers.size,
      invoices: sandbox.company.invoices.size,
      payments: sandbox.company.payments.size,
      creditMemos: sandbox.company.creditMemos.size,
    },
  };
  process.send?.(ready);
  // The parent going away (killed bench) ends the sandbox too.
  process.on('disconnect', () => {
    sandbox.stop().finally(() => process.exit(0));
  });
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '') && process.argv[2] === '--child') {
  serveChild(JSON.parse(process.argv[3] ?? '{}') as ChildOptions).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
