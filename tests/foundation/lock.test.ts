import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createDb, rowsOf } from '../../src/db/client';
import { LOCK_STALE_MS, lockDataDir, processStartTime } from '../../src/db/lock';

const run = promisify(execFile);
const tmp = () => mkdtempSync(path.join(tmpdir(), 'duely-lock-'));

describe('data directory lock', () => {
  it('refuses a second process on the same DATA_DIR with a clear message', async () => {
    const dir = tmp();
    const h = await createDb({ dataDir: dir });
    try {
      const cli = path.resolve('src/cli.ts');
      const err = await run(process.execPath, ['--import', 'tsx', cli, 'migrate'], {
        env: { ...process.env, DATA_DIR: dir, DATABASE_URL: '' },
      }).catch((e) => e as { code: number; stderr: string });
      expect((err as { code: number }).code).toBe(1);
      expect((err as { stderr: string }).stderr).toContain(
        `The data directory ${dir} is in use by another Duely process (pid ${process.pid}`,
      );
    } finally {
      await h.close();
    }
    // Released on close: the next process gets in.
    const again = lockDataDir(dir);
    again.release();
  });

  it('takes over a lock left by a process that died', () => {
    const dir = tmp();
    writeFileSync(
      path.join(dir, 'duely.lock'),
      JSON.stringify({ pid: 2 ** 22 + 12345, host: hostname(), since: 'x' }),
    );
    const lock = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(/in use by another Duely process/);
    lock.release();
  });

  const onLinux = existsSync('/proc/sys/kernel/random/boot_id');
  const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const writeLock = (dir: string, info: object, ageMs = 0) => {
    const file = path.join(dir, 'duely.lock');
    writeFileSync(file, JSON.stringify({ since: 'earlier', token: 'old-owner', ...info }));
    const t = new Date(Date.now() - ageMs);
    utimesSync(file, t, t);
  };

  it.runIf(onLinux)(
    'a container restarted after an unclean stop takes back its own lock (same pid 1, another start time)',
    () => {
      const dir = tmp();
      const me = processStartTime(process.pid) as number;
      writeLock(dir, { pid: process.pid, host: hostname(), bootId: bootId(), startTime: me - 500 });
      const lock = lockDataDir(dir);
      // And this process's own lock is still refused to a second opener.
      expect(() => lockDataDir(dir)).toThrow(/in use by another Duely process/);
      lock.release();
    },
  );

  it.runIf(onLinux)(
    'a live owner on this host is refused; a reused pid with another start time is not',
    () => {
      const dir = tmp();
      const parent = process.ppid;
      const start = processStartTime(parent) as number;
      writeLock(dir, { pid: parent, host: hostname(), bootId: bootId(), startTime: start });
      expect(() => lockDataDir(dir)).toThrow(new RegExp(`pid ${parent}`));
      writeLock(dir, { pid: parent, host: hostname(), bootId: bootId(), startTime: start + 1 });
      lockDataDir(dir).release();
      // Another boot of this machine: nobody from before survived it.
      writeLock(dir, { pid: parent, host: hostname(), bootId: 'an-earlier-boot', startTime: start });
      lockDataDir(dir).release();
    },
  );

  it('an owner under another host name (a recreated container) is alive while it refreshes the lock', () => {
    const dir = tmp();
    writeLock(dir, { pid: 1, host: 'old-container-0f3a', bootId: 'x', startTime: 1 }, 1_000);
    expect(() => lockDataDir(dir)).toThrow(/pid 1 on old-container-0f3a/);
    writeLock(dir, { pid: 1, host: 'old-container-0f3a', bootId: 'x', startTime: 1 }, LOCK_STALE_MS + 5_000);
    lockDataDir(dir).release();
  });

  it('several processes taking over one stale lock at the same instant: exactly one owner', async () => {
    const script = path.resolve('tests/foundation/fixtures/lock-contender.ts');
    for (let round = 0; round < 3; round++) {
      const dir = tmp();
      writeLock(dir, { pid: 2 ** 22 + 999, host: 'gone-host', bootId: 'x', startTime: 1 }, LOCK_STALE_MS * 2);
      const at = Date.now() + 2_500;
      const children: ChildProcess[] = [];
      const answers = await Promise.all(
        Array.from({ length: 3 }, () => {
          const child = spawn(process.execPath, ['--import', 'tsx', script, dir, String(at)], {
            stdio: ['pipe', 'pipe', 'inherit'],
          });
          children.push(child);
          return new Promise<string>((resolve) => {
            child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
            child.once('exit', () => resolve('exited'));
          });
        }),
      );
      for (const c of children) c.stdin?.end();
      await Promise.all(
        children.map((c) => new Promise((r) => (c.exitCode === null ? c.once('exit', r) : r(0)))),
      );
      expect(answers.sort(), `round ${round}`).toEqual(['refused', 'refused', 'won']);
    }
  }, 180_000);

  it('kill -9 while committing: every acknowledged commit is there after the restart, which takes the lock over', async () => {
    const dir = tmp();
    const script = path.resolve('tests/foundation/fixtures/pglite-writer.ts');
    const child = spawn(process.execPath, ['--import', 'tsx', script, dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = -1;
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stdout?.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop() ?? '';
        for (const line of lines) if (/^\d+$/.test(line)) acknowledged = Number(line);
        if (acknowledged >= 200 && child.exitCode === null) {
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.once('exit', (code) =>
        acknowledged >= 200 ? resolve() : reject(new Error(`writer exited ${code}`)),
      );
    });
    await new Promise((r) =>
      child.exitCode === null && child.signalCode === null ? child.once('exit', r) : r(0),
    );
    const h = await createDb({ dataDir: dir });
    try {
      const [row] = rowsOf<{ n: number; max: number }>(
        await h.db.execute(sql`select count(*)::int as n, max(id) as max from durability_probe`),
      );
      expect(row?.max).toBeGreaterThanOrEqual(acknowledged);
      expect(row?.n).toBe((row?.max ?? 0) + 1);
    } finally {
      await h.close();
    }
  }, 180_000);
});
