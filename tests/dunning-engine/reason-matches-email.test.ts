/**
 * "Why this was sent" counts days as the email does: to the send date in the debtor's zone (planned on Saturday for
 * Monday, the reason said 2 days fewer overdue than the email), and a message that waited past its day (held for a
 * reviewer, deferred) gets its reason for the day its email is rendered for, as the preview and the send render it.
 */
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { dunningMessages } from '../../src/db/schema';
import { sendMessage } from '../../src/dunning/send-message';
import { suiteSetup, uploadToday } from './fixtures';

const t = suiteSetup();
const base = () => `/api/v1/tenants/${t.tenantId}/dunning`;

/** The "Days overdue" cell of an invoice's row in the email's HTML table (0 for "–"). */
function daysOverdueInEmail(html: string, invoice: string): number {
  const cell = (row: string, label: string) =>
    new RegExp(`data-label="${label}"[^>]*>(.*?)</td>`, 's')
      .exec(row)?.[1]
      ?.replace(/<!--.*?-->/g, '')
      .trim();
  const row = html.split('<tr').find((r) => cell(r, 'Invoice') === invoice);
  if (!row) throw new Error(`no row for ${invoice}`);
  const days = cell(row, 'Days overdue')!;
  return days === '–' ? 0 : Number(days);
}

/** The message's "why" (GET …/messages/:id) and its email (GET …/rendered, as the send renders it). */
async function whyAndEmail(id: string) {
  const view = await t.app.inject({ url: `${base()}/messages/${id}`, headers: t.auth });
  const email = await t.app.inject({ url: `${base()}/messages/${id}/rendered`, headers: t.auth });
  expect(view.statusCode).toBe(200);
  expect(email.statusCode).toBe(200);
  const why = view.json().why as { reason: string; approvalReason: string | null };
  return { ...why, html: email.json().html as string };
}

/** The lead invoice and its days overdue as the reason states them. */
function leadOf(reason: string): { invoice: string; days: number } {
  const m = /Invoice (\S+) is (\d+) days? overdue/.exec(reason);
  if (!m) throw new Error(`no overdue lead in: ${reason}`);
  return { invoice: m[1]!, days: Number(m[2]) };
}

function expectAgree(why: { reason: string; approvalReason: string | null; html: string }) {
  const lead = leadOf(why.reason);
  expect(lead.days, why.reason).toBe(daysOverdueInEmail(why.html, lead.invoice));
  const oldest = /oldest invoice is (\d+) days overdue/.exec(why.approvalReason ?? '');
  if (oldest) {
    const all = [...why.html.matchAll(/data-label="Days overdue"[^>]*>(.*?)<\/td>/gs)].map((m) =>
      Number(m[1]!.replace(/<!--.*?-->/g, '').trim()),
    );
    expect(Number(oldest[1]), why.approvalReason!).toBe(Math.max(...all.filter(Number.isFinite)));
  }
}

describe('the reason of a message', () => {
  it('counts days overdue to the send date, as its email does (planned on Saturday for Monday)', async () => {
    t.clock.set(new Date('2013-07-06T12:00:00Z'));
    const plan = await t.app.inject({ method: 'POST', url: `${base()}/plan`, headers: t.auth });
    expect(plan.statusCode).toBe(200);
    const rows = await t.s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, t.tenantId));
    const reminders = rows.filter((m) => m.kind === 'reminder' && m.status !== 'skipped');
    expect(reminders.length).toBeGreaterThan(1);
    // Sent on a later business day (the send time's exploration, seeded by the message's random key, may pick Tuesday).
    expect(reminders.some((m) => m.sendAt.toISOString().slice(0, 10) === '2013-07-08')).toBe(true);
    for (const m of reminders) {
      expect(m.sendAt.toISOString().slice(0, 10) >= '2013-07-08').toBe(true);
      expectAgree(await whyAndEmail(m.id));
    }
    expect(reminders.some((m) => m.status === 'awaiting_approval')).toBe(true);
  });

  it('of a held message counts to the day it will now be rendered for, and its sent record agrees', async () => {
    const [held] = await t.s.db
      .select()
      .from(dunningMessages)
      .where(eq(dunningMessages.status, 'awaiting_approval'));
    expect(held).toBeTruthy();
    // The reviewer gets to it on Wednesday, days after its planned Monday (or Tuesday: the send time's exploration).
    t.clock.set(new Date('2013-07-10T10:00:00Z'));
    const planned = held!.sendAt.toISOString().slice(0, 10);
    expect(planned < '2013-07-10').toBe(true);
    const later = (Date.parse('2013-07-10') - Date.parse(planned)) / 86_400_000;
    const before = await whyAndEmail(held!.id);
    expectAgree(before);
    expect(leadOf(before.reason).days).toBe(leadOf(held!.reason).days + later);
    const ok = await t.app.inject({
      method: 'POST',
      url: `${base()}/messages/${held!.id}/approve`,
      headers: t.auth,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().why.reason).toBe(before.reason);
    await uploadToday(t.s); // nine days after the first upload: a CSV company's reminders wait for a recent one
    expect(await sendMessage(t.s, held!.id)).toMatchObject({ outcome: 'sent' });
    const [sent] = await t.s.db.select().from(dunningMessages).where(eq(dunningMessages.id, held!.id));
    expectAgree({ reason: sent!.reason, approvalReason: sent!.approvalReason, html: sent!.html! });
    expect(sent!.reason).toBe(before.reason);
  });
});
