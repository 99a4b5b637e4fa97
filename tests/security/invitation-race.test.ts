/**
 * The invitation bounds under concurrent requests. A tenant sends at most INVITATIONS_PER_DAY invitations a day and
 * an address gets at most SIGN_IN_EMAILS_PER_WINDOW in 15 minutes from one company; each was checked by counting the
 * emails already written, and the email was written later (after the person, the token and the render), so requests
 * arriving together all counted the same number and all went out: a script firing invitations in parallel mailed
 * past the daily bound (65 of 65 against 50). The check and the email's row are now one step under a per-company lock.
 * The per-address case is held mostly by the person's unique address too (a second invitation of an address that is
 * a person already is a 409); its test keeps the bound where a person is removed while their invitation is written.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_EMAILS_PER_WINDOW } from '../../src/auth/account-mail';
import { accountEmails, tenants, users } from '../../src/db/schema';
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
  for (const slug of ['burst', 'spray']) {
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
    payload: { email, name: 'Someone', role: 'viewer' },
  });

async function tenantIdOf(slug: string) {
  const [row] = await s.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug));
  return row!.id;
}

describe('invitations fired in parallel', () => {
  it('a company sends at most INVITATIONS_PER_DAY, however many arrive at once', async () => {
    const n = INVITATIONS_PER_DAY + 15;
    const answers = await Promise.all(
      Array.from({ length: n }, (_, i) => invite('spray', `person${i}@spray.example`)),
    );
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(INVITATIONS_PER_DAY);
    expect(codes.filter((c) => c === 429)).toHaveLength(n - INVITATIONS_PER_DAY);
    const tenantId = await tenantIdOf('spray');
    const mails = await s.db.select().from(accountEmails).where(eq(accountEmails.tenantId, tenantId));
    expect(mails.filter((m) => m.kind === 'invitation')).toHaveLength(INVITATIONS_PER_DAY);
    // Nobody was created for a refused invitation.
    expect(await s.db.select().from(users).where(eq(users.tenantId, tenantId))).toHaveLength(
      INVITATIONS_PER_DAY,
    );
  });

  it('an address gets at most SIGN_IN_EMAILS_PER_WINDOW from one company, removed and invited again meanwhile', async () => {
    const victim = 'victim@inbox.example';
    const personOf = async () => {
      const [u] = await s.db.select({ id: users.id }).from(users).where(eq(users.email, victim));
      return u?.id;
    };
    const remove = async (id: string) => {
      const r = await app.inject({
        method: 'DELETE',
        url: `/api/v1/tenants/burst/users/${id}`,
        headers: auth,
      });
      expect(r.statusCode).toBe(200);
    };
    // Each invitation is answered by a removal as soon as its person exists, and the next invitation follows at
    // once, while the previous one may still be writing its email.
    const answers = [];
    for (let i = 0; i < SIGN_IN_EMAILS_PER_WINDOW + 2; i++) {
      // Started now (an inject chain runs only once awaited).
      const answer = Promise.resolve(invite('burst', victim));
      answers.push(answer);
      let id: string | undefined;
      await expect
        .poll(
          async () => {
            id = await personOf();
            return id !== undefined || (await Promise.race([answer, null])) !== null;
          },
          { timeout: 60_000 },
        )
        .toBe(true);
      if (id) await remove(id);
    }
    const codes = (await Promise.all(answers)).map((a) => a.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(SIGN_IN_EMAILS_PER_WINDOW);
    const mails = await s.db.select().from(accountEmails).where(eq(accountEmails.toAddress, victim));
    expect(mails).toHaveLength(SIGN_IN_EMAILS_PER_WINDOW);
  });
});
