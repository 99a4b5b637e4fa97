/**
 * Serves the settings app (src/web, built by Vite into dist/web) at `/`: hashed assets under /assets with
 * long-lived caching, index.html for every other GET outside /api (SPA fallback), and the security headers of the
 * app's HTML responses. Embedding: the ledger's web app (Intuit's) shows the app in an iframe, so there is no `X-Frame-Options: DENY`;
 * CSP frame-ancestors (FRAME_ANCESTORS) says who may frame it.
 *
 * Building: `ensureWebBuild` runs `vite build` in a child process when dist/web (WEB_DIST_DIR) is missing or older
 * than any file in src/web, so `npm start` works on a fresh clone with no build step; `npm run build:web` does the
 * same explicitly (CI, images).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Services } from '../app-services';
import { PUBLIC } from './auth';

const ROOT = path.resolve(import.meta.dirname, '../..');
export const WEB_SRC = path.join(ROOT, 'src/web');
export const WEB_DIST = path.join(ROOT, 'dist/web');

/** Where the built app is served from: WEB_DIST_DIR, else dist/web next to the sources. */
export function webDistOf(config: Pick<Config, 'WEB_DIST_DIR'>): string {
  return config.WEB_DIST_DIR ? path.resolve(config.WEB_DIST_DIR) : WEB_DIST;
}

/** Content-Security-Policy for the app's HTML. Recharts sets inline style attributes, hence 'unsafe-inline' styles. */
export function contentSecurityPolicy(config: Pick<Config, 'FRAME_ANCESTORS'>): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'self'",
    "object-src 'none'",
    `frame-ancestors ${config.FRAME_ANCESTORS}`,
  ].join('; ');
}

export function setHtmlHeaders(reply: FastifyReply, config: Pick<Config, 'FRAME_ANCESTORS'>): FastifyReply {
  return reply
    .header('content-security-policy', contentSecurityPolicy(config))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-cache');
}

/**
 * The security headers of every response, as a global onSend hook: nosniff everywhere, HSTS when PUBLIC_URL is
 * https, and on any HTML that did not set its own (connect pages, the unsubscribe page, error pages) the app's
 * CSP, no-cache and a same-origin referrer policy, so a one-time link in the URL never leaves in a Referer.
 */
export function securityHeadersHook(config: Pick<Config, 'FRAME_ANCESTORS' | 'PUBLIC_URL'>) {
  const csp = contentSecurityPolicy(config);
  const hsts = config.PUBLIC_URL.startsWith('https://');
  return async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-content-type-options', 'nosniff');
    if (hsts) reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    if (!String(reply.getHeader('content-type') ?? '').startsWith('text/html')) return;
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', csp);
    if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
  };
}

/**
 * A stored email opened on its own (messages/:id/rendered?format=html): tenant and ledger text rendered as HTML, so
 * it runs sandboxed (an opaque origin, no scripts, no forms) and may load only inline styles and images.
 */
export const EMAIL_PREVIEW_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'self'; sandbox";

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** True when dist/web is missing or older than src/web (false when there are no sources, e.g. an image). */
export function webBuildStale(dist: string = WEB_DIST): boolean {
  if (!existsSync(WEB_SRC)) return false;
  const index = path.join(dist, 'index.html');
  if (!existsSync(index)) return true;
  return newestMtime(WEB_SRC) > statSync(index).mtimeMs;
}

const building = new Map<string, Promise<void>>();

/**
 * Builds the app with Vite when stale; concurrent callers in this process share one build. Other processes (test
 * workers, a second server) may build at the same moment, so each builds into its own directory and swaps it in
 * with renames: a reader never sees a half-written or emptied dist/web.
 *
 * Vite runs in a child process, never inside the server: Vite sets process.env.NODE_ENV when it is unset, and a
 * server whose JSX runtime was already loaded in development mode then loaded react-dom/server in production mode
 * (every email render failed with "dispatcher.getOwner is not a function"). The child builds the production
 * bundle whatever the server's NODE_ENV; the server's environment is never touched.
 */
export async function ensureWebBuild(logger?: Pick<Logger, 'info'>, dist: string = WEB_DIST): Promise<void> {
  if (!webBuildStale(dist)) return;
  let pending = building.get(dist);
  if (!pending) {
    pending = buildInto(dist, logger).finally(() => building.delete(dist));
    building.set(dist, pending);
  }
  return pending;
}

async function buildInto(dist: string, logger?: Pick<Logger, 'info'>): Promise<void> {
  const t0 = performance.now();
  logger?.info({ dist }, 'building the settings app (src/web → dist/web)');
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const outDir = `${dist}.build-${tag}`;
  mkdirSync(path.dirname(dist), { recursive: true });
  try {
    await runViteBuild(outDir);
    const old = `${dist}.old-${tag}`;
    try {
      renameSync(dist, old);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    try {
      renameSync(outDir, dist);
    } catch (err) {
      // Another process swapped its build in between our two renames: theirs is as fresh as ours.
      if (!['ENOTEMPTY', 'EEXIST'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
    rmSync(old, { recursive: true, force: true });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  logger?.info({ ms: Math.round(performance.now() - t0) }, 'settings app built');
}

/** `vite build` of src/web into outDir, in a child Node process with its own environment. */
function runViteBuild(outDir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const viteBin = path.join(path.dirname(require.resolve('vite/package.json')), 'bin/vite.js');
  const args = [
    viteBin,
    'build',
    '--config',
    path.join(WEB_SRC, 'vite.config.ts'),
    '--outDir',
    outDir,
    '--emptyOutDir',
    '--logLevel',
    'warn',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (b: Buffer) => {
      output = (output + b.toString()).slice(-8000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`vite build failed (${signal ?? `exit ${code}`}):\n${output.trim()}`));
    });
  });
}

export const webRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const dist = webDistOf(services.config);
    const built = existsSync(path.join(dist, 'index.html'));
    if (built) {
      // The built app's hashed assets are public files; @fastify/static adds their routes, so declare them here.
      app.addHook('onRoute', (route) => {
        if (route.url.startsWith('/assets/')) route.config = { ...route.config, ...PUBLIC };
      });
      await app.register(fastifyStatic, {
        root: path.join(dist, 'assets'),
        prefix: '/assets/',
        immutable: true,
        maxAge: '365d',
        index: false,
      });
    }
    // Files Vite copies to the root of dist/web (favicon) are served by name; everything else gets the SPA.
    const rootFiles = new Set<string>();
    try {
      for (const f of readdirSync(dist)) if (f !== 'index.html' && f !== 'assets') rootFiles.add(f);
    } catch {
      // Not built (or being rebuilt): the catch-all below answers with the SPA or the "not built" page.
    }

    app.get('/*', { config: PUBLIC }, async (req, reply) => {
      const pathname = req.url.split('?')[0]!;
      // Anything that reads as an API path however it is spelled (%2F, %61pi, //api) is a 404, never the app shell;
      // so is the API's documentation (/docs, src/http/api-docs.ts).
      let plain: string;
      try {
        plain = decodeURIComponent(pathname)
          .replace(/\/{2,}/g, '/')
          .toLowerCase();
      } catch {
        return reply.callNotFound();
      }
      if (/^\/(api|docs)(\/|;|$)/.test(plain)) return reply.callNotFound();
      const name = pathname.slice(1);
      if (rootFiles.has(name))
        return reply.header('cache-control', 'public, max-age=3600').sendFile(name, dist);
      setHtmlHeaders(reply, services.config);
      if (!built) {
        return reply
          .status(503)
          .type('text/html; charset=utf-8')
          .send(
            '<!doctype html><meta charset="utf-8"><title>Duely</title><p>The settings app is not built yet. ' +
              'Run <code>npm run build:web</code> (or start with <code>npm start</code>, which builds it).</p>',
          );
      }
      return reply.type('text/html; charset=utf-8').sendFile('index.html', dist);
    });
  };
