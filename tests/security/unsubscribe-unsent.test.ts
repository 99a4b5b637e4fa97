/**
 * The debtor's unsubscribe link in the team's hands. Every reminder Duely plans is rendered with its debtor's signed
 * link, and anyone signed in to the tenant can open it with "Show email" (GET …/messages/:id/rendered), the read-only
 * viewer included, from the first plan on, while sending is still off. Before, that link's POST unsubscribed the
 * debtor: a viewer (or a reviewer curious what the footer does) silently and for good stopped every reminder to any
 * customer (no route lifts an unsubscribe), and the team was told the customer had opted out ("… unsubscribed from
 * payment reminders", by "the link in a reminder"). Now the team's copy carries an inert link (/u/team-copy), and
 * the debtor's link unsubscribes only once its email may have reached the debtor (sent, being sent, or an attempt
 * that may have got through).
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/auth/sessions';
import { contactSuppressions, dunningMessageEvents } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { signUnsubscribeToken } from '../../src/dunning/unsubscribe-token';
import type { Services } from '../../src/services';
import { approveAll, goLive, messagesOf, suiteSetup } from '../dunning-engine/fixtures';
import { latestSignInLink } from '../helpers/account-mail';

let s: Services;
let app: FastifyInstance;
let tenantId: string;
let viewer: { cookie: string };
const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'http://localhost:80' };

const t = suiteSetup({ live: false });
beforeAll(async () => {
  ({ s, app, tenantId } = t);
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
  viewer = { cookie };
}, 120_000);

async function optedOut(customerId: string) {
  const rows = await s.db
    .select()
    .from(contactSuppressions)
    .where(and(eq(contactSuppressions.customerId, customerId), eq(contactSuppressions.kind, 'unsubscribed')));
  return rows.length > 0;
}

describe('the unsubscribe link of an email that was never sent', () => {
  it('the signed link of a held reminder does not unsubscribe its debtor', async () => {
    const unsent = (await messagesOf(s, tenantId)).filter((m) =>
      ['planned', 'awaiting_approval', 'queued'].includes(m.status),
    );
    expect(unsent.length).toBeGreaterThan(0);
    for (const m of unsent.slice(0, 3)) {
      // Shown to the team before: a viewer's "Show email" carried it (the next test: it no longer does).
      const token = signUnsubscribeToken(s.config.APP_SECRET, m.id);
      const page = await app.inject({ url: `/u/${token}` });
      expect(page.body).not.toContain('<form method="post"');
      const post = await app.inject({
        method: 'POST',
        url: `/u/${token}`,
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

describe("the team's copy of an email", () => {
  it("never carries the debtor's working unsubscribe link, before the send or after it", async () => {
    await goLive(s, tenantId);
    await planTenant(s, tenantId);
    await approveAll(s, tenantId);
    const m = (await messagesOf(s, tenantId)).find((x) => x.status === 'queued');
    expect(m, 'an approved reminder').toBeDefined();
    const token = signUnsubscribeToken(s.config.APP_SECRET, m!.id);
    const shown = async (as: Pick<InjectOptions, 'cookies' | 'headers'>) => {
      const out: string[] = [];
      for (const format of ['json', 'html', 'text']) {
        const r = await app.inject({
          url: `/api/v1/tenants/${tenantId}/dunning/messages/${m!.id}/rendered?format=${format}`,
          ...as,
        });
        expect(r.statusCode).toBe(200);
        out.push(r.body);
      }
      return out.join('\n');
    };
    // Copied from the preview while it waits, the link would work once the reminder is sent.
    const before = await shown({ cookies: { [SESSION_COOKIE]: viewer.cookie } });
    expect(before).toContain('/u/');
    expect(before).not.toContain(token);
    t.clock.set(m!.sendAt);
    expect(await sendMessage(s, m!.id)).toMatchObject({ outcome: 'sent' });
    // Days later (the viewer's session has ended): as anyone signed in to the tenant.
    const after = await shown({ headers: t.auth });
    expect(after).toContain('/u/');
    expect(after).not.toContain(token);
    // The team's link says what it is and changes nothing.
    const link = /\/u\/([A-Za-z0-9_.-]+)/.exec(after)![1]!;
    const page = await app.inject({ url: `/u/${link}` });
    expect(page.body).not.toContain('<form method="post"');
    const post = await app.inject({
      method: 'POST',
      url: `/u/${link}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(404);
    expect(post.body).toContain("the debtor's copy");
    expect(await optedOut(m!.customerId)).toBe(false);
    // The debtor's own link (in the email sent, and in its List-Unsubscribe header) works.
    const [sent] = (await messagesOf(s, tenantId)).filter((x) => x.id === m!.id);
    expect(sent!.html).toContain(token);
    const own = await app.inject({
      method: 'POST',
      url: `/u/${token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(own.statusCode).toBe(200);
    expect(await optedOut(m!.customerId)).toBe(true);
  });
});
