/**
 * The demo company's consent page (/connect/quickbooks/demo/authorize) redirects only to Duely's own callback: any
 * other redirect_uri answers 400 with no code issued, like Intuit with an unregistered redirect URI. The sandbox
 * behind it refuses unregistered redirect URIs on its own too.
 */
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../../src/clock';
import { suiteTestApp } from '../helpers/app';

const t = suiteTestApp(
  {
    clock: fixedClock('2026-11-27'),
    queue: false,
    demoCompany: { customers: 3, invoices: 10 },
    token: false,
  },
  120_000,
);

/** The authorize URL Duely itself builds, with `edit` applied to its query. */
async function authorizeUrl(edit: (q: URLSearchParams) => void = () => {}) {
  const start = await t.app.inject({ url: '/connect/quickbooks' });
  const url = new URL(String(start.headers.location));
  edit(url.searchParams);
  return `${url.pathname}?${url.searchParams.toString()}`;
}

describe('demo consent page', () => {
  it('redirects to the configured callback with a code', async () => {
    const r = await t.app.inject({ url: await authorizeUrl() });
    expect(r.statusCode).toBe(302);
    const back = new URL(String(r.headers.location));
    expect(`${back.origin}${back.pathname}`).toBe(
      `${t.services.config.PUBLIC_URL}/connect/quickbooks/callback`,
    );
    expect(back.searchParams.get('code')).toBeTruthy();
  });

  it('refuses any other redirect_uri: 400, no redirect, no code', async () => {
    const callback = `${t.services.config.PUBLIC_URL}/connect/quickbooks/callback`;
    const hostile = [
      'https://evil.example/steal',
      `${callback}@evil.example`,
      `${callback}/../../elsewhere`,
      `${t.services.config.PUBLIC_URL}/`,
      `//evil.example${new URL(callback).pathname}`,
    ];
    for (const uri of hostile) {
      const r = await t.app.inject({ url: await authorizeUrl((q) => q.set('redirect_uri', uri)) });
      expect(r.statusCode, uri).toBe(400);
      expect(r.headers.location, uri).toBeUndefined();
      expect(r.body).not.toMatch(/sbx-code/);
    }
    // A second redirect_uri next to the right one is refused as well.
    const twice = await t.app.inject({
      url: await authorizeUrl((q) => q.append('redirect_uri', 'https://evil.example/')),
    });
    expect(twice.statusCode).toBe(400);
    const none = await t.app.inject({ url: await authorizeUrl((q) => q.delete('redirect_uri')) });
    expect(none.statusCode).toBe(400);
  });

  it('the sandbox itself refuses an unregistered redirect_uri', async () => {
    const q = new URL(`http://x${await authorizeUrl()}`).searchParams;
    q.set('redirect_uri', 'https://evil.example/steal');
    const r = await fetch(`${t.services.demoCompany!.sandbox.url}/connect/oauth2?${q}`, {
      redirect: 'manual',
    });
    expect(r.status).toBe(400);
    expect(r.headers.get('location')).toBeNull();
  });
});
