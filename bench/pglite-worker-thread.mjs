// The embedded database on its own thread: a PGlite instance driven by messages from bench/pglite-worker.ts.
// The main thread keeps fetching, parsing and mapping while PostgreSQL (WASM) runs here. Plain JS, so the
// worker needs no TypeScript loader. Messages are handled in arrival order; PGlite's own mutexes then give the
// same ordering and transaction exclusivity as an in-thread instance.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';

const port = parentPort;
if (!port) throw new Error('pglite-worker.mjs runs as a worker thread');

const identity = (v) => v;

/** The OIDs the caller parses itself come back as PGlite's raw text; the caller applies its own parsers. */
function optionsOf(opts) {
  if (!opts) return undefined;
  const { rawOids, ...rest } = opts;
  if (!rawOids?.length) return rest;
  const parsers = {};
  for (const oid of rawOids) parsers[oid] = identity;
  return { ...rest, parsers };
}

/** A DatabaseError's fields, cloneable (the query options can hold functions; the caller re-attaches its own). */
function errorOf(err) {
  if (!(err instanceof Error)) return { message: String(err) };
  const out = { message: err.message, name: err.name, stack: err.stack };
  for (const [k, v] of Object.entries(err)) {
    if (k === 'query' || k === 'params' || k === 'queryOptions') continue;
    if (v === undefined || typeof v === 'function') continue;
    out[k] = typeof v === 'object' && v !== null ? String(v) : v;
  }
  out.databaseError = err.constructor?.name === 'DatabaseError' || typeof err.code === 'string';
  return out;
}

let pg;
/** Open transactions by id: their PGlite tx handle and the way to end them. */
const txs = new Map();
const listeners = new Map();

const reply = (id, result) => port.postMessage({ id, ok: true, result });
const fail = (id, err) => port.postMessage({ id, ok: false, error: errorOf(err) });

async function handle(msg) {
  const { id, op } = msg;
  try {
    switch (op) {
      case 'query': {
        const target = msg.tx ? txs.get(msg.tx)?.tx : pg;
        if (!target) throw new Error('Transaction is closed');
        return reply(id, await target.query(msg.sql, msg.params, optionsOf(msg.opts)));
      }
      case 'exec': {
        const target = msg.tx ? txs.get(msg.tx)?.tx : pg;
        if (!target) throw new Error('Transaction is closed');
        return reply(id, await target.exec(msg.sql, optionsOf(msg.opts)));
      }
      case 'begin': {
        // Held open until the caller sends 'end': its queries arrive in between, tagged with this id.
        const entry = { tx: null, end: null, endId: undefined };
        const ended = new Promise((resolve) => {
          entry.end = resolve;
        });
        const rollbackSignal = new Error('rollback requested by caller');
        txs.set(id, entry);
        pg.transaction(async (tx) => {
          entry.tx = tx;
          reply(id, null);
          if (!(await ended)) throw rollbackSignal;
        })
          .then(
            () => reply(entry.endId, null),
            (err) => {
              if (entry.endId === undefined)
                fail(id, err); // BEGIN itself failed
              else if (err === rollbackSignal) reply(entry.endId, null);
              else fail(entry.endId, err);
            },
          )
          .finally(() => txs.delete(id));
        return;
      }
      case 'end': {
        const entry = txs.get(msg.tx);
        if (!entry || entry.endId !== undefined) throw new Error('Transaction is closed');
        entry.endId = id;
        entry.end(msg.commit);
        return;
      }
      case 'listen': {
        const unsub = await pg.listen(msg.channel, (payload) =>
          port.postMessage({ notify: msg.listener, payload }),
        );
        listeners.set(msg.listener, unsub);
        return reply(id, null);
      }
      case 'unlisten': {
        await listeners.get(msg.listener)?.();
        listeners.delete(msg.listener);
        return reply(id, null);
      }
      case 'cpu':
        return reply(id, process.threadCpuUsage());
      case 'close': {
        await pg.close();
        reply(id, null);
        port.close();
        return;
      }
      default:
        throw new Error(`unknown op ${op}`);
    }
  } catch (err) {
    fail(id, err);
  }
}

try {
  pg = await PGlite.create(workerData.dataDir, {
    startParams: [...PGlite.defaultStartParams, ...(workerData.startParams ?? [])],
  });
  port.on('message', (msg) => {
    void handle(msg);
  });
  port.postMessage({ ready: true });
} catch (err) {
  port.postMessage({ ready: false, error: errorOf(err) });
}
