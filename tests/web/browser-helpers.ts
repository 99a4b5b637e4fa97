/**
 * Shared setup of the Chromium tests (browser.test.ts, dunning-browser.test.ts): Debian's /usr/bin/chromium through
 * playwright-core, the app on a random port, sign-in with a one-time link, a CSV import on Connections.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { generateLedgerCsv } from '../../bench/ledger-csv';
import { issueApiToken } from '../../src/auth/api-tokens';
import { SessionAuth } from '../../src/auth/sessions';
import { ensureWebBuild } from '../../src/http/web';
import { scoreTenant } from '../../src/risk/service';
import type { Services } from '../../src/services';
import { giveEmails, goLive } from '../dunning-engine/fixtures';
import { buildTestApp } from '../helpers/app';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const SHOTS = path.resolve(import.meta.dirname, '../artifacts/screenshots');

if (!hasChromium) {
  console.warn(
    `browser tests skipped: ${CHROMIUM} not found (install Debian's chromium package to run them)`,
  );
}

export interface BrowserRig {
  app: FastifyInstance;
  base: string;
  browser: Browser;
  page: Page;
  consoleErrors: string[];
  shot: (name: string) => Promise<Buffer>;
  close: () => Promise<void>;
}

/**
 * Builds the web app if needed, serves `s` on 127.0.0.1 (a random port unless `port`: OAuth tests need the port
 * PUBLIC_URL names) and opens a 1280×860 en-US page in headless Chromium.
 */
export async function startBrowserRig(s: Services, opts: { port?: number } = {}): Promise<BrowserRig> {
  mkdirSync(SHOTS, { recursive: true });
  await ensureWebBuild();
  // The caller owns `s` (it closes it): the rig closes only its app.
  const built = await buildTestApp({ services: s, keepServices: true, token: false });
  const { app } = built;
  await app.listen({ host: '127.0.0.1', port: opts.port ?? 0 });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  return {
    app,
    base,
    browser,
    page,
    consoleErrors,
    shot: (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true }),
    close: async () => {
      await browser.close();
      await built.close();
    },
  };
}

/** A one-time sign-in link for an operator (all tenants), as `npm start` prints it. */
export function loginLink(s: Services, base: string, label = 'browser test'): Promise<string> {
  return new SessionAuth(s.db, s.config.APP_SECRET)
    .issueLoginToken({ tenantId: null, label, now: s.clock.now() })
    .then((token) => `${base}/login?token=${token}`);
}

/** Opens the link and presses "Sign in"; resolves on the dashboard. */
export async function signIn(page: Page, s: Services, base: string): Promise<void> {
  await page.goto(await loginLink(s, base));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
}

/** The first import of an operator without a company: Connections → company name + CSV → Import. */
export async function importCsvOnConnections(
  page: Page,
  company: string,
  fileName: string,
  csv: string,
): Promise<void> {
  await page.getByRole('link', { name: 'Connections' }).click();
  await page.getByLabel('Company name').fill(company);
  await page
    .getByLabel('CSV file')
    .setInputFiles({ name: fileName, mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.getByRole('button', { name: 'Import' }).click();
  const runs = page.getByTestId('sync-runs');
  await runs.waitFor();
  const deadline = Date.now() + 30_000;
  while (!((await runs.textContent()) ?? '').includes(fileName)) {
    if (Date.now() > deadline) throw new Error(`import of ${fileName} not listed`);
    await page.waitForTimeout(100);
  }
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  tags: string[];
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * axe-core (Deque's WCAG rule engine: 2.0–2.2 A/AA and best practices) on the page as it is now, optionally only
 * inside `include` (a CSS selector). evaluate() runs over the DevTools protocol, so the app's CSP does not block it.
 */
export async function axeViolations(page: Page, include?: string): Promise<AxeViolation[]> {
  // From the top of the page: scrolled, whatever passes under the sticky top bar reads as an obscured target
  // (target-size), depending only on where the last click left the scroll position.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (selector) => {
    const w = window as unknown as {
      axe: { run(ctx: object, opts: object): Promise<{ violations: AxeViolation[] }> };
    };
    const r = await w.axe.run(selector ? { include: [[selector]] } : document, {
      runOnly: {
        type: 'tag',
        values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'],
      },
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      tags: v.tags,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  }, include ?? null);
}

export const describeViolation = (v: AxeViolation) =>
  `${v.impact} ${v.id}: ${v.help} [${v.tags.filter((t) => t.startsWith('wcag')).join(', ')}]\n` +
  v.nodes
    .map((n) => `    ${n.target.join(' ')} — ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`)
    .join('\n');

/** Serious and critical violations, described: what a test asserts is empty. */
export async function seriousViolations(page: Page, include?: string): Promise<string[]> {
  return (await axeViolations(page, include))
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(describeViolation);
}

/**
 * The dunning pages' common start: sign in with the admin link, import an overdue ledger on Connections (Acme Corp,
 * `invoices` rows of 14 customers), give every customer an address (ap@<customer>.example), run `beforePlan`, store
 * `policy`, score, plan. Returns the tenant and a bearer header for API calls.
 */
export async function signInAndPlan(
  rig: BrowserRig,
  s: Services,
  opts: {
    policy: object;
    invoices?: number;
    customers?: number;
    beforePlan?: (tenantId: string) => Promise<void>;
  },
): Promise<{ tenantId: string; auth: { authorization: string } }> {
  const auth = { authorization: `Bearer ${(await issueApiToken(s.db, 'browser test')).token}` };
  await signIn(rig.page, s, rig.base);
  const csv = generateLedgerCsv(opts.invoices ?? 600, opts.customers ?? 14);
  await importCsvOnConnections(rig.page, 'Acme Corp', 'acme-invoices.csv', csv);
  const tenantId = (await rig.app.inject({ url: '/api/v1/tenants', headers: auth })).json().items[0]
    .id as string;
  await giveEmails(s, tenantId);
  // These suites review what the engine queues: the company is live (a new one starts with sending off).
  await goLive(s, tenantId);
  await opts.beforePlan?.(tenantId);
  const call = (method: 'PUT' | 'POST', url: string, payload?: object) =>
    rig.app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });
  const put = await call('PUT', '/policy', { policy: opts.policy });
  if (put.statusCode !== 200) throw new Error(`PUT policy: ${put.statusCode} ${put.body}`);
  await scoreTenant(s, tenantId);
  const plan = await call('POST', '/plan');
  if (plan.statusCode !== 200) throw new Error(`POST plan: ${plan.statusCode} ${plan.body}`);
  return { tenantId, auth };
}
