/**
 * A disputed invoice is left out of what a message asks for, and the message says so (day-one review: a statement
 * said "10 open invoices, $14,914.18" with no word about disputed invoice 5564, which the debtor could read as the
 * dispute settled in their favour). The planner stores the held invoice in the snapshot, so the preview, the
 * approval card ("why"), the email sent and its reason agree; a dispute resolved before sending plans the message
 * again, listing the invoice as usual, and the pre-send check never sends a message whose held invoices changed.
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { sendMessage } from '../../src/dunning/send-message';
import { teamCopy } from '../../src/dunning/unsubscribe-token';
import { customerId, suiteSetup } from './fixtures';

const t = suiteSetup();
const base = () => `/api/v1/tenants/${t.tenantId}/dunning`;
const flat = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ').replace(/[ \n]+/g, ' ');
const HELD =
  'Invoice SLOW-O2 ($500.00) is on hold while we look into your query, so it is not included above.';

const invoiceOf = async (externalId: string) =>
  rowsOf<{ id: string }>(
    await t.s.db.execute(
      sql`select id from invoices where tenant_id = ${t.tenantId} and external_id = ${externalId}`,
    ),
  )[0]!.id;

/** The SLOW customer's message waiting to go (not skipped). */
async function slowMessage() {
  const slow = await customerId(t.s, 'SLOW');
  const rows = await t.s.db
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.customerId, slow), ne(dunningMessages.status, 'skipped')));
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function dispute(invoiceId: string) {
  const r = await t.app.inject({
    method: 'POST',
    url: `${base()}/disputes`,
    headers: t.auth,
    payload: { invoiceId, reason: 'wrong quantity' },
  });
  expect(r.statusCode, r.body).toBe(201);
  return r.json().id as string;
}

async function resolve(id: string) {
  const r = await t.app.inject({
    method: 'PATCH',
    url: `${base()}/disputes/${id}`,
    headers: t.auth,
    payload: { resolved: true },
  });
  expect(r.statusCode, r.body).toBe(200);
}

async function approve(id: string) {
  const r = await t.app.inject({ method: 'POST', url: `${base()}/messages/${id}/approve`, headers: t.auth });
  expect(r.statusCode, r.body).toBe(200);
}

async function viewOf(id: string) {
  const view = await t.app.inject({ url: `${base()}/messages/${id}`, headers: t.auth });
  const email = await t.app.inject({ url: `${base()}/messages/${id}/rendered`, headers: t.auth });
  expect(view.statusCode, view.body).toBe(200);
  expect(email.statusCode, email.body).toBe(200);
  return {
    why: view.json().why as { reason: string },
    email: email.json() as { text: string; html: string },
  };
}

describe('a disputed invoice of a debtor who gets a message', () => {
  it('resolved before the message is sent: the message is planned again and lists it as usual', async () => {
    const slowO2 = await invoiceOf('SLOW-O2');
    const disputeId = await dispute(slowO2);
    const before = await slowMessage();
    expect(before.invoiceIds).not.toContain(slowO2);
    expect(flat((await viewOf(before.id)).email.text)).toContain(HELD);
    await resolve(disputeId);
    const after = await slowMessage();
    expect(after.invoiceIds).toContain(slowO2);
    const { why, email } = await viewOf(after.id);
    expect(flat(email.text)).not.toContain('on hold');
    expect(flat(email.text)).toContain('SLOW-O2');
    expect(why.reason).not.toContain('on hold');
  });

  it('a dispute that lapses (its date passed) with nothing planned since: the pre-send check plans again, never sends it stale', async () => {
    const slowO2 = await invoiceOf('SLOW-O2');
    const r = await t.app.inject({
      method: 'POST',
      url: `${base()}/disputes`,
      headers: t.auth,
      payload: { invoiceId: slowO2, reason: 'checking', until: '2013-07-02' },
    });
    expect(r.statusCode, r.body).toBe(201);
    const m = await slowMessage();
    expect(flat((await viewOf(m.id)).email.text)).toContain(HELD);
    if (m.status === 'awaiting_approval') await approve(m.id);
    // The debtor's day is past the dispute's date: SLOW-O2 is chased again, so the email would be wrong.
    t.clock.set(new Date(Math.max(m.sendAt.getTime(), Date.parse('2013-07-02T14:00:00Z'))));
    const out = await sendMessage(t.s, m.id);
    expect(out).toMatchObject({ outcome: 'skipped', code: 'hold_changed' });
    const [row] = await t.s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row!.status).toBe('skipped');
    expect(row!.sentAt ?? null).toBeNull();
    // Planned again (the pre-send check asked for it): SLOW-O2 is listed, nothing named as on hold.
    await t.app.inject({ method: 'POST', url: `${base()}/plan`, headers: t.auth });
    const again = await slowMessage();
    expect(again.invoiceIds).toContain(slowO2);
    expect(flat((await viewOf(again.id)).email.text)).not.toContain('on hold');
    // Back to the first day for the next case; the lapsed dispute is closed.
    t.clock.set(new Date('2013-07-01T00:00:00Z'));
    await resolve(r.json().id);
  });

  it('is named as on hold, not asked for, alike in the preview, the reason and the email sent', async () => {
    const disputeId = await dispute(await invoiceOf('SLOW-O2'));
    const m = await slowMessage();
    expect(m.invoiceIds).toEqual([await invoiceOf('SLOW-O')]);
    const { why, email } = await viewOf(m.id);
    expect(flat(email.text)).toContain(HELD);
    expect(flat(email.html.replace(/<[^>]+>/g, ' '))).toContain(HELD);
    // The amounts asked for leave it out.
    expect(flat(email.text)).not.toContain('$3,000.00');
    expect(why.reason).toContain('not asked for (on hold): SLOW-O2 (disputed)');

    if (m.status === 'awaiting_approval') await approve(m.id);
    t.clock.set(m.sendAt);
    expect(await sendMessage(t.s, m.id)).toMatchObject({ outcome: 'sent' });
    const [sent] = await t.s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    const shown = teamCopy(
      sent as { html: string; text: string },
      t.s.config.PUBLIC_URL,
      t.s.config.APP_SECRET,
      m.id,
    );
    expect(shown.text).toBe(email.text);
    expect(shown.html).toBe(email.html);
    await resolve(disputeId);
  });
});
