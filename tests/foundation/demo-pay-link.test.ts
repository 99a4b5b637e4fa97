/**
 * The demo company's pay links lead somewhere: a reminder previewed in the demo links each invoice's "Pay" to a page
 * Duely serves that says it is a demo pay link (a real company's link opens QuickBooks' payment page), not to the
 * sandbox's API port, where it answered 404.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { dunningMessages, tenants } from '../../src/db/schema';
import { suiteTestApp } from '../helpers/app';

const t = suiteTestApp(
  { clock: fixedClock('2026-11-27'), queue: false, demoCompany: { customers: 3, invoices: 10 } },
  120_000,
);

/** GET a URL the way a browser would: the app's own through inject, anything else over the network. */
async function open(url: string): Promise<{ status: number; body: string; type: string }> {
  const base = t.services.config.PUBLIC_URL;
  if (url.startsWith(`${base}/`)) {
    const r = await t.app.inject({ url: url.slice(base.length) });
    return { status: r.statusCode, body: r.body, type: String(r.headers['content-type']) };
  }
  const r = await fetch(url);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}

describe('a demo pay link', () => {
  it('opens a page that says it is the demo company', async () => {
    // The demo company connected as the consent page leaves it: its realm and tokens (its own client credentials).
    const demo = t.services.demoCompany!;
    const { connectors } = await import('../../connectors');
    const { toStoredTokens } = await import('../../src/sync/connection-tokens');
    const { seedConnection } = await import('../sync/helpers');
    const qb = connectors.quickbooks;
    const redirectUri = `${t.services.config.PUBLIC_URL}/connect/quickbooks/callback`;
    const res = await fetch(
      qb.oauth.buildAuthorizeUrl({
        authorizeUrl: demo.sandbox.config.QUICKBOOKS_AUTHORIZE_URL,
        clientId: demo.config.QUICKBOOKS_CLIENT_ID!,
        redirectUri,
        state: 'x',
      }),
      { redirect: 'manual' },
    );
    const cb = qb.oauth.parseCallback(
      Object.fromEntries(new URL(res.headers.get('location') ?? '').searchParams),
    );
    if (!cb.ok || !cb.externalId) throw new Error('demo authorize failed');
    const set = await qb.oauth.exchangeCode({
      tokenUrl: demo.sandbox.config.QUICKBOOKS_TOKEN_URL,
      clientId: demo.config.QUICKBOOKS_CLIENT_ID!,
      clientSecret: demo.config.QUICKBOOKS_CLIENT_SECRET!,
      code: cb.code,
      redirectUri,
    });
    const { connection: conn } = await seedConnection(t.services, {
      realmId: cb.externalId,
      tokens: toStoredTokens(set, t.services.clock.now()),
    });
    // Loaded here, not at the top: imported first, run-sync's module graph stalls the consent fetch (as in tests/sync/helpers.ts).
    const { runSync } = await import('../../src/sync/run-sync');
    const { planTenant } = await import('../../src/dunning/engine');
    expect((await runSync(t.services, { connectionId: conn.id, reason: 'test' })).status).toBe('succeeded');
    const [tenant] = await t.services.db.select().from(tenants).where(eq(tenants.id, conn.tenantId));
    await planTenant(t.services, tenant!.id);
    const [m] = (
      await t.services.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenant!.id))
    ).filter((r) => r.kind === 'reminder');
    expect(m).toBeTruthy();
    const text = await t.app.inject({
      url: `/api/v1/tenants/${tenant!.id}/dunning/messages/${m!.id}/rendered?format=text`,
      headers: t.auth,
    });
    expect(text.statusCode).toBe(200);
    const links = [...text.body.matchAll(/^Pay: (\S+)$/gm)].map((x) => x[1]!);
    expect(links.length, text.body).toBeGreaterThan(0);
    for (const link of links) {
      const page = await open(link);
      expect(page.status, link).toBe(200);
      expect(page.type).toMatch(/text\/html/);
      expect(page.body).toContain('Demo pay link');
      expect(page.body).toContain('Nothing is paid here');
      const id = link.split('/').at(-1)!;
      expect(page.body).toContain(demo.sandbox.company.invoices.get(id)!.docNumber);
    }
    // Not one of the demo company's invoices: 404, a page that says so.
    const unknown = await open(links[0]!.replace(/\/[^/]+$/, '/no-such-invoice'));
    expect(unknown.status).toBe(404);
  });
});
