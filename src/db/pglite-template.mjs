// The data directory PGlite's initdb makes, stored once in the repository (pglite-template.tar.br, described by
// pglite-template.json) so that no start has to run initdb: a new database is that directory unpacked
// (PGlite's `loadDataDir`). initdb in PGlite runs a second Postgres instance and copies its whole 128 MiB heap
// to restore it between runs; a first start peaked at 540–660 MiB in the initdb child for ~4 s, against
// ~270 MiB and ~1 s unpacked from here (README "Memory"). The directory depends only on the PGlite version
// (its Postgres catalog), not on Duely's schema: the migrations run on it as on any new database.
//
// `node src/db/pglite-template.mjs --write` (npm run db:template) makes it again with the installed PGlite; run it
// after changing PGlite's version (tests/foundation/pglite-template.test.ts fails until then, and until then every
// new database falls back to initdb, with a warning).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, constants } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
export const TEMPLATE_FILE = path.join(here, 'pglite-template.tar.br');
export const MANIFEST_FILE = path.join(here, 'pglite-template.json');

/** The installed @electric-sql/pglite version (its package.json is not in the package's exports: found from dist/). */
export function installedPgliteVersion() {
  // createRequire, not import.meta.resolve: vitest's module runner (global setup) has no import.meta.resolve.
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = path.join(path.dirname(entry), '..', 'package.json');
  return JSON.parse(readFileSync(pkg, 'utf8')).version;
}

/**
 * The stored data directory as a tar Blob for `PGlite.create(dir, { loadDataDir })`, or why it cannot be used
 * (missing, made by another PGlite version, or not the bytes the manifest names): then the caller runs initdb.
 * `files` is for tests.
 * @returns {{ blob: Blob } | { reason: string }}
 */
export function pgliteTemplate(files = { template: TEMPLATE_FILE, manifest: MANIFEST_FILE }) {
  if (!existsSync(files.template) || !existsSync(files.manifest))
    return { reason: 'no stored PGlite data directory (src/db/pglite-template.tar.br)' };
  const manifest = JSON.parse(readFileSync(files.manifest, 'utf8'));
  const installed = installedPgliteVersion();
  if (manifest.pglite !== installed)
    return {
      reason: `the stored PGlite data directory is for PGlite ${manifest.pglite}, ${installed} is installed (npm run db:template)`,
    };
  const packed = readFileSync(files.template);
  if (createHash('sha256').update(packed).digest('hex') !== manifest.sha256)
    return { reason: 'the stored PGlite data directory does not match its sha256 (pglite-template.json)' };
  return { blob: new Blob([brotliDecompressSync(packed)]) };
}

/** Runs initdb in memory with the installed PGlite and stores the directory it made, with its manifest. */
async function writeTemplate() {
  const { PGlite } = await import('@electric-sql/pglite');
  const pg = await PGlite.create('memory://');
  const postgres = (await pg.query('show server_version')).rows[0].server_version;
  const tar = Buffer.from(await (await pg.dumpDataDir('none')).arrayBuffer());
  await pg.close();
  // The three databases initdb makes are nearly identical: a 16 MiB window finds the repeats (~1.4 MB, not ~4.5
  // MB gzipped). Compressing takes ~40 s, unpacking ~0.1 s.
  const packed = brotliCompressSync(tar, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: 11,
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: tar.length,
    },
  });
  writeFileSync(TEMPLATE_FILE, packed);
  const manifest = {
    pglite: installedPgliteVersion(),
    postgres,
    sha256: createHash('sha256').update(packed).digest('hex'),
    bytes: packed.length,
    unpackedBytes: tar.length,
    made: 'npm run db:template: PGlite.create(memory://) then dumpDataDir, brotli (not byte-reproducible: initdb stamps a system identifier and times)',
  };
  writeFileSync(MANIFEST_FILE, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv[2] !== '--write') {
    process.stderr.write('usage: node src/db/pglite-template.mjs --write\n');
    process.exit(2);
  }
  process.stdout.write(`${JSON.stringify(await writeTemplate())}\n`);
}
