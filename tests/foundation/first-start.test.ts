/**
 * The first start of a new user, for real: `duely serve` in its own process with no NODE_ENV and no built
 * settings app (WEB_DIST_DIR points at an empty directory), so the server builds the app itself, then renders an
 * email. Before the fix, Vite set NODE_ENV=production inside the server halfway through its start and every
 * email render answered 500 ("dispatcher.getOwner is not a function"); tests never saw it because they pre-build.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csv } from '../helpers/csv';

const ROOT = path.resolve(import.meta.dirname, '../..');
const TSX = path.join(ROOT, 'node_modules/tsx/dist/cli.mjs');
const dir = mkdtempSync(path.join(tmpdir(), 'duely-first-start-'));
let server: ChildProcess | null = null;

/** The environment of a shell on a fresh clone: no NODE_ENV, no test runner variables, embedded PGlite. */
function newUserEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'NODE_ENV' || k.startsWith('VITEST') || k === 'DATABASE_URL' || k.startsWith('DUELY_'))
      continue;
    env[k] = v;
  }
  return {
    ...env,
    DATA_DIR: path.join(dir, 'data'),
    WEB_DIST_DIR: path.join(dir, 'web'),
    QUICKBOOKS_DEMO: 'off',
    LOG_LEVEL: 'warn',
  };
}

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TSX, 'src/cli.ts', ...args], { cwd: ROOT, env: newUserEnv() });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('exit', (code) => resolve({ code, out }));
  });
}

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('first start as a new user', () => {
  it('builds the app in a child process and renders an email preview on the first request', async () => {
    const file = path.join(dir, 'ledger.csv');
    writeFileSync(
      file,
      csv([
        ['C1', 'INV-1', '2026-10-01', '2026-10-31', '1200.00', 'USD', '', 'email', 'US'],
        ['C1', 'INV-2', '2026-11-01', '2026-12-01', '300.00', 'USD', '', 'email', 'US'],
      ]),
    );
    const imported = await run(['import', file, '--now', '2026-11-20']);
    expect(imported.code, imported.out).toBe(0);
    expect(existsSync(path.join(dir, 'web', 'index.html'))).toBe(false);

    server = spawn(process.execPath, [TSX, 'src/cli.ts', 'serve', '--port', '0', '--now', '2026-11-20'], {
      cwd: ROOT,
      env: newUserEnv(),
    });
    let out = '';
    server.stderr!.on('data', (b) => (out += b));
    const banner = await new Promise<string>((resolve, reject) => {
      server!.stdout!.on('data', (b) => {
        out += b;
        if (/Admin token[^\n]*\n/.test(out) && /Sign in[^\n]*\n/.test(out)) resolve(out);
      });
      server!.once('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
    });
    const base = /App: +(\S+)/.exec(banner)![1]!;
    const token = /Admin token \(shown once, keep it\): (\S+)/.exec(banner)![1]!;
    const auth = { authorization: `Bearer ${token}` };

    // The server built the app into WEB_DIST_DIR and serves it.
    expect(existsSync(path.join(dir, 'web', 'index.html'))).toBe(true);
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<div id="root">');

    const invoices = (await (
      await fetch(`${base}/api/v1/tenants/default/invoices`, { headers: auth })
    ).json()) as {
      items: { id: string; number: string }[];
    };
    const inv = invoices.items.find((i) => i.number === 'INV-1')!;
    const res = await fetch(
      `${base}/api/v1/tenants/default/dunning/preview?invoice=${inv.id}&sequence=standard&step=1`,
      { headers: auth },
    );
    const body = (await res.json()) as { subject: string; html: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.subject).toContain('INV-1');
    expect(body.html).toContain('INV-1');
    // The server process itself was not put into another mode by the build: its emails render in production.
    expect(out).not.toContain('getOwner');
    // A cold start (initdb, a Vite build, two processes) on a busy machine: minutes, not the default minute.
  }, 300_000);
});
