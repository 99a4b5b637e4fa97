/**
 * The unsubscribe link of an email that never left Duely. Every reminder Duely plans is rendered with its debtor's
 * signed link, and anyone signed in to the tenant can open it with "Show email" (GET …/messages/:id/rendered), the
 * read-only viewer included, from the first plan on, while sending is still off. Before, that link's POST
 * unsubscribed the debtor: a viewer (or a reviewer curious what the footer does) silently and for good stopped
 * every reminder to any customer, and the team was told the customer had opted out ("… unsubscribed from payment
 * reminders", by "the link in a reminder"). Now a link unsubscribes only when its email may have reached the
 * debtor (sent, being sent, or an attempt that may have got through); any other answers that nothing changed.
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER, SESSION_COOKIE } from '../../src/auth/sessions';
import { contactSuppressions, dunningMessageEvents } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { messagesOf, setup } from '../dunning-engine/fixtures';
import { latestSignInLink } from '../helpers/account-mail';
import { suiteTestApp } from '../helpers/app';

let s: Services;
let app: FastifyInstance;
let tenantId: string;
let viewer: { cookie: string; csrf: string };
let fixture: Awaited<ReturnType<typeof setup>>;
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };

const t = suiteTestApp({
  services: async () => {
    // Before go-live: sending off, every planned reminder shows as "would send" or held for review.
    fixture = await setup({ live: false });
    return fixture.s;
  },
});
beforeAll(async () => {
  ({ services: s, app } = t);
  ({ tenantId } = fixture);
  await planTenant(s, tenantId);
  const invited = await app.inject({
    method: 'POST',
    url: `/api/v1/tenants/${tenantId}/users`,
    headers: t.auth,
    payload: { email: 'viewer@acme.example', role: 'viewer' },
  });
  expect(invited.statusCode).toBe(201);
  const { token } = await latestSignInLink(s, 'viewer@acme.example');
  const signIn = await app.inject({
    method: 'POST',
    url: '/login',
    headers: form,
    payload: `token=${token}`,
  });
  const cookie = signIn.cookies.find((c) => c.name === SESSION_COOKIE)!.value;
  const me = await app.inject({ url: '/api/v1/session', cookies: { [SESSION_COOKIE]: cookie } });
  expect(me.json().role).toBe('viewer');
  viewer = { cookie, csrf: me.json().csrfToken };
}, 120_000);

async function optedOut(customerId: string) {
  const rows = await s.db
    .select()
    .from(contactSuppressions)
    .where(and(eq(contactSuppressions.customerId, customerId), eq(contactSuppressions.kind, 'unsubscribed')));
  return rows.length > 0;
}

describe('the unsubscribe link of an email that was never sent', () => {
  it("a viewer who opens a held reminder cannot unsubscribe its debtor with the email's link", async () => {
    const unsent = (await messagesOf(s, tenantId)).filter((m) =>
      ['planned', 'awaiting_approval', 'queued'].includes(m.status),
    );
    expect(unsent.length).toBeGreaterThan(0);
    for (const m of unsent.slice(0, 3)) {
      const shown = await app.inject({
        url: `/api/v1/tenants/${tenantId}/dunning/messages/${m.id}/rendered`,
        cookies: { [SESSION_COOKIE]: viewer.cookie },
        headers: { [CSRF_HEADER]: viewer.csrf },
      });
      expect(shown.statusCode).toBe(200);
      const link = /\/u\/([A-Za-z0-9_.-]+)/.exec(shown.json().html as string);
      // No link at all would do too; one that is there must not work.
      if (!link) continue;
      const page = await app.inject({ url: `/u/${link[1]}` });
      expect(page.body).not.toContain('<form method="post"');
      const post = await app.inject({
        method: 'POST',
        url: `/u/${link[1]}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
      expect(post.statusCode).toBe(404);
      expect(post.body).not.toContain('You are unsubscribed');
      expect(post.body).toContain('never sent');
      expect(await optedOut(m.customerId)).toBe(false);
      const events = await s.db
        .select()
        .from(dunningMessageEvents)
        .where(and(eq(dunningMessageEvents.messageId, m.id), eq(dunningMessageEvents.type, 'unsubscribed')));
      expect(events).toHaveLength(0);
    }
    const r = await planTenant(s, tenantId);
    expect(r.decisions.some((d) => d.code === 'opted_out')).toBe(false);
  });
});
