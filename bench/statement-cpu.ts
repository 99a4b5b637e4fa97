/**
 * Research tool (issue 18, not part of `npm run bench`): where PGlite's engine spends a bench's CPU, per SQL
 * statement. Preloaded into a bench process, it wraps PGlite's protocol entry point (`execProtocolRawSync`, every
 * message of every query, run synchronously on the calling thread) and charges the process CPU of each message to
 * the statement last parsed (extended protocol) or sent (simple query); at exit it prints to stderr the statements by
 * CPU (ms, executions, the statement's first 150 characters). When a PGlite instance closes it also prints its
 * `pg_stat_wal` (WAL records, full-page images, bytes). Whole-process CPU on a loaded machine swings ±20 %; these
 * shares are what a change to one statement can move.
 *
 *   node --wasm-tier-up-filter=923 --import tsx --import ./bench/statement-cpu.ts bench/netsuite-sync.ts pglite 20000 --no-latency
 */
import { PGlite } from '@electric-sql/pglite';

interface Wrapped {
  execProtocolRawSync(message: Uint8Array): Uint8Array;
  close(): Promise<void>;
  query<T>(sql: string): Promise<{ rows: T[] }>;
}

const proto = PGlite.prototype as unknown as Wrapped;
const exec = proto.execProtocolRawSync;
const close = proto.close;
const decoder = new TextDecoder();
const byStatement = new Map<string, { executions: number; ms: number }>();
let current = '(none)';

/** The NUL-terminated string of `message` starting at `from`, whitespace folded, at most 150 characters. */
function cString(message: Uint8Array, from: number): string {
  let end = from;
  while (end < message.length && message[end] !== 0) end++;
  return decoder
    .decode(message.subarray(from, Math.min(end, from + 600)))
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 150);
}

proto.execProtocolRawSync = function (this: Wrapped, message: Uint8Array): Uint8Array {
  const type = message[0];
  if (type === 0x50) {
    // Parse: 'P', length, statement name (NUL-terminated), query (NUL-terminated), …
    let name = 5;
    while (message[name] !== 0) name++;
    current = cString(message, name + 1);
  } else if (type === 0x51) current = cString(message, 5); // Query: 'Q', length, query
  const cpu0 = process.cpuUsage();
  const answer = exec.call(this, message);
  const cpu = process.cpuUsage(cpu0);
  const entry = byStatement.get(current) ?? { executions: 0, ms: 0 };
  if (type === 0x45 || type === 0x51) entry.executions++; // Execute or a simple query
  entry.ms += (cpu.user + cpu.system) / 1000;
  byStatement.set(current, entry);
  return answer;
};

proto.close = async function (this: Wrapped): Promise<void> {
  try {
    const { rows } = await this.query<Record<string, unknown>>(
      'select wal_records, wal_fpi, wal_bytes, wal_buffers_full from pg_stat_wal',
    );
    process.stderr.write(`pg_stat_wal ${JSON.stringify(rows[0])}\n`);
  } catch (err) {
    process.stderr.write(`pg_stat_wal unreadable: ${(err as Error).message}\n`);
  }
  return close.call(this);
};

process.on('exit', () => {
  const rows = [...byStatement.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((sum, [, s]) => sum + s.ms, 0);
  process.stderr.write(`PGlite engine CPU ${Math.round(total)} ms over ${rows.length} statements\n`);
  for (const [statement, s] of rows.slice(0, Number(process.env.STATEMENT_CPU_TOP ?? 30)))
    process.stderr.write(
      `${Math.round(s.ms).toString().padStart(7)} ms ${s.executions.toString().padStart(5)}×  ${statement}\n`,
    );
});
