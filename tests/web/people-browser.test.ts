/**
 * People in real Chromium, without a terminal after the install: the admin invites a viewer from Settings → People;
 * the viewer opens the emailed link (read from the local outbox) in their own browser, signs in, sees the view-only
 * note and no invite form, and a write the page is not offering is refused by the server; later the viewer asks the
 * sign-in page to email a new link and gets in with it. Skipped without Chromium.
 */
import { eq } from 'drizzle-orm';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertUserRemoval } from '../../src/db/queries/users';
import { tenants, userRemovals } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { ledgerRows } from '../dunning-engine/fixtures';
import { latestSignInLink } from '../helpers/account-mail';
import { csv } from '../helpers/csv';
import { createTestServices } from '../helpers/services';
import {
  type BrowserRig,
  hasChromium,
  importCsvOnConnections,
  signIn,
  startBrowserRig,
} from './browser-helpers';

describe.skipIf(!hasChromium)('People in Chromium', () => {
  let s: Services;
  let rig: BrowserRig;
  let page: Page;
  let viewerContext: BrowserContext;
  let viewer: Page;

  /** The sign-in link of the newest email to `to`; the email points at PUBLIC_URL, this rig at a random port. */
  const linkFor = async (to: string) => {
    // The email is stored by the request that sends it: on a loaded machine it may land a little after the page
    // says so. A timeout shows latestSignInLink's own message.
    await expect
      .poll(
        () =>
          latestSignInLink(s, to).then(
            () => 'emailed',
            (err: Error) => err.message,
          ),
        { timeout: 30_000 },
      )
      .toBe('emailed');
    const { url } = await latestSignInLink(s, to);
    return `${rig.base}${url.pathname}${url.search}`;
  };

  beforeAll(async () => {
    s = await createTestServices();
    rig = await startBrowserRig(s);
    page = rig.page;
    viewerContext = await rig.browser.newContext({ viewport: { width: 1280, height: 860 }, locale: 'en-US' });
    viewer = await viewerContext.newPage();
  }, 120_000);

  afterAll(async () => {
    await viewerContext?.close();
    await rig?.close();
    await s?.close();
  });

  it('the admin invites a viewer from Settings → People', async () => {
    await signIn(page, s, rig.base);
    await importCsvOnConnections(page, 'Acme Corp', 'acme-small.csv', csv(ledgerRows()));
    await page.goto(`${rig.base}/settings`);
    const people = page.locator('.card', { has: page.getByRole('heading', { name: 'People' }) });
    // The operator is no person of the company: the card says so, and that nobody was invited yet (it showed an
    // empty table with no word of either).
    await people.getByTestId('people-operator-note').waitFor();
    expect(await people.getByTestId('people-operator-note').textContent()).toContain(
      'signed in as the operator',
    );
    expect(await people.getByTestId('people-none').textContent()).toContain('Nobody has been invited');
    await people.getByLabel('Email').fill('vic@acme.example');
    await people.getByLabel('Name (optional)').fill('Vic Viewer');
    await people.getByLabel('Role').selectOption('viewer');
    expect(await people.getByLabel('Email').inputValue()).toBe('vic@acme.example');
    await people.getByRole('button', { name: 'Send invitation' }).click();
    // The first email of a process loads the email renderer: give a loaded CI machine time, and say what the card
    // showed if the invitation never came back.
    await expect
      .poll(
        async () =>
          (await people.getByRole('status').count()) > 0
            ? await people.getByRole('status').textContent()
            : `(no status yet; the card reads: ${(await people.textContent())?.slice(0, 400).replaceAll('@', ' at ')})`,
        { timeout: 30_000 },
      )
      .toContain('vic@acme.example');
    await expect.poll(() => people.locator('tbody').textContent()).toContain('Invited');
    expect(await people.getByTestId('people-none').count()).toBe(0);
    await rig.shot('people-01-invited');
  });

  it('the viewer signs in by the emailed link, sees read-only pages, and the server refuses a write', async () => {
    await viewer.goto(await linkFor('vic@acme.example'));
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.waitForURL(`${rig.base}/`);
    await expect
      .poll(() => viewer.getByRole('note').textContent(), { timeout: 10_000 })
      .toContain('view-only');
    await viewer.goto(`${rig.base}/settings`);
    const people = viewer.locator('.card', { has: viewer.getByRole('heading', { name: 'People' }) });
    await expect
      .poll(() => people.locator('tbody').textContent(), { timeout: 10_000 })
      .toContain('Vic Viewer');
    expect(await people.getByRole('button', { name: 'Send invitation' }).count()).toBe(0);
    const status = await viewer.evaluate(async () => {
      const me = await (await fetch('/api/v1/session')).json();
      const r = await fetch(`/api/v1/tenants/${me.tenant.slug}/dunning/plan`, {
        method: 'POST',
        headers: { 'x-csrf-token': me.csrfToken },
      });
      return r.status;
    });
    expect(status).toBe(403);
    await rig.shot('people-02-viewer');
  });

  it('later, the viewer has a new link emailed from the sign-in page and gets in with it', async () => {
    await viewerContext.clearCookies();
    await viewer.goto(`${rig.base}/login`);
    await viewer.getByLabel('Email me a sign-in link').fill('vic@acme.example');
    await viewer.getByRole('button', { name: 'Send the link' }).click();
    await expect.poll(() => viewer.textContent('main')).toContain('sign-in link is on its way');
    // The page answers before the email is sent (the timing told users from strangers): until it is, the latest link
    // to vic is the invitation's, already used. Wait for the email itself.
    await s.auth.signInEmailsSettled();
    await viewer.goto(await linkFor('vic@acme.example'));
    await viewer.getByRole('button', { name: 'Sign in' }).click();
    await viewer.waitForURL(`${rig.base}/`);
    const me = await viewer.evaluate(async () => (await fetch('/api/v1/session')).json());
    expect(me).toMatchObject({ role: 'viewer', user: { email: 'vic@acme.example', method: 'email_link' } });
  });

  it('a removed person is listed under Removed (who removed them, when) and invited again from there', async () => {
    const people = page.locator('.card', { has: page.getByRole('heading', { name: 'People' }) });
    await page.goto(`${rig.base}/settings`);
    const vicRow = people.locator('tbody tr', { hasText: 'vic@acme.example' });
    await vicRow.waitFor();
    page.once('dialog', (d) => void d.accept());
    await vicRow.getByRole('button', { name: 'Remove' }).click();
    const removed = people.getByTestId('people-removed');
    await removed.waitFor();
    const row = removed.locator('tbody tr', { hasText: 'vic@acme.example' });
    expect(await row.textContent()).toContain('Vic Viewer');
    expect(await row.textContent()).toContain('Operator (admin sign-in link)');
    await rig.shot('people-03-removed');
    await row.getByRole('button', { name: 'Invite again' }).click();
    expect(await people.getByLabel('Email').inputValue()).toBe('vic@acme.example');
    expect(await people.getByLabel('Name (optional)').inputValue()).toBe('Vic Viewer');
    await people.getByLabel('Role').selectOption('collector');
    await people.getByRole('button', { name: 'Send invitation' }).click();
    await expect
      .poll(() => people.locator('tbody').first().textContent(), { timeout: 30_000 })
      .toContain('vic@acme.example');
    await expect.poll(() => people.getByTestId('people-removed').count()).toBe(0);
  });

  it('someone removed with only an Intuit account is let back with "Allow again"', async () => {
    const tenant = (await s.db.select().from(tenants).where(eq(tenants.name, 'Acme Corp')))[0]!;
    await insertUserRemoval(s.db, {
      tenantId: tenant.id,
      email: null,
      intuitSub: 'intuit-pat',
      name: 'Pat Quill',
      removedBy: 'Ada Admin <ada@acme.example>',
      removedAt: s.clock.now(),
    });
    await page.goto(`${rig.base}/settings`);
    const people = page.locator('.card', { has: page.getByRole('heading', { name: 'People' }) });
    const row = people.getByTestId('people-removed').locator('tbody tr', { hasText: 'Pat Quill' });
    await row.waitFor();
    expect(await row.textContent()).toContain('Intuit account, no email address');
    expect(await row.getByRole('button', { name: 'Invite again' }).count()).toBe(0);
    await row.getByRole('button', { name: 'Allow again' }).click();
    await expect
      .poll(() => people.getByRole('status').textContent())
      .toContain('may sign in with Intuit again');
    // The notice shows before the list is read again.
    await expect.poll(() => people.getByTestId('people-removed').count()).toBe(0);
    expect(await s.db.select().from(userRemovals).where(eq(userRemovals.tenantId, tenant.id))).toEqual([]);
  });
});
