/**
 * GET dunning/today (the dashboard's "Sending today") and POST dunning/preview (the sequence editor's preview of
 * an unsaved step). "Today" is the tenant's local day as of the service clock: the fixture rows straddle the
 * Los Angeles and UTC midnights so a zone mistake moves them in or out of the list.
 */
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessages, invoices, syncRuns, tenants } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { giveEmails, goLive, ledgerRows, suiteSetup } from './fixtures';

let s: Services;
let clock: ManualClock;
let acme: string;
let other: string;
let app: FastifyInstance;
let operator: { authorization: string };
let otherOnly: { authorization: string };

const LA = 'America/Los_Angeles';

type Status = (typeof dunningMessages.$inferSelect)['status'];

async function invoiceIds(tenantId: string, externalIds: string[]) {
  const rows = await s.db
    .select({ id: invoices.id, externalId: invoices.externalId })
    .from(invoices)
    .where(and(eq(invoices.tenantId, tenantId), inArray(invoices.externalId, externalIds)));
  return externalIds.map((x) => rows.find((r) => r.externalId === x)!.id);
}

async function customerOf(tenantId: string, externalId: string) {
  const [row] = rowsOf<{ id: string }>(
    await s.db.execute(
      sql`select id from customers where tenant_id = ${tenantId}::uuid and external_id = ${externalId}`,
    ),
  );
  return row!.id;
}

/** A message row as the planner would leave it, with only what these tests vary. */
async function message(
  tenantId: string,
  id: string,
  customer: string,
  status: Status,
  sendAt: string,
  opts: {
    invoices?: string[];
    sentAt?: string;
    requiresApproval?: boolean;
    tone?: string;
    openMinor?: number;
  } = {},
) {
  const ids = opts.invoices ?? [];
  await s.db.insert(dunningMessages).values({
    id,
    tenantId,
    customerId: customer,
    to: ['ap@example.test'],
    invoiceIds: ids,
    stepKeys: ids.map(() => 'standard:1:0'),
    stepKey: 'standard:1:0',
    sequenceId: 'standard',
    tone: opts.tone ?? 'neutral',
    template: 'reminder',
    status,
    sendAt: new Date(sendAt),
    sentAt: opts.sentAt ? new Date(opts.sentAt) : null,
    requiresApproval: opts.requiresApproval ?? false,
    reason: `fixture ${id}`,
    snapshot: { totals: [{ currency: 'USD', openMinor: opts.openMinor ?? 100_00 }], invoices: [] },
  });
}

const today = (tenantId: string, query = '', headers = operator) =>
  app.inject({ method: 'GET', url: `/api/v1/tenants/${tenantId}/dunning/today${query}`, headers });

const suite = suiteSetup({ token: 'operator' });
beforeAll(async () => {
  ({ s, app, clock, tenantId: acme, auth: operator } = suite);
  const o = await importHistoryCsv(s.db, csv(ledgerRows()), { tenantName: 'Other Co', now: s.clock.now() });
  other = o.tenant.id;
  await giveEmails(s, other);
  await goLive(s, other);
  otherOnly = { authorization: `Bearer ${(await issueApiToken(s.db, 'other only', other)).token}` };
  await s.db.update(tenants).set({ timezone: LA }).where(eq(tenants.id, acme));

  const [slow, mid, rely, fut] = await Promise.all(
    ['SLOW', 'MID', 'RELY', 'FUT'].map((x) => customerOf(acme, x)),
  );
  const slowInvoices = await invoiceIds(acme, ['SLOW-O', 'SLOW-O2']);
  // Los Angeles is UTC−7 in July: Monday 2013-07-01 there runs from 07:00Z on the 1st to 07:00Z on the 2nd.
  await message(acme, 'dm_today_morning', slow!, 'queued', '2013-07-01T16:00:00Z', {
    invoices: slowInvoices,
    tone: 'firm',
    openMinor: 3000_00,
  });
  await message(acme, 'dm_today_approved', rely!, 'queued', '2013-07-01T20:00:00Z', {
    requiresApproval: true,
  });
  // 22:30 in Los Angeles: still today there, already the 2nd in UTC.
  await message(acme, 'dm_today_late', mid!, 'queued', '2013-07-02T05:30:00Z');
  // Midnight in Los Angeles: tomorrow.
  await message(acme, 'dm_tomorrow', fut!, 'queued', '2013-07-02T07:00:00Z');
  // 19:00 on the 30th in Los Angeles (the 1st in UTC): yesterday's send.
  await message(acme, 'dm_sent_yesterday', slow!, 'sent', '2013-07-01T02:00:00Z', {
    sentAt: '2013-07-01T02:00:00Z',
  });
  await message(acme, 'dm_sent_today', mid!, 'sent', '2013-07-01T15:00:00Z', {
    sentAt: '2013-07-01T15:00:00Z',
  });
  await message(acme, 'dm_held_today', rely!, 'awaiting_approval', '2013-07-01T22:00:00Z', {
    requiresApproval: true,
  });
  await message(acme, 'dm_held_later', fut!, 'awaiting_approval', '2013-07-03T16:00:00Z', {
    requiresApproval: true,
  });
  await message(acme, 'dm_skipped_today', slow!, 'skipped', '2013-07-01T17:00:00Z');
  // Due at 23:00 yesterday (Los Angeles) and never sent: overdue, not today's.
  await message(acme, 'dm_overdue', mid!, 'queued', '2013-07-01T06:00:00Z');
  // Another tenant's messages of the same day never show up in Acme's card.
  const otherSlow = await customerOf(other, 'SLOW');
  await message(other, 'dm_other_today', otherSlow, 'queued', '2013-07-01T17:00:00Z');
  await message(other, 'dm_other_sent', otherSlow, 'sent', '2013-07-01T16:00:00Z', {
    sentAt: '2013-07-01T16:00:00Z',
  });
  await message(other, 'dm_other_held', otherSlow, 'awaiting_approval', '2013-07-01T18:00:00Z', {
    requiresApproval: true,
  });
}, 120_000);

describe('GET dunning/today', () => {
  it("lists exactly the messages due today in the tenant's zone, with held and sent counts", async () => {
    clock.set('2013-07-01T18:00:00Z'); // 11:00 in Los Angeles
    const r = await today(acme);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({
      date: '2013-07-01',
      timezone: LA,
      from: '2013-07-01T07:00:00.000Z',
      to: '2013-07-02T07:00:00.000Z',
      toSendCount: 3,
      held: 1,
      sentToday: 1,
      overdue: 1,
      nextSendAt: '2013-07-02T07:00:00.000Z',
    });
    expect(body.toSend.map((m: { id: string }) => m.id)).toEqual([
      'dm_today_morning',
      'dm_today_approved',
      'dm_today_late',
    ]);
    const [first, approved] = body.toSend;
    expect(first).toMatchObject({
      status: 'queued',
      customer: { id: await customerOf(acme, 'SLOW'), name: 'SLOW' },
      template: 'reminder',
      tone: 'firm',
      sendAt: '2013-07-01T16:00:00.000Z',
      invoiceCount: 2,
      totals: [{ currency: 'USD', openMinor: 3000_00 }],
      reason: 'fixture dm_today_morning',
      approved: false,
    });
    expect(approved.approved).toBe(true);
  });

  it('the same rows read in UTC give another day: the zone decides', async () => {
    await s.db.update(tenants).set({ timezone: 'UTC' }).where(eq(tenants.id, acme));
    try {
      const body = (await today(acme)).json();
      expect(body).toMatchObject({ date: '2013-07-01', timezone: 'UTC', sentToday: 2, held: 1, overdue: 0 });
      expect(body.toSend.map((m: { id: string }) => m.id)).toEqual([
        'dm_overdue',
        'dm_today_morning',
        'dm_today_approved',
      ]);
    } finally {
      await s.db.update(tenants).set({ timezone: LA }).where(eq(tenants.id, acme));
    }
  });

  it('follows the clock: the next morning, tomorrow is today and yesterday is not', async () => {
    clock.set('2013-07-02T15:00:00Z'); // Tuesday 08:00 in Los Angeles
    const body = (await today(acme)).json();
    expect(body).toMatchObject({ date: '2013-07-02', sentToday: 0, held: 1, overdue: 4 });
    expect(body.toSend.map((m: { id: string }) => m.id)).toEqual(['dm_tomorrow']);
    expect(body.nextSendAt).toBe('2013-07-03T16:00:00.000Z');
    clock.set('2013-07-01T18:00:00Z');
  });

  it('a CSV company whose upload is over its limit (3 days) says so, with the reminders held for a newer one', async () => {
    expect((await today(acme)).json().uploadTooOld).toBeNull();
    // The fixture ledger was uploaded at 2013-07-01T00:00Z: Jun 30 in Los Angeles, 4 days before Jul 4.
    clock.set('2013-07-04T18:00:00Z');
    const slow = await customerOf(acme, 'SLOW');
    await message(acme, 'dm_upload_held', slow, 'queued', '2013-07-04T19:00:00Z');
    await s.db
      .update(dunningMessages)
      .set({ statusCode: 'ledger_stale' })
      .where(eq(dunningMessages.id, 'dm_upload_held'));
    try {
      expect((await today(acme)).json().uploadTooOld).toEqual({
        uploadedOn: '2013-06-30',
        ageDays: 4,
        maxAgeDays: 3,
        reason:
          'The ledger is the upload of Jun 30, 4 days old (reminders wait once it is over 3 days old): upload a newer export to send',
        held: 1,
      });
    } finally {
      await s.db.delete(dunningMessages).where(eq(dunningMessages.id, 'dm_upload_held'));
      clock.set('2013-07-01T18:00:00Z');
    }
  });

  it('an upload that left out open invoices says so while reminders wait for them', async () => {
    clock.set('2013-07-04T18:00:00Z');
    // Today's file lists every invoice but SLOW-O: that invoice's figures are still the Jun 30 upload's.
    const run = await importHistoryCsv(s.db, csv(ledgerRows().filter((r) => r[1] !== 'SLOW-O')), {
      tenantName: 'acme',
      tenantId: acme,
      now: clock.now(),
    });
    const slow = await customerOf(acme, 'SLOW');
    await message(acme, 'dm_upload_held', slow, 'queued', '2013-07-04T19:00:00Z');
    await s.db
      .update(dunningMessages)
      .set({ statusCode: 'ledger_stale' })
      .where(eq(dunningMessages.id, 'dm_upload_held'));
    try {
      expect((await today(acme)).json().uploadTooOld).toEqual({
        uploadedOn: '2013-07-04',
        ageDays: 0,
        maxAgeDays: 3,
        reason:
          'The upload of Jul 4 did not list 1 open invoice, whose reminders wait for an export that lists it (its figures are an older upload’s)',
        held: 1,
      });
    } finally {
      await s.db.delete(dunningMessages).where(eq(dunningMessages.id, 'dm_upload_held'));
      await s.db.delete(syncRuns).where(eq(syncRuns.id, run.syncRunId));
      clock.set('2013-07-01T18:00:00Z');
    }
  });

  it('honours the limit but still counts all of today', async () => {
    const body = (await today(acme, '?limit=1')).json();
    expect(body.toSend).toHaveLength(1);
    expect(body.toSendCount).toBe(3);
    expect((await today(acme, '?limit=0')).statusCode).toBe(400);
  });

  it("is tenant-scoped: another tenant's token is refused, and its own card holds only its rows", async () => {
    expect((await today(acme, '', otherOnly)).statusCode).toBe(403);
    const body = (await today(other, '', otherOnly)).json();
    expect(body).toMatchObject({ timezone: 'UTC', toSendCount: 1, held: 1, sentToday: 1 });
    expect(body.toSend.map((m: { id: string }) => m.id)).toEqual(['dm_other_today']);
  });

  it("lists what the planner queued for the tenant's day", async () => {
    // Plan the other tenant on Monday evening (after its 8–18 UTC hours); look the next morning.
    await s.db.delete(dunningMessages).where(eq(dunningMessages.tenantId, other));
    clock.set('2013-07-01T18:30:00Z');
    const plan = await planTenant(s, other);
    expect(plan.inserted.length).toBeGreaterThan(0);
    clock.set('2013-07-02T06:00:00Z');
    const rows = await s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, other));
    const from = Date.parse('2013-07-02T00:00:00Z');
    const to = Date.parse('2013-07-03T00:00:00Z');
    const inDay = (d: Date) => d.getTime() >= from && d.getTime() < to;
    const expected = rows
      .filter((m) => m.status === 'queued' && inDay(m.sendAt))
      .sort((a, b) => a.sendAt.getTime() - b.sendAt.getTime() || a.id.localeCompare(b.id));
    const body = (await today(other)).json();
    expect(body.toSend.map((m: { id: string }) => m.id)).toEqual(expected.map((m) => m.id));
    expect(body.held).toBe(
      rows.filter((m) => m.status === 'awaiting_approval' && m.sendAt.getTime() < to).length,
    );
    for (const [i, m] of expected.entries()) {
      expect(body.toSend[i].totals).toEqual((m.snapshot as { totals: unknown }).totals);
      expect(body.toSend[i].invoiceCount).toBe(m.invoiceIds.length);
    }
    clock.set('2013-07-01T18:00:00Z');
  });
});

describe('POST dunning/preview', () => {
  let invoice = '';
  const preview = (tenantId: string, payload: unknown, headers = operator) =>
    app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/dunning/preview`,
      headers,
      payload: payload as object,
    });

  beforeAll(async () => {
    invoice = (await invoiceIds(acme, ['MID-O']))[0]!;
  });

  it('renders an unsaved tone change: subject and body differ from the saved step', async () => {
    // The default policy's 'standard' sequence: step 2 (index 1) is neutral, 1 day after the due date.
    const saved = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${acme}/dunning/preview?invoice=${invoice}&sequence=standard&step=1`,
      headers: operator,
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({ source: 'saved', tone: 'neutral', offsetDays: 1 });

    const before = (await s.db.select({ id: dunningMessages.id }).from(dunningMessages)).length;
    const draft = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 1,
      draft: {
        offsetDays: 4,
        tone: 'firm',
        channel: 'email',
        template: 'reminder',
        approval: { type: 'never' },
      },
    });
    expect(draft.statusCode).toBe(200);
    const d = draft.json();
    expect(d).toMatchObject({ source: 'draft', sequence: 'standard', step: 1, tone: 'firm', offsetDays: 4 });
    // MID-O fell due on 2013-06-16: the step's day (June 20) passed, so it would go today, never on a past day.
    expect(d).toMatchObject({ sendsOn: '2013-07-01', stepDayPassed: true });
    expect(d.subject).not.toBe(saved.json().subject);
    expect(d.html).not.toBe(saved.json().html);
    expect(d.text).not.toBe(saved.json().text);
    expect(d.html).toContain('MID-O');
    // Nothing is stored by a preview.
    expect((await s.db.select({ id: dunningMessages.id }).from(dunningMessages)).length).toBe(before);

    // The saved step sent as a draft renders the same email: GET and POST share one renderer.
    const same = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 1,
      draft: { offsetDays: 1, tone: 'neutral' },
    });
    expect(same.json().subject).toBe(saved.json().subject);
    expect(same.json().html).toBe(saved.json().html);
  });

  it("sends on the step's own day when it is still ahead, with the email as on that day; never on a past day", async () => {
    // MID-O fell due on 2013-06-16; today is 2013-07-01. A step 30 days after the due date is on July 16.
    const ahead = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 1,
      draft: { offsetDays: 30, tone: 'neutral' },
    });
    expect(ahead.statusCode, ahead.body).toBe(200);
    expect(ahead.json()).toMatchObject({ sendsOn: '2013-07-16', stepDayPassed: false });
    expect(ahead.json().text).toContain('30 days overdue');
    // A pre-due nudge for an invoice long overdue (the walk-through: "Would send on Jan 4, 2025", 699 days late).
    const nudge = await app.inject({
      url: `/api/v1/tenants/${acme}/dunning/preview?invoice=${invoice}&sequence=standard&step=0`,
      headers: operator,
    });
    expect(nudge.statusCode, nudge.body).toBe(200);
    expect(nudge.json().stepDayPassed).toBe(true);
    expect(nudge.json().sendsOn >= '2013-07-01').toBe(true);
  });

  it('previews a step the saved policy does not have yet (a new step)', async () => {
    const r = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 4,
      draft: { offsetDays: 40, tone: 'final' },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().subject).toMatch(/^Final notice/);
  });

  it('rejects an invalid draft naming the field by its path', async () => {
    const r = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 1,
      draft: { offsetDays: 400, tone: 'angry' },
    });
    expect(r.statusCode).toBe(400);
    const fields = (r.json().error.details as { field: string }[]).map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['draft.offsetDays', 'draft.tone']));
    expect(r.json().error.message).toContain('draft.offsetDays: at most 365 days after the due date');

    // The sequence-level step rules of parsePolicy apply too.
    const sms = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 1,
      draft: { offsetDays: 1, tone: 'neutral', channel: 'sms' },
    });
    expect(sms.statusCode).toBe(400);
    expect(sms.json().error.details).toEqual([
      { field: 'draft.channel', message: "channel 'sms' is not available yet" },
    ]);

    const amount = await preview(acme, {
      invoice,
      sequence: 'standard',
      step: 1,
      draft: { offsetDays: 1, tone: 'neutral', approval: { type: 'above_amount', amountMinor: -5 } },
    });
    expect(amount.json().error.details.map((e: { field: string }) => e.field)).toEqual([
      'draft.approval.amountMinor',
    ]);

    const noDraft = await preview(acme, { invoice, sequence: 'standard', step: 1 });
    expect(noDraft.statusCode).toBe(400);
    expect(noDraft.json().error.details[0].field).toBe('draft');

    const noInvoice = await preview(acme, {
      sequence: 'standard',
      step: 1,
      draft: { offsetDays: 1, tone: 'firm' },
    });
    expect(noInvoice.statusCode).toBe(400);
    expect(noInvoice.json().error.details[0].field).toBe('invoice');
  });

  it("is tenant-scoped: another tenant's invoice is not found, another tenant's token is refused", async () => {
    const body = { invoice, sequence: 'standard', step: 1, draft: { offsetDays: 1, tone: 'firm' } };
    const foreign = await preview(other, body);
    expect(foreign.statusCode).toBe(404);
    expect((await preview(acme, body, otherOnly)).statusCode).toBe(403);
    const [otherInvoice] = await invoiceIds(other, ['MID-O']);
    const own = await preview(other, { ...body, invoice: otherInvoice }, otherOnly);
    expect(own.statusCode).toBe(200);
    expect(own.json().html).toContain('Other Co');
    expect(own.json().html).not.toContain('Acme');
    // GET is scoped the same way.
    const get = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${other}/dunning/preview?invoice=${invoice}&sequence=standard&step=1`,
      headers: operator,
    });
    expect(get.statusCode).toBe(404);
  });
});
