/**
 * "Your email" (POST /api/v1/session/email) mails a confirmation link to the address a person under a placeholder
 * gives, at most SIGN_IN_EMAILS_PER_WINDOW in 15 minutes per address (counted for the company). The bound was checked
 * by counting emails already written, and the email written after the render: requests sent at once all counted
 * the same number and all were mailed. The count and the email's row are now one step under a lock on the address.
 */
import { eq } from 'drizzle-orm';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_EMAILS_PER_WINDOW } from '../../src/auth/account-mail';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import { connectAdminEmail, createUser } from '../../src/auth/users';
import { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { accountEmails } from '../../src/db/schema';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';

const clock = new ManualClock('2026-11-27T10:00:00Z');
let s: Services;
let cookie: string;
let csrf: string;

const t = suiteTestApp({ clock, token: false });
beforeAll(async () => {
  s = t.services;
  const tenant = await ensureTenant(s.db, 'Placeholder Co', 'csv');
  const me = await createUser(s.db, {
    tenantId: tenant.id,
    email: connectAdminEmail('netsuite', '7654321'),
    role: 'viewer',
    status: 'active',
  });
  const { token } = await new SessionAuth(s.db, s.config.APP_SECRET).createSession({
    tenantId: tenant.id,
    userId: me.id,
    method: 'connect',
    now: clock.now(),
  });
  cookie = token;
  csrf = (await t.app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: token } })).json()
    .csrfToken;
});

describe('"your email" asked many times at once', () => {
  it('mails the address at most SIGN_IN_EMAILS_PER_WINDOW times', async () => {
    const victim = 'someone@elsewhere.example';
    const answers = await Promise.all(
      Array.from({ length: SIGN_IN_EMAILS_PER_WINDOW + 5 }, () =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/session/email',
          cookies: { [SESSION_COOKIE]: cookie },
          headers: { [CSRF_HEADER]: csrf },
          payload: { email: victim },
        }),
      ),
    );
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 202)).toHaveLength(SIGN_IN_EMAILS_PER_WINDOW);
    expect(codes.filter((c) => c === 429)).toHaveLength(5);
    const mails = await s.db.select().from(accountEmails).where(eq(accountEmails.toAddress, victim));
    expect(mails).toHaveLength(SIGN_IN_EMAILS_PER_WINDOW);
  });
});
