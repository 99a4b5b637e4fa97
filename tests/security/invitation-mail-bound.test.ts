/**
 * Invitations go out from Duely's own sender with text the inviting tenant chooses (the invitee's name, the company's
 * name), and anyone with a ledger company can be a tenant's admin. Before, POST …/users had no bound at all: an admin
 * inviting, removing and inviting the same address again mailed it without end ("no mail bombing through us" held
 * only for sign-in links), and one tenant could mail any number of addresses. Now an invitation counts against the
 * same per-address bound as sign-in emails (3 in 15 minutes, counted per inviting company, so the answer tells
 * nothing of other companies' mail), and a tenant sends at most INVITATIONS_PER_DAY a day; over either, 429 and no
 * person is created. Invitations no longer count against the address's sign-in links (a company inviting it every
 * few minutes kept its owner from ever getting one).
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_EMAILS_PER_WINDOW } from '../../src/auth/account-mail';
import { accountEmails, users } from '../../src/db/schema';
import { INVITATIONS_PER_DAY } from '../../src/http/routes/users';
import type { Services } from '../../src/services';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };

const t = suiteTestApp({ token: 'operator' });
beforeAll(async () => {
  ({ services: s, app, auth } = t);
  for (const slug of ['bomber', 'sprayer']) {
    const up = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${slug}/imports`,
      headers: { ...auth, 'content-type': 'text/csv' },
      payload: csv([['ACME', 'A1', '2026-09-02', '2026-10-01', '100.00', 'USD', '', 'email', 'US']]),
    });
    expect(up.statusCode).toBe(201);
  }
});

const invite = (slug: string, email: string) =>
  app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${slug}/users`,
    headers: auth,
    payload: { email, name: 'Claim your prize at evil.example', role: 'viewer' },
  });

const mailsTo = async (to: string) =>
  (await s.db.select().from(accountEmails).where(eq(accountEmails.toAddress, to))).length;

describe('invitation emails are bounded', () => {
  it('inviting, removing and inviting one address again stops at the per-address bound', async () => {
    const victim = 'victim@inbox.example';
    for (let i = 0; i < SIGN_IN_EMAILS_PER_WINDOW + 3; i++) {
      // Another spelling of the same address counts as the same address.
      const r = await invite('bomber', i % 2 ? victim.toUpperCase() : victim);
      if (i < SIGN_IN_EMAILS_PER_WINDOW) {
        expect(r.statusCode, r.body).toBe(201);
        const removed = await app.inject({
          method: 'DELETE',
          url: `/api/v1/tenants/bomber/users/${r.json().user.id}`,
          headers: auth,
        });
        expect(removed.statusCode).toBe(200);
      } else {
        expect(r.statusCode, r.body).toBe(429);
        expect(r.json().error.message).toMatch(/15 minutes/);
      }
    }
    expect(await mailsTo(victim)).toBe(SIGN_IN_EMAILS_PER_WINDOW);
    // Refused before anyone was created: the address is no one's.
    expect(await s.db.select().from(users).where(eq(users.email, victim))).toHaveLength(0);
    // The bound is the inviting company's: another company's answer does not tell it what this one sent.
    const colleague = await invite('sprayer', victim);
    expect(colleague.statusCode, colleague.body).toBe(201);
    // Nor do invitations hold the address's own sign-in links: the person asks for one and gets it.
    const asked = await app.inject({
      method: 'POST',
      url: '/login/email',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' },
      payload: `email=${encodeURIComponent(victim)}`,
    });
    expect(asked.statusCode).toBe(200);
    await expect
      .poll(async () =>
        (await s.db.select().from(accountEmails).where(eq(accountEmails.toAddress, victim))).filter(
          (m) => m.kind === 'sign_in',
        ),
      )
      .toHaveLength(1);
  });

  it('one tenant sends at most INVITATIONS_PER_DAY invitations a day', async () => {
    // One invitation of the day went to the first test's address.
    for (let i = 1; i < INVITATIONS_PER_DAY; i++) {
      const r = await invite('sprayer', `person${i}@spray.example`);
      expect(r.statusCode, r.body).toBe(201);
    }
    const over = await invite('sprayer', 'one-more@spray.example');
    expect(over.statusCode).toBe(429);
    expect(await mailsTo('one-more@spray.example')).toBe(0);
    // Another tenant is not held by it.
    expect((await invite('bomber', 'colleague@bomber.example')).statusCode).toBe(201);
  });
});
