/**
 * A person under a placeholder address (the first admin of a signed-out connect, an Intuit user whose email Intuit
 * has not verified) gives their address; it becomes theirs when the link mailed to it is used. Mail scanners (Safe
 * Links and the like) fetch every link in an email, so a GET that confirms would confirm for the scanner: anyone
 * with a placeholder account could have named a colleague's address (not yet a Duely user), had the colleague's
 * scanner confirm it, and from then on appear under that address in People and in the audit trail (an admin
 * inviting the colleague gets "already a user" and may promote the impostor instead). The GET now shows a button,
 * and only its same-origin POST confirms, as with sign-in links.
 */
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { connectAdminEmail, createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { accountEmails, users } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

const clock = new ManualClock('2026-11-27T10:00:00Z');
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };
let s: Services;
let userId: string;

const t = suiteTestApp({ clock, token: false });
beforeAll(async () => {
  s = t.services;
  const tenant = await ensureTenant(s.db, 'Placeholder Co', 'csv');
  const me = await createUser(s.db, {
    tenantId: tenant.id,
    email: connectAdminEmail('netsuite', '1234567'),
    role: 'viewer',
    status: 'active',
  });
  userId = me.id;
  const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
    tenantId: tenant.id,
    userId,
    method: 'connect',
    now: clock.now(),
  });
  const session = await t.app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: token } });
  const asked = await t.app.inject({
    method: 'POST',
    url: '/api/v1/session/email',
    cookies: { [SESSION_COOKIE]: token },
    headers: { [CSRF_HEADER]: session.json().csrfToken },
    payload: { email: 'cfo@placeholder.example' },
  });
  expect(asked.statusCode).toBe(202);
});

const emailOfMe = async () => (await s.db.select().from(users).where(eq(users.id, userId)))[0]!.email;
async function mailedToken(): Promise<string> {
  const [mail] = await s.db
    .select()
    .from(accountEmails)
    .where(eq(accountEmails.toAddress, 'cfo@placeholder.example'));
  const m = /\/verify-email\?token=([^"\s<&]+)/.exec(mail!.text);
  return decodeURIComponent(m![1]!);
}

describe('the link that confirms an address', () => {
  it('does nothing when fetched (a mail scanner): the GET shows a button', async () => {
    const token = await mailedToken();
    const page = await t.app.inject({ url: `/verify-email?token=${encodeURIComponent(token)}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('method="post"');
    expect(await emailOfMe()).toMatch(/@users\.invalid$/);
  });

  it('a cross-site form cannot confirm it', async () => {
    const token = await mailedToken();
    const r = await t.app.inject({
      method: 'POST',
      url: '/verify-email',
      headers: { ...form, origin: 'https://evil.example' },
      payload: `token=${encodeURIComponent(token)}`,
    });
    expect(r.statusCode).toBe(403);
    expect(await emailOfMe()).toMatch(/@users\.invalid$/);
  });

  it('the button confirms it; a tampered token does not', async () => {
    const token = await mailedToken();
    const bad = await t.app.inject({
      method: 'POST',
      url: '/verify-email',
      headers: form,
      payload: `token=${encodeURIComponent(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)}`,
    });
    expect(bad.statusCode).toBe(400);
    const r = await t.app.inject({
      method: 'POST',
      url: '/verify-email',
      headers: form,
      payload: `token=${encodeURIComponent(token)}`,
    });
    expect(r.statusCode).toBe(200);
    expect(r.body).toContain('cfo@placeholder.example is your Duely sign-in address');
    expect(await emailOfMe()).toBe('cfo@placeholder.example');
  });
});
