/**
 * EXPERIMENT, not used by the app (README "PGlite on a worker thread"): `BENCH_PGLITE_WORKER=1` makes the bench
 * databases (bench/bench-db.ts) run PGlite on a worker thread (bench/pglite-worker-thread.mjs) behind the part of PGlite's API that drizzle, its migrator
 * and pg-boss's `fromPglite` use: query (params, rowMode, parsers), exec, transaction (an interactive tx whose
 * statements run inside it, in order), listen, close. The database engine then runs beside the main thread's
 * HTTP, JSON parsing, mapping and SQL building instead of taking turns with them.
 *
 * What crosses the thread boundary is structured-cloned: params (Date, Uint8Array, plain objects and arrays survive)
 * and result rows. Parser functions cannot cross: the worker returns the raw text of the OIDs the caller gave
 * parsers for, and they are applied here. Errors come back as PGlite DatabaseErrors with the same fields (code,
 * detail, constraint, table, …) plus the caller's query and params. If the worker dies, every pending and later
 * call rejects with an error saying so.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Results } from '@electric-sql/pglite';
import { messages } from '@electric-sql/pglite';

type Parser = (value: string, typeId: number) => unknown;
interface QueryOptions {
  rowMode?: 'array' | 'object';
  /** Read by `COPY … FROM '/dev/blob'` (src/db/copy.ts); a Blob is structured-cloned to the worker. */
  blob?: Blob;
  parsers?: Record<number, Parser>;
  serializers?: Record<number, unknown>;
  paramTypes?: number[];
}

interface Reply {
  id?: number;
  ok?: boolean;
  result?: unknown;
  error?: Record<string, unknown> & { message: string };
  notify?: number;
  payload?: string;
  ready?: boolean;
}

export interface PgliteTx {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    opts?: QueryOptions,
  ): Promise<Results<T>>;
  exec(sql: string, opts?: QueryOptions): Promise<Results[]>;
  rollback(): Promise<void>;
  readonly closed: boolean;
}

const workerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'pglite-worker-thread.mjs');

function toError(e: Reply['error'], query?: string, params?: unknown[], queryOptions?: unknown): Error {
  const fields: Record<string, unknown> = e ?? { message: 'unknown PGlite worker error' };
  const { databaseError, stack: _stack, name, ...rest } = fields;
  const message = String(fields.message);
  const err: Error = databaseError
    ? new messages.DatabaseError(message, Number(fields.length ?? 0), 'error')
    : new Error(message);
  Object.assign(err, rest);
  if (!databaseError && typeof name === 'string') err.name = name;
  if (query !== undefined) Object.assign(err, { query, params, queryOptions });
  return err;
}

export class PgliteProxy {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; query?: string; params?: unknown[]; opts?: unknown }
  >();
  private readonly listeners = new Map<number, (payload: string) => void>();
  private dead: Error | null = null;
  private closing = false;

  private constructor(worker: Worker) {
    this.worker = worker;
    worker.on('message', (m: Reply) => this.onMessage(m));
    worker.on('error', (err) => this.die(new Error(`PGlite worker failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => {
      if (!this.dead) this.die(new Error(`PGlite worker exited (code ${code})`));
    });
  }

  /** Starts the worker and opens `dataDir` in it (PGlite.create with these extra start parameters). */
  static async create(dataDir: string, startParams: string[]): Promise<PgliteProxy> {
    const worker = new Worker(workerScript, { workerData: { dataDir, startParams } });
    const ready = await new Promise<Reply>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`PGlite worker exited while opening (code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (m: Reply) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(m);
      });
    });
    if (!ready.ready) {
      await worker.terminate();
      throw toError(ready.error);
    }
    return new PgliteProxy(worker);
  }

  private onMessage(m: Reply): void {
    if (m.notify !== undefined) {
      this.listeners.get(m.notify)?.(m.payload ?? '');
      return;
    }
    const p = m.id === undefined ? undefined : this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id!);
    if (m.ok) p.resolve(m.result);
    else p.reject(toError(m.error, p.query, p.params, p.opts));
  }

  private die(err: Error): void {
    this.dead = this.closing ? new Error('PGlite is closed') : err;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }

  private call<T>(msg: Record<string, unknown>, ctx?: { query: string; params?: unknown[]; opts?: unknown }) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, ...ctx });
      try {
        this.worker.postMessage({ ...msg, id });
      } catch (err) {
        this.pending.delete(id);
        reject(err as Error);
      }
    });
  }

  private async runQuery<T>(
    tx: number | undefined,
    sql: string,
    params: unknown[] | undefined,
    opts: QueryOptions | undefined,
  ): Promise<Results<T>> {
    checkOptions(opts);
    const parsers = opts?.parsers;
    const wire = opts
      ? {
          rowMode: opts.rowMode,
          paramTypes: opts.paramTypes,
          blob: opts.blob,
          rawOids: parsers ? Object.keys(parsers).map(Number) : undefined,
        }
      : undefined;
    const res = await this.call<Results<T>>(
      { op: 'query', tx, sql, params: params ?? [], opts: wire },
      { query: sql, params, opts },
    );
    if (parsers) applyParsers(res, parsers, opts?.rowMode ?? 'object');
    return res;
  }

  private async runExec(
    tx: number | undefined,
    sql: string,
    opts: QueryOptions | undefined,
  ): Promise<Results[]> {
    checkOptions(opts);
    if (opts?.parsers) throw new Error('PGlite worker: exec takes no parsers');
    return this.call<Results[]>({ op: 'exec', tx, sql, opts }, { query: sql, opts });
  }

  query<T = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    opts?: QueryOptions,
  ): Promise<Results<T>> {
    return this.runQuery<T>(undefined, sql, params, opts);
  }

  exec(sql: string, opts?: QueryOptions): Promise<Results[]> {
    return this.runExec(undefined, sql, opts);
  }

  /**
   * PGlite's transaction(): BEGIN, `fn` with a tx whose statements run inside it, COMMIT (ROLLBACK if `fn` throws).
   * Statements outside it wait in the worker until it ends, as with an in-thread PGlite.
   */
  async transaction<T>(fn: (tx: PgliteTx) => Promise<T>): Promise<T> {
    const id = this.nextId;
    await this.call<null>({ op: 'begin' });
    let closed = false;
    const end = async (commit: boolean) => {
      closed = true;
      await this.call<null>({ op: 'end', tx: id, commit });
    };
    const check = () => {
      if (closed) throw new Error('Transaction is closed');
    };
    const tx: PgliteTx = {
      query: async (sql, params, opts) => {
        check();
        return this.runQuery(id, sql, params, opts);
      },
      exec: async (sql, opts) => {
        check();
        return this.runExec(id, sql, opts);
      },
      rollback: async () => {
        check();
        await end(false);
      },
      get closed() {
        return closed;
      },
    };
    let result: T;
    try {
      result = await fn(tx);
    } catch (err) {
      if (!closed) await end(false);
      throw err;
    }
    if (!closed) await end(true);
    return result;
  }

  /** LISTEN on `channel`; the returned function unlistens. */
  async listen(channel: string, callback: (payload: string) => void): Promise<() => Promise<void>> {
    const listener = this.nextId++;
    this.listeners.set(listener, callback);
    await this.call<null>({ op: 'listen', channel, listener });
    return async () => {
      this.listeners.delete(listener);
      if (!this.dead) await this.call<null>({ op: 'unlisten', listener });
    };
  }

  /** CPU time used so far by the database thread (process.threadCpuUsage() inside the worker), in µs. */
  threadCpuUsage(): Promise<NodeJS.CpuUsage> {
    return this.call<NodeJS.CpuUsage>({ op: 'cpu' });
  }

  /** Closes PGlite (flushing it to disk) and ends the worker. */
  async close(): Promise<void> {
    if (this.dead) return;
    this.closing = true;
    try {
      await this.call<null>({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }

  /** For tests: the worker's thread, to simulate a crash. */
  get thread(): Worker {
    return this.worker;
  }
}

const SUPPORTED = new Set(['rowMode', 'parsers', 'paramTypes', 'blob']);

/** An option this proxy does not carry across must fail loudly, not be dropped (a dropped `blob` hung COPY). */
function checkOptions(opts: QueryOptions | undefined): void {
  for (const key of Object.keys(opts ?? {}))
    if (!SUPPORTED.has(key)) throw new Error(`PGlite worker: query option ${key} is not supported`);
}

function applyParsers(
  res: Results<unknown>,
  parsers: Record<number, Parser>,
  rowMode: 'array' | 'object',
): void {
  const cols: { i: number; name: string; parse: Parser; oid: number }[] = [];
  res.fields.forEach((f, i) => {
    const parse = parsers[f.dataTypeID];
    if (parse) cols.push({ i, name: f.name, parse, oid: f.dataTypeID });
  });
  if (!cols.length) return;
  for (const row of res.rows as Record<string | number, unknown>[]) {
    for (const c of cols) {
      const key = rowMode === 'array' ? c.i : c.name;
      const v = row[key];
      if (v !== null && v !== undefined) row[key] = c.parse(v as string, c.oid);
    }
  }
}
