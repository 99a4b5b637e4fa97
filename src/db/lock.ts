/**
 * PGlite has no lock of its own: two processes opening one data directory corrupt it. A lock file created with
 * O_EXCL holds the owner's pid; a lock left by a dead process (same host) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { AppError } from '../errors';

export interface DirLock {
  release(): void;
}

interface LockInfo {
  pid: number;
  host: string;
  since: string;
}

export function lockDataDir(dir: string): DirLock {
  const file = path.join(dir, 'duely.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      const info: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
      writeSync(fd, JSON.stringify(info));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        try {
          if (readOwner(file)?.pid === process.pid) unlinkSync(file);
        } catch {
          // already gone
        }
      };
      process.once('exit', release);
      return { release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      if (owner && (owner.host !== hostname() || isAlive(owner.pid))) {
        throw new AppError(
          'data_dir_locked',
          `The data directory ${dir} is in use by another Duely process (pid ${owner.pid} on ${owner.host}, since ${owner.since}). ` +
            'Stop that process, or set DATA_DIR to another directory. To run several processes, use Postgres (DATABASE_URL).',
          409,
        );
      }
      // The owner died without cleaning up (or the file is unreadable): take it over.
      try {
        unlinkSync(file);
      } catch {
        // raced with another process that removed it first; retry the exclusive create
      }
    }
  }
  throw new AppError('data_dir_locked', `Could not lock the data directory ${dir}`, 409);
}

function readOwner(file: string): LockInfo | null {
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
