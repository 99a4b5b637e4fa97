// Creates a new PGlite data directory and exits: the stored initdb directory unpacked (pglite-template.mjs; initdb
// itself when it cannot be used, with a warning on stderr), then the schema migrations.
//   node pglite-initdb.mjs <dir> '<startParams JSON>' <migrationsFolder>
// Run as a short-lived child by src/db/pglite-dir.ts: PGlite's initdb runs a second WASM instance (540–660 MiB
// peak) and migrating an empty database grows the process further; in a child that memory is returned when it
// exits instead of staying in the server's.
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { pgliteTemplate } from './pglite-template.mjs';

const [dir, params, migrationsFolder] = [
  process.argv[2],
  JSON.parse(process.argv[3] ?? '[]'),
  process.argv[4],
];
const template = pgliteTemplate();
if ('reason' in template) process.stderr.write(`duely: ${template.reason}; running initdb instead\n`);
const pg = await PGlite.create(dir, {
  startParams: [...PGlite.defaultStartParams, ...params],
  ...('blob' in template ? { loadDataDir: template.blob } : {}),
});
if (migrationsFolder) await migrate(drizzle(pg), { migrationsFolder });
await pg.close();
