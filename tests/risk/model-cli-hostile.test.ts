/**
 * `duely model evaluate` and `duely import` on what a user really types and really has: a wrong path, a date that
 * is not one, a ledger with nothing to score, one where every invoice was paid on time. Each gets a sentence and a
 * non-zero exit (or, where there are figures, a table without NaN), never a stack trace.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';
import { HEADER } from '../helpers/csv';
import { tempDir } from './fixtures';

const noTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);

/** `n` invoices of 5 customers over ~200 days, every `late`-th paid 10 days late (0: all on time), none open. */
function ledger(n: number, { late = 3, open = false } = {}): string {
  const lines = [HEADER];
  for (let i = 0; i < n; i++) {
    const day = new Date(Date.UTC(2019, 0, 1 + Math.floor((i * 200) / n)));
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    const due = new Date(day.getTime() + 30 * 86_400_000);
    const isLate = late > 0 && i % late === 0;
    const paid = new Date(due.getTime() + (isLate ? 10 : -5) * 86_400_000);
    lines.push(`C${i % 5},I${i},${iso(day)},${iso(due)},100.00,USD,${open ? '' : iso(paid)},,`);
  }
  return `${lines.join('\n')}\n`;
}

function file(name: string, content: string) {
  const f = join(tempDir(), name);
  writeFileSync(f, content);
  return f;
}

describe('duely model evaluate / import: hostile input', () => {
  it('a file that does not exist: one line naming it', async () => {
    for (const argv of [
      ['model', 'evaluate', '--history', '/nonexistent/ledger.csv'],
      ['import', '/nonexistent/ledger.csv', '--tenant', 'x'],
    ]) {
      const r = await runCli(argv);
      expect(r.code).toBe(1);
      expect(r.err).toContain('/nonexistent/ledger.csv');
      expect(r.err).toMatch(/no such file/i);
      noTrace(r.err);
    }
  });

  it('a directory instead of a file: one line naming it', async () => {
    const dir = tempDir();
    for (const argv of [
      ['model', 'evaluate', '--history', dir],
      ['import', dir, '--tenant', 'x'],
    ]) {
      const r = await runCli(argv);
      expect(r.code).toBe(1);
      expect(r.err).toBe(`cannot read ${dir}: it is a directory, not a file\n`);
    }
  });

  it('a --model directory without a model: one line', async () => {
    const r = await runCli([
      'model',
      'evaluate',
      '--history',
      file('l.csv', ledger(60)),
      '--model',
      tempDir(),
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/manifest\.json/);
    noTrace(r.err);
  });

  it('a date or a number that is not one is a usage error, not a stack trace or a silent default', async () => {
    const history = file('l.csv', ledger(60));
    for (const [flag, value] of [
      ['--from', '2019-13-45'],
      ['--from', '2019-02-30'],
      ['--cutoff', 'yesterday'],
      ['--every', 'abc'],
      ['--every', '0'],
      ['--bootstrap', 'many'],
      ['--to', '2019-02-30'],
      ['--window', 'validation'],
    ] as const) {
      const r = await runCli(['model', 'evaluate', '--history', history, flag, value]);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.err).toContain(flag);
      noTrace(r.err);
    }
    const imp = await runCli(['import', file('one.csv', ledger(1)), '--now', 'soon']);
    expect(imp.code).toBe(2);
    expect(imp.err).toContain('--now');
    noTrace(imp.err);
  });

  it('a cutoff before any history: says there is too little to train on, no stack trace', async () => {
    const r = await runCli([
      'model',
      'evaluate',
      '--history',
      file('l.csv', ledger(200)),
      '--cutoff',
      '2019-01-02',
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('2019-01-02');
    expect(r.err).toMatch(/need at least 30 invoices/);
    noTrace(r.err);
  });

  it('nothing to score (only a header, every invoice open, a start after the data): a sentence, not a NaN table', async () => {
    const cases = [
      ['--history', file('header.csv', `${HEADER}\n`)],
      ['--history', file('open.csv', ledger(200, { open: true }))],
      ['--history', file('l.csv', ledger(200)), '--from', '2030-01-01'],
      ['--history', file('l2.csv', ledger(200)), '--cutoff', '2030-01-01'],
    ];
    for (const args of cases) {
      const r = await runCli(['model', 'evaluate', ...args, '--bootstrap', '10']);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toMatch(/no invoice|no invoices/i);
      expect(r.out + r.err).not.toContain('NaN');
      noTrace(r.err);
    }
  });

  it('every invoice paid on time: AUC is "n/a" with the reason, no NaN anywhere', async () => {
    const r = await runCli([
      'model',
      'evaluate',
      '--history',
      file('ontime.csv', ledger(300, { late: 0 })),
      '--bootstrap',
      '10',
      '--every',
      '8',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('NaN');
    expect(r.out).toMatch(/AUC \(late\)\s+n\/a/);
    expect(r.out).toMatch(/AUC needs both late and on-time invoices/);
  });

  it('a handful of scored invoices: the figures come with a warning that they are too few to mean much', async () => {
    const r = await runCli([
      'model',
      'evaluate',
      '--history',
      file('tiny.csv', ledger(8)),
      '--bootstrap',
      '10',
    ]);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('NaN');
    expect(r.out).toMatch(/only \d invoices? scored/);
  });
});
