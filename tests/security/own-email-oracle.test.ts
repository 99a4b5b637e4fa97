/**
 * "Your email" (POST /api/v1/session/email) for a person under a placeholder address: bounded per address, but the
 * bound counted every sign-in email to the address, and only a Duely user's address ever gets those. Anyone can have
 * three sent (POST /login/email, public, same answer for everyone), so a placeholder account (the first admin of a
 * company a signed-out connect created: anyone with a ledger company) asked for the address next and learnt from a
 * 429 against a 202 whether it belongs to a user of some other company, which the sign-in page takes care never to
 * tell. The bound now counts the emails this company's people had sent to the address.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_EMAILS_PER_WINDOW } from '../../src/auth/account-mail';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { connectAdminEmail, createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { suiteTestApp } from '../helpers/app';

const clock = new ManualClock('2026-11-27T10:00:00Z');
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };
const t = suiteTestApp({ clock, token: false });
let asPlaceholder: (email: string) => Promise<number>;

beforeAll(async () => {
  const s = t.services;
  const corp = await ensureTenant(s.db, 'Corp', 'csv');
  await createUser(s.db, { tenantId: corp.id, email: 'cfo@corp.example', role: 'admin', status: 'active' });
  const mine = await ensureTenant(s.db, 'Prober', 'csv');
  const me = await createUser(s.db, {
    tenantId: mine.id,
    email: connectAdminEmail('netsuite', '7654321'),
    role: 'admin',
    status: 'active',
  });
  const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
    tenantId: mine.id,
    userId: me.id,
    method: 'connect',
    now: clock.now(),
  });
  const session = await t.app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: token } });
  asPlaceholder = async (email) =>
    (
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/session/email',
        cookies: { [SESSION_COOKIE]: token },
        headers: { [CSRF_HEADER]: session.json().csrfToken },
        payload: { email },
      })
    ).statusCode;
});

describe('"Your email" tells nothing about other companies', () => {
  it("answers alike for another company's user and for a stranger after sign-in emails were asked for both", async () => {
    for (const email of ['cfo@corp.example', 'nobody@corp.example']) {
      for (let i = 0; i < SIGN_IN_EMAILS_PER_WINDOW; i++) {
        const r = await t.app.inject({
          method: 'POST',
          url: '/login/email',
          headers: form,
          payload: `email=${encodeURIComponent(email)}`,
        });
        expect(r.statusCode).toBe(200);
      }
    }
    await t.services.auth.signInEmailsSettled();
    expect(await asPlaceholder('cfo@corp.example')).toBe(await asPlaceholder('nobody@corp.example'));
  });

  it('is still bounded per address for what this company asks', async () => {
    const codes = [];
    for (let i = 0; i < SIGN_IN_EMAILS_PER_WINDOW + 2; i++)
      codes.push(await asPlaceholder('x@elsewhere.example'));
    expect(codes.filter((c) => c === 202)).toHaveLength(SIGN_IN_EMAILS_PER_WINDOW);
    expect(codes.at(-1)).toBe(429);
  });
});
