/**
 * A new PGlite data directory, made without loading the app: initdb and the first migrations run in a child
 * process. Kept apart from client.ts (whose schema and drivers cost ~150 MiB to import) so `duely serve` can
 * prepare its directory first and load the rest afterwards: the server and the initdb child then do not hold
 * their peaks at the same time.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lockDataDir } from './lock';

const here = path.dirname(fileURLToPath(import.meta.url));
const migrationsFolder = path.resolve(here, 'migrations');

/**
 * PGlite's server settings (appended to its default start parameters). shared_buffers is 32 MB instead of 128 MB:
 * PGlite keeps its buffer pool inside the WASM heap, which never shrinks, and the operating system caches the
 * data files anyway; this cuts a reopened database's resident memory by about 120 MiB.
 */
export const PGLITE_SETTINGS = ['-c', 'shared_buffers=32MB'];

export const emptyOrMissing = (dir: string) => !existsSync(dir) || readdirSync(dir).length === 0;

/** Where a data directory keeps PGlite's own files. */
export const pgliteDir = (dataDir: string) => path.join(dataDir, 'pglite');

/**
 * A new PGlite directory and its migrations, in a child process (src/db/pglite-initdb.mjs): the stored initdb
 * directory unpacked (src/db/pglite-template.mjs; PGlite's own initdb, 540–660 MiB, when it cannot be used), then
 * the migrations of an empty database, memory a Node process keeps; in a child it is returned when the child
 * exits (the server's own migrate() then finds nothing to do). The child writes into a sibling directory that is
 * renamed into place only when complete, so an interrupted first start leaves no half-made database. The caller
 * holds the data-directory lock.
 */
export async function initdbInChild(target: string): Promise<void> {
  const staging = `${target}.initdb`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  const script = path.join(here, 'pglite-initdb.mjs');
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        process.execPath,
        // Baseline WASM compiler only and a small young generation: the child is a one-shot, and optimising
        // PGlite's code peaked initdb at ~1.2 GiB (~570 MiB and faster with these flags, measured 2026-12-04).
        [
          '--liftoff-only',
          '--max-semi-space-size=1',
          script,
          staging,
          JSON.stringify(PGLITE_SETTINGS),
          migrationsFolder,
        ],
        { maxBuffer: 4 * 1024 * 1024 },
        (err, _stdout, stderr) => {
          if (err) return reject(new Error(`PGlite initdb failed: ${err.message} ${stderr.slice(-2000)}`));
          // The child's warnings (the stored directory could not be used and initdb ran instead).
          if (stderr) process.stderr.write(stderr);
          resolve();
        },
      );
    });
    if (existsSync(target)) rmdirSync(target);
    renameSync(staging, target);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Locks DATA_DIR (created owner-only if missing) and makes its database if it has none yet; returns the lock's
 * release. createDb holds it while the database is open.
 */
export async function lockAndInit(dataDir: string): Promise<() => void> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  const { release } = lockDataDir(dataDir);
  try {
    if (emptyOrMissing(pgliteDir(dataDir))) await initdbInChild(pgliteDir(dataDir));
  } catch (err) {
    release();
    throw err;
  }
  return release;
}

/**
 * Makes DATA_DIR's database if it does not exist yet (holding the data-directory lock while it does), so the
 * caller can do it before loading anything large. createDb does the same check and finds nothing to do.
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  if (dataDir.startsWith('memory://')) return;
  if (!emptyOrMissing(pgliteDir(dataDir))) return;
  (await lockAndInit(dataDir))();
}
