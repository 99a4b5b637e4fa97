// Creates a new PGlite data directory and exits: initdb, then the schema migrations.
//   node pglite-initdb.mjs <dir> '<startParams JSON>' <migrationsFolder>
// Run as a short-lived child by src/db/client.ts: PGlite runs initdb in a second WASM instance (~1 GB peak) and
// the first migrations of an empty database grow the process by ~400 MiB more; in a child that memory is returned
// when it exits instead of staying in the server's.
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';

const [dir, params, migrationsFolder] = [
  process.argv[2],
  JSON.parse(process.argv[3] ?? '[]'),
  process.argv[4],
];
const pg = await PGlite.create(dir, { startParams: [...PGlite.defaultStartParams, ...params] });
if (migrationsFolder) await migrate(drizzle(pg), { migrationsFolder });
await pg.close();
