/**
 * PGlite has no lock of its own: two processes opening one data directory corrupt it. `duely.lock` names its owner
 * and is created atomically (written to a private file, then hard-linked into place: the link fails if a lock
 * exists, and nobody ever reads a half-written lock).
 *
 * Whether the owner is alive:
 * - same host and same kernel boot: the owner's pid must still run *and* have the start time recorded in the lock
 *   (Linux /proc). A container restarted after an unclean stop gets pid 1 again, but not the same start time, so
 *   its own old lock is recognised as stale; a lock of this very process is recognised by its token;
 * - same host, another boot: the machine restarted, the owner is gone;
 * - another host name (a recreated container, a shared volume): the owner refreshes the lock's mtime every
 *   `HEARTBEAT_MS`; a lock not refreshed for `STALE_MS` is stale.
 *
 * A stale lock is replaced inside a takeover mutex (`duely.lock.takeover`, an atomic mkdir) after re-reading it and
 * checking it is still the very lock judged stale (same token), so two processes can never both take it over.
 */
import { randomUUID } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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
  /** Absent in locks written by older versions. */
  token?: string;
  bootId?: string | null;
  /** The owner's start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTime?: number | null;
}

export const LOCK_HEARTBEAT_MS = 10_000;
export const LOCK_STALE_MS = 60_000;
/** A takeover mutex older than this was left by a process that died inside the takeover. */
const TAKEOVER_STALE_MS = 10_000;

/** Tokens of the locks this process holds (a second open of the same directory in-process is refused too). */
const held = new Set<string>();

function readText(file: string): string | null {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return null;
  }
}

function bootId(): string | null {
  return readText('/proc/sys/kernel/random/boot_id');
}

/** Start time of `pid` in clock ticks since boot, or null when there is no such process (or no /proc). */
export function processStartTime(pid: number): number | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return null;
  // "pid (comm) state ppid ...": comm may contain spaces and parentheses; fields after the last ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = Number(fields[19]);
  return Number.isFinite(start) ? start : null;
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock's owner may still be alive (see the module comment). */
export function ownerAlive(owner: LockInfo, lockMtimeMs: number, now = Date.now()): boolean {
  if (owner.token && held.has(owner.token)) return true;
  const here = bootId();
  if (owner.host === hostname() && owner.bootId && here) {
    if (owner.bootId !== here) return false;
    if (owner.pid === process.pid) return false; // not ours (token): an earlier life of this pid
    const start = processStartTime(owner.pid);
    return start !== null && (owner.startTime == null || start === owner.startTime);
  }
  if (owner.host === hostname() && !owner.bootId) {
    // An older lock (no boot id, no start time): only the pid can be checked.
    return owner.pid !== process.pid && pidRuns(owner.pid);
  }
  return now - lockMtimeMs < LOCK_STALE_MS;
}

function readLock(file: string): { info: LockInfo | null; mtimeMs: number } | null {
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
  } catch {
    return null;
  }
  try {
    const info = JSON.parse(readFileSync(file, 'utf8')) as LockInfo;
    return { info: typeof info.pid === 'number' ? info : null, mtimeMs };
  } catch {
    return { info: null, mtimeMs };
  }
}

/** Creates `file` with `info` atomically; false when a lock already exists. */
function createLock(file: string, info: LockInfo): boolean {
  const tmp = `${file}.${info.token}`;
  writeFileSync(tmp, JSON.stringify(info), { mode: 0o600 });
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/** Runs `fn` holding the takeover mutex; null when another process holds it. */
function withTakeoverMutex<T>(file: string, fn: () => T): T | null {
  const mutex = `${file}.takeover`;
  try {
    mkdirSync(mutex);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    try {
      if (Date.now() - statSync(mutex).mtimeMs > TAKEOVER_STALE_MS) rmdirSync(mutex);
    } catch {
      // gone meanwhile
    }
    return null;
  }
  try {
    return fn();
  } finally {
    rmdirSync(mutex);
  }
}

function refuse(dir: string, owner: LockInfo | null): AppError {
  return new AppError(
    'data_dir_locked',
    owner
      ? `The data directory ${dir} is in use by another Duely process (pid ${owner.pid} on ${owner.host}, since ${owner.since}). ` +
          'Stop that process, or set DATA_DIR to another directory. To run several processes, use Postgres (DATABASE_URL).'
      : `Could not lock the data directory ${dir}: another process is taking it over; try again.`,
    409,
  );
}

export function lockDataDir(dir: string): DirLock {
  const file = path.join(dir, 'duely.lock');
  const info: LockInfo = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    token: randomUUID(),
    bootId: bootId(),
    startTime: processStartTime(process.pid),
  };
  if (!createLock(file, info)) {
    const current = readLock(file);
    if (current?.info && ownerAlive(current.info, current.mtimeMs)) throw refuse(dir, current.info);
    // Stale (or unreadable and not refreshed): replace it, unless someone else already did.
    const judged = current?.info?.token ?? null;
    const took = withTakeoverMutex(file, () => {
      const again = readLock(file);
      if (again && (again.info?.token ?? null) !== judged) return false; // replaced meanwhile
      if (again && !again.info && Date.now() - again.mtimeMs < LOCK_STALE_MS) return false; // being written
      if (again) unlinkSync(file);
      return createLock(file, info);
    });
    if (!took) {
      const now = readLock(file);
      throw refuse(dir, now?.info ?? null);
    }
  }
  held.add(info.token as string);
  const heartbeat = setInterval(() => {
    try {
      if (readLock(file)?.info?.token === info.token) {
        const t = new Date();
        utimesSync(file, t, t);
      }
    } catch {
      // the next beat retries
    }
  }, LOCK_HEARTBEAT_MS);
  heartbeat.unref();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    held.delete(info.token as string);
    try {
      if (readLock(file)?.info?.token === info.token) unlinkSync(file);
    } catch {
      // already gone
    }
  };
  process.once('exit', release);
  return { release };
}
