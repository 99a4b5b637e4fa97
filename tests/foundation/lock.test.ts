import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createDb } from '../../src/db/client';
import { lockDataDir } from '../../src/db/lock';

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
});
