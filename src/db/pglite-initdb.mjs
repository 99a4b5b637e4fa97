// Creates a new PGlite data directory (initdb) and exits: `node pglite-initdb.mjs <dir> '<startParams JSON>'`.
// Run as a short-lived child by src/db/client.ts, so initdb's memory (PGlite runs it in a second WASM instance
// and snapshots its heap: ~1 GB peak) is returned with this process instead of staying in the server's.
import { PGlite } from '@electric-sql/pglite';

const [dir, params] = [process.argv[2], JSON.parse(process.argv[3] ?? '[]')];
const pg = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...params] });
await pg.query('select 1');
await pg.close();
