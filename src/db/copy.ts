/**
 * COPY … FROM into a table inside a drizzle transaction, on either driver: `COPY … FROM STDIN` through postgres-js's
 * writable stream, `COPY … FROM '/dev/blob'` with PGlite's `blob` query option. The fastest way either database
 * takes many rows (the CSV import stages its validated rows this way).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Tx } from './client';

interface PostgresJsTx {
  unsafe(query: string): { writable(): Promise<NodeJS.WritableStream> };
}
interface PgliteTx {
  query(query: string, params?: unknown[], options?: { blob?: Blob }): Promise<unknown>;
}

/** The driver's own transaction handle under a drizzle transaction. */
function driverOf(tx: Tx): PostgresJsTx | PgliteTx {
  return (tx as unknown as { session: { client: PostgresJsTx | PgliteTx } }).session.client;
}

/**
 * Runs `COPY <target> FROM … WITH (<options>)` with `data` as the input. `target` and `options` are SQL written by
 * the caller (a table and column list, e.g. `csv_stage (a, b)`; `format csv, header true`), never user input.
 */
export async function copyFrom(
  tx: Tx,
  target: string,
  options: string,
  data: readonly (string | Buffer)[],
): Promise<void> {
  const client = driverOf(tx);
  if ('unsafe' in client) {
    const stream = await client.unsafe(`copy ${target} from stdin with (${options})`).writable();
    await pipeline(Readable.from(data), stream as NodeJS.WritableStream);
    return;
  }
  await client.query(`copy ${target} from '/dev/blob' with (${options})`, [], {
    blob: new Blob(data as (string | Buffer<ArrayBuffer>)[]),
  });
}
