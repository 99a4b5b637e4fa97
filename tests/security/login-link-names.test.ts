/**
 * A sign-in link works for whoever opens it, so one sent by someone else signs the browser in to *their* company:
 * Mallory asks Duely for a link to her own company (Evil Co) and mails it to Ada as "your Duely invitation"; Ada's
 * browser, signed in to Acme or not, opened a page that only said "This one-time link signs this browser in", and one
 * click later it was Mallory's admin session in Evil Co, Ada's own session replaced, and a QuickBooks company or CSV
 * Ada then connected landed in Mallory's books. The page now says which company and which person the link signs
 * in, and that it replaces the browser's current session; a link that no longer works says so before any click.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/auth/sessions';
import { createUser } from '../../src/auth/users';
import type { Services } from '../../src/services';
import { latestSignInLink } from '../helpers/account-mail';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };
const t = suiteTestApp({ token: 'operator' });

async function company(name: string, email: string) {
  const up = await app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${name}/imports`,
    headers: { ...t.auth, 'content-type': 'text/csv' },
    payload: csv([['CUST', 'I1', '2013-05-02', '2013-06-01', '100.00', 'USD', '', 'email', 'US']]),
  });
  expect(up.statusCode, up.body).toBe(201);
  const tenant = up.json().tenant as { id: string };
  await createUser(s.db, {
    tenantId: tenant.id,
    email,
    name: email.split('@')[0]!,
    role: 'admin',
    status: 'active',
  });
  return tenant;
}

/** The link Duely emails to `email` when asked on the sign-in page. */
async function emailedLink(email: string): Promise<string> {
  await app.inject({ method: 'POST', url: '/login/email', headers: form, payload: `email=${email}` });
  await s.auth.signInEmailsSettled();
  return (await latestSignInLink(s, email)).token;
}

let adaCookie: string;
beforeAll(async () => {
  ({ services: s, app } = t);
  await company('Acme Books', 'ada@acme.example');
  await company('Evil Co', 'mallory@evil.example');
  const own = await emailedLink('ada@acme.example');
  const r = await app.inject({ method: 'POST', url: '/login', headers: form, payload: `token=${own}` });
  expect(r.statusCode).toBe(303);
  adaCookie = r.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
});

describe('the sign-in page names whom a link signs in', () => {
  it("Mallory's link, opened in Ada's signed-in browser, names Evil Co and Mallory, and says it replaces Ada's session", async () => {
    const mallorys = await emailedLink('mallory@evil.example');
    const page = await app.inject({
      url: `/login?token=${mallorys}`,
      cookies: { [SESSION_COOKIE]: adaCookie },
    });
    expect(page.statusCode).toBe(200);
    const text = page.body.replace(/<[^>]+>/g, '').replace(/\s+/g, ' ');
    expect(text).toContain('signs this browser in to Evil Co as mallory@evil.example (admin)');
    expect(text).toContain('This browser is signed in to Acme Books as ada@acme.example now');
    expect(page.body).toContain('<form method="post" action="/login">');
    // Looking did not spend it.
    expect(await s.auth.sessions.peekLoginToken(mallorys, s.clock.now())).not.toBeNull();
  });

  it('a link that no longer works says so before any click, with no button', async () => {
    const used = await emailedLink('ada@acme.example');
    expect(
      (await app.inject({ method: 'POST', url: '/login', headers: form, payload: `token=${used}` }))
        .statusCode,
    ).toBe(303);
    for (const token of [used, `${used.slice(0, -2)}xx`]) {
      const page = await app.inject(`/login?token=${token}`);
      expect(page.statusCode).toBe(401);
      expect(page.body).toContain('This sign-in link no longer works');
      expect(page.body).not.toContain('<form method="post" action="/login">');
    }
  });
});
