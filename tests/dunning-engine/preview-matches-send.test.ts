/**
 * "Show email" on Approvals and Messages is what the debtor gets: the preview of an unsent message is rendered as of
 * its planned send time, as the send path renders it (send-message.ts: as of `sendAt`), not as of the moment the
 * reviewer looks. Planned on a Saturday for Monday, the preview said 2 days fewer overdue than the email sent.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { renderOnce, sendMessage } from '../../src/dunning/send-message';
import { teamCopy } from '../../src/dunning/unsubscribe-token';
import type { Services } from '../../src/services';
import { suiteSetup, uploadToday } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
}, 120_000);

const base = () => `/api/v1/tenants/${tenantId}/dunning`;

/** A message held for approval approved through the API, as a reviewer does (others are left as they are). */
async function approveIfAwaiting(m: { id: string; status: string }) {
  if (m.status !== 'awaiting_approval') return;
  const ok = await app.inject({ method: 'POST', url: `${base()}/messages/${m.id}/approve`, headers: auth });
  expect(ok.statusCode, ok.body).toBe(200);
}

/** The preview is the email that was sent, as the team sees it: the same, with the inert unsubscribe link for the debtor's. */
async function expectPreviewIsSent(preview: { subject: string; text: string; html: string }, id: string) {
  const [sent] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  expect(preview.subject).toBe(sent!.subject);
  const shownSent = teamCopy(
    sent as { html: string; text: string },
    s.config.PUBLIC_URL,
    s.config.APP_SECRET,
    id,
  );
  expect(preview.text).toBe(shownSent.text);
  expect(preview.html).toBe(shownSent.html);
}

describe('the preview of an unsent message', () => {
  it('is the email that is sent, when the send day is later than the day it is looked at', async () => {
    // Saturday: the plan sends on Monday (business days only).
    clock.set(new Date('2013-07-06T12:00:00Z'));
    await planTenant(s, tenantId);
    const rows = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    const m = rows.find(
      (r) => r.status !== 'skipped' && r.sendAt.toISOString().slice(0, 10) > '2013-07-07' && !r.html,
    );
    expect(m, JSON.stringify(rows.map((r) => [r.status, r.sendAt]))).toBeTruthy();

    const preview = await app.inject({ url: `${base()}/messages/${m!.id}/rendered`, headers: auth });
    expect(preview.statusCode).toBe(200);

    await approveIfAwaiting(m!);
    clock.set(m!.sendAt);
    await uploadToday(s); // a week after the first upload: a CSV company's reminders wait for a recent one
    expect(await sendMessage(s, m!.id)).toMatchObject({ outcome: 'sent' });
    await expectPreviewIsSent(preview.json(), m!.id);
  });

  it('is the email that is sent, when the body stored at a first attempt was for a day that has passed', async () => {
    clock.set(new Date('2013-07-02T12:00:00Z'));
    await planTenant(s, tenantId);
    const rows = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    const m = rows.find((r) => r.status === 'queued' && r.kind === 'reminder' && !r.html);
    expect(m, JSON.stringify(rows.map((r) => [r.status, r.kind]))).toBeTruthy();
    // A first attempt stored the body for its day, then the message was held (a refused key, a quota) three days.
    clock.set(m!.sendAt);
    const first = await renderOnce(s, m!);
    expect(first.renderedAsOf).toEqual(m!.sendAt);
    const later = new Date(m!.sendAt.getTime() + 3 * 86_400_000);
    await s.db.update(dunningMessages).set({ sendAt: later }).where(eq(dunningMessages.id, m!.id));
    clock.set(later);
    await uploadToday(s);

    const preview = await app.inject({ url: `${base()}/messages/${m!.id}/rendered`, headers: auth });
    expect(preview.statusCode).toBe(200);
    expect(preview.json().text).not.toBe(first.text);
    expect(await sendMessage(s, m!.id)).toMatchObject({ outcome: 'sent' });
    await expectPreviewIsSent(preview.json(), m!.id);
  });

  it('is the email that may have reached the debtor, when its worker died mid-call and the day has passed', async () => {
    clock.set(new Date('2013-07-02T12:00:00Z'));
    await planTenant(s, tenantId);
    const rows = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
    const m = rows.find(
      (r) => (r.status === 'queued' || r.status === 'awaiting_approval') && r.kind === 'reminder' && !r.html,
    );
    expect(m, JSON.stringify(rows.map((r) => [r.status, r.kind]))).toBeTruthy();
    await approveIfAwaiting(m!);
    clock.set(new Date(Math.max(m!.sendAt.getTime(), clock.now().getTime())));
    // The provider took the email, then the worker died before the row said so: 'sending', the attempt started.
    await expect(
      sendMessage(s, m!.id, {
        transport: null,
        afterProviderCall: () => {
          throw new Error('killed');
        },
      }),
    ).rejects.toThrow('killed');
    const crashed = (await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id)))[0]!;
    expect(crashed.status).toBe('sending');
    expect(crashed.attemptStartedAt).not.toBeNull();
    // The next day, before any worker took it over (workers down): the team looks at it.
    clock.set(new Date(clock.now().getTime() + 20 * 3_600_000));
    const preview = await app.inject({ url: `${base()}/messages/${m!.id}/rendered`, headers: auth });
    expect(preview.statusCode).toBe(200);
    const shown = await app.inject({ url: `${base()}/messages/${m!.id}`, headers: auth });
    // The takeover confirms what may have been delivered: the same bytes under the same key.
    let out = await sendMessage(s, m!.id);
    for (let i = 0; i < 5 && out.outcome === 'deferred'; i++) {
      // An in-doubt retry outside the debtor's send window waits for it (inside the key window).
      const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
      clock.set(new Date(Math.max(row!.sendAt.getTime(), clock.now().getTime())));
      out = await sendMessage(s, m!.id);
    }
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'sent' });
    const [sent] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m!.id));
    expect(sent!.text).toBe(crashed.text);
    await expectPreviewIsSent(preview.json(), m!.id);
    expect(shown.json().reason).toBe(sent!.reason);
  });
});
