import { createHmac, randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { contactSuppressions, dunningMessages } from '../../src/db/schema';
import { senderOf } from '../../src/dunning/compose-email';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { teamCopy } from '../../src/dunning/unsubscribe-token';
import type { Services } from '../../src/services';
import { customerId, importLedger, suiteSetup, tenantRow } from './fixtures';

const whKey = randomBytes(24);
const WEBHOOK_SECRET = `whsec_${whKey.toString('base64')}`;

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };
const base = () => `/api/v1/tenants/${tenantId}/dunning`;

/** Every customer on one sequence whose first overdue step always waits for a reviewer. */
const heldPolicy = {
  defaultSequenceId: 'held',
  sequences: [
    {
      id: 'held',
      name: 'Held',
      steps: [
        { offsetDays: 1, tone: 'neutral', approval: { type: 'always' } },
        { offsetDays: 40, tone: 'firm' },
      ],
    },
  ],
  rules: [],
};

const suite = suiteSetup({ env: { RESEND_WEBHOOK_SECRET: WEBHOOK_SECRET } });
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
}, 120_000);

async function message(id: string) {
  const [m] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  return m!;
}

function signed(payload: object, svixId: string, opts: { key?: Buffer; ts?: number } = {}) {
  const body = JSON.stringify(payload);
  const ts = String(opts.ts ?? Math.floor(clock.now().getTime() / 1000));
  const sig = createHmac('sha256', opts.key ?? whKey)
    .update(`${svixId}.${ts}.${body}`)
    .digest('base64');
  return {
    method: 'POST' as const,
    url: '/webhooks/resend',
    headers: {
      'content-type': 'application/json',
      'svix-id': svixId,
      'svix-timestamp': ts,
      'svix-signature': `v1,${sig}`,
    },
    payload: body,
  };
}

function event(type: string, messageId: string, extra: Record<string, unknown> = {}) {
  return {
    type,
    created_at: clock.now().toISOString(),
    data: {
      email_id: `re_${messageId}`,
      created_at: clock.now().toISOString(),
      from: 'Acme Billing <billing@acme.example>',
      to: ['ap@slow.example'],
      subject: 'Reminder',
      tags: { message_id: messageId },
      ...extra,
    },
  };
}

let held: { id: string; customerId: string }[] = [];
let sentId = '';

describe('policy', () => {
  it('rejects an invalid policy naming the field', async () => {
    const bad = structuredClone(heldPolicy);
    bad.sequences[0]!.steps[1]!.offsetDays = 1;
    const r = await app.inject({
      method: 'PUT',
      url: `${base()}/policy`,
      headers: auth,
      payload: { policy: bad },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.message).toContain('policy.sequences[0].steps[1].offsetDays');
    const noTz = await app.inject({
      method: 'PUT',
      url: `${base()}/policy`,
      headers: auth,
      payload: {
        settings: {
          timezone: 'Mars/Base',
          businessDays: [1],
          businessHours: { start: 9, end: 17 },
          approvalThresholdMinor: 1,
        },
      },
    });
    expect(noTz.statusCode).toBe(400);
    expect(noTz.json().error.details).toContainEqual({
      field: 'settings.timezone',
      message: 'not an IANA timezone',
    });
  });

  it('stores a valid policy as a new version', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: `${base()}/policy`,
      headers: auth,
      payload: { policy: heldPolicy },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().version).toBe(1);
    const g = await app.inject({ method: 'GET', url: `${base()}/policy`, headers: auth });
    expect(g.json().policy.defaultSequenceId).toBe('held');
  });
});

describe('approvals', () => {
  it('plan now: held messages wait for approval, with no send job', async () => {
    const r = await app.inject({ method: 'POST', url: `${base()}/plan`, headers: auth });
    expect(r.statusCode).toBe(200);
    // Saving the policy planned under it already (in its transaction): the run adds nothing new.
    expect(r.json().planned).toEqual([]);
    const list = await app.inject({
      method: 'GET',
      url: `${base()}/messages?status=awaiting_approval`,
      headers: auth,
    });
    held = list.json().items;
    expect(held).toHaveLength(2);
    const first = list.json().items[0];
    expect(first.why.reason).toMatch(/overdue/);
    expect(first.why.approvalReason).toMatch(/always needs approval/);
    expect(first.why.snapshot.invoices[0].openBalanceMinor).toBeGreaterThan(0);
    const jobs = rowsOf(await s.db.execute(sql`select id from pgboss.job where name = 'dunning-send'`));
    expect(jobs).toHaveLength(0);
  });

  it('edit → approve → sent with the edits; skip; a decided message cannot be approved', async () => {
    const [a, b] = held as { id: string }[];
    const edit = await app.inject({
      method: 'PATCH',
      url: `${base()}/messages/${a!.id}`,
      headers: auth,
      payload: { subject: 'About your account with Acme', intro: 'Following our call on Friday:' },
    });
    expect(edit.statusCode).toBe(200);
    const preview = await app.inject({
      method: 'GET',
      url: `${base()}/messages/${a!.id}/rendered`,
      headers: auth,
    });
    expect(preview.json().subject).toBe('About your account with Acme');
    expect(preview.json().html).toContain('Following our call on Friday:');

    const ok = await app.inject({
      method: 'POST',
      url: `${base()}/messages/${a!.id}/approve`,
      headers: auth,
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().status).toBe('queued');
    const jobs = rowsOf<{ data: { messageId: string } }>(
      await s.db.execute(sql`select data from pgboss.job where name = 'dunning-send'`),
    );
    expect(jobs.map((j) => j.data.messageId)).toEqual([a!.id]);
    const twice = await app.inject({
      method: 'POST',
      url: `${base()}/messages/${a!.id}/approve`,
      headers: auth,
    });
    expect(twice.statusCode).toBe(409);

    clock.set((await message(a!.id)).sendAt);
    expect(await sendMessage(s, a!.id)).toMatchObject({ outcome: 'sent', providerId: `outbox:${a!.id}` });
    const sent = await message(a!.id);
    expect(sent.subject).toBe('About your account with Acme');
    expect(sent.text).toContain('Following our call on Friday:');
    sentId = a!.id;

    const skip = await app.inject({
      method: 'POST',
      url: `${base()}/messages/${b!.id}/skip`,
      headers: auth,
      payload: { reason: 'spoke to them' },
    });
    expect(skip.statusCode).toBe(200);
    expect(skip.json()).toMatchObject({ status: 'skipped', statusCode: 'approval_rejected' });
    const late = await app.inject({
      method: 'POST',
      url: `${base()}/messages/${b!.id}/approve`,
      headers: auth,
    });
    expect(late.statusCode).toBe(409);
    // The sent email is served as stored, with the team's inert unsubscribe link for the debtor's.
    const html = await app.inject({
      method: 'GET',
      url: `${base()}/messages/${a!.id}/rendered?format=html`,
      headers: auth,
    });
    expect(html.headers['content-type']).toMatch(/text\/html/);
    expect(html.body).toBe(
      teamCopy({ html: sent.html!, text: '' }, s.config.PUBLIC_URL, s.config.APP_SECRET, a!.id).html,
    );
    expect(html.body).not.toBe(sent.html);
  });

  it('a sequence step previews for a real invoice', async () => {
    const [inv] = rowsOf<{ id: string }>(
      await s.db.execute(sql`select id from invoices where external_id = 'MID-O'`),
    );
    const r = await app.inject({
      method: 'GET',
      url: `${base()}/preview?invoice=${inv!.id}&sequence=held&step=1`,
      headers: auth,
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ tone: 'firm', sequence: 'held', step: 1 });
    expect(r.json().html).toContain('MID-O');
    // The CSV ledger knows this customer only as "MID" (its customer_id): the email greets without it.
    expect(r.json().text).toMatch(/^Hello,$/m);
    expect(r.json().text).not.toContain('Hello MID');
  });
});

describe('Resend webhooks', () => {
  it('a signed delivered event updates the message; the same svix-id again is a no-op', async () => {
    const r = await app.inject(signed(event('email.delivered', sentId), 'msg_evt_1'));
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ result: 'applied' });
    expect((await message(sentId)).deliveryStatus).toBe('delivered');
    const again = await app.inject(signed(event('email.delivered', sentId), 'msg_evt_1'));
    expect(again.json()).toEqual({ result: 'duplicate' });
    const log = await app.inject({ method: 'GET', url: `${base()}/messages/${sentId}`, headers: auth });
    expect(log.json().events.map((e: { type: string }) => e.type)).toEqual(['delivered']);
  });

  it('a bad signature is 401', async () => {
    const r = await app.inject(signed(event('email.opened', sentId), 'msg_evt_2', { key: randomBytes(24) }));
    expect(r.statusCode).toBe(401);
    const stale = await app.inject(
      signed(event('email.opened', sentId), 'msg_evt_3', {
        ts: Math.floor(clock.now().getTime() / 1000) - 3600,
      }),
    );
    expect(stale.statusCode).toBe(401);
  });

  it('a server run as of another day (--now) checks the signed timestamp against the real time', async () => {
    // What offsetClock (DUELY_NOW / --now) adds: the real time behind the moved clock.
    const moved = clock as ManualClock & { wall?: () => Date };
    moved.wall = () => new Date();
    try {
      const real = await app.inject(
        signed(event('email.opened', sentId), 'msg_evt_wall_1', { ts: Math.floor(Date.now() / 1000) }),
      );
      expect(real.statusCode).toBe(200);
      // Signed with the moved clock's time (years from the real one): outside the window.
      const replay = await app.inject(signed(event('email.opened', sentId), 'msg_evt_wall_2'));
      expect(replay.statusCode).toBe(401);
    } finally {
      delete moved.wall;
    }
  });

  it('a hard bounce marks the address bad and opens a "find a new contact" task with talking points', async () => {
    const r = await app.inject(
      signed(
        event('email.bounced', sentId, {
          bounce: { message: 'mailbox does not exist', type: 'Permanent', subType: 'General' },
        }),
        'msg_evt_4',
      ),
    );
    expect(r.statusCode).toBe(200);
    const m = await message(sentId);
    expect(m.deliveryStatus).toBe('bounced');
    const sup = await s.db
      .select()
      .from(contactSuppressions)
      .where(eq(contactSuppressions.tenantId, tenantId));
    expect(sup).toContainEqual(expect.objectContaining({ kind: 'bounced', email: m.to[0] }));
    const tasks = await app.inject({ method: 'GET', url: `${base()}/tasks`, headers: auth });
    const task = tasks.json().items.find((t: { kind: string }) => t.kind === 'find_contact');
    expect(task).toBeDefined();
    expect(task.title).toContain('bounced');
    expect(task.talkingPoints.openItems.length).toBeGreaterThan(0);
    expect(task.talkingPoints.lastContacts[0].status).toBe('sent');
    const done = await app.inject({
      method: 'POST',
      url: `${base()}/tasks/${task.id}/done`,
      headers: auth,
      payload: { note: 'new AP contact' },
    });
    expect(done.statusCode).toBe(200);
    const open = await app.inject({ method: 'GET', url: `${base()}/tasks`, headers: auth });
    expect(open.json().items.some((t: { id: string }) => t.id === task.id)).toBe(false);
  });
});

describe('unsubscribe', () => {
  it('GET shows a confirm page; one-click POST suppresses the debtor; the planner then leaves them alone', async () => {
    const m = await message(sentId);
    const url = /https?:\/\/[^"'\s<>]+\/u\/([A-Za-z0-9_.-]+)/.exec(m.html!)!;
    const path = `/u/${url[1]}`;
    const page = await app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post"');
    // The page names the company the reminders come from (the name the emails are signed with), escaped.
    const company = senderOf(await tenantRow(s, tenantId), s).companyName;
    expect(company.length).toBeGreaterThan(0);
    const html = company.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&#39;');
    expect(page.body).toContain(`Stop payment reminders from ${html}?`);
    // Still subscribed after a GET (link scanners).
    expect(
      (await s.db.select().from(contactSuppressions).where(eq(contactSuppressions.kind, 'unsubscribed')))
        .length,
    ).toBe(0);
    const post = await app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(post.body).toContain(`You won't get payment reminders from ${html} any more.`);
    const forged = await app.inject({ method: 'POST', url: `${path.slice(0, -2)}xx` });
    expect(forged.statusCode).toBe(404);
    const r = await planTenant(s, tenantId);
    const d = r.decisions.find((x) => x.customerId === m.customerId);
    expect(d?.code).toBe('opted_out');
  });
});

describe('holds: overrides, promises, disputes', () => {
  it('a dispute holds the invoice; a promise to pay holds it; both are listed', async () => {
    // The debtor who did not unsubscribe above.
    const sentTo = (await message(sentId)).customerId;
    const target = (await customerId(s, 'MID')) === sentTo ? 'SLOW' : 'MID';
    const mid = await customerId(s, target);
    const [inv] = rowsOf<{ id: string }>(
      await s.db.execute(sql`select id from invoices where external_id = ${`${target}-O`}`),
    );
    const d = await app.inject({
      method: 'POST',
      url: `${base()}/disputes`,
      headers: auth,
      payload: { invoiceId: inv!.id, reason: 'wrong quantity' },
    });
    expect(d.statusCode).toBe(201);
    const p = await app.inject({
      method: 'POST',
      url: `${base()}/promises`,
      headers: auth,
      payload: { customerId: mid, invoiceIds: [inv!.id], promisedDate: '2013-07-20' },
    });
    expect(p.statusCode).toBe(201);
    const o = await app.inject({
      method: 'PUT',
      url: `${base()}/overrides`,
      headers: auth,
      payload: { customerId: mid, pausedUntil: '2013-07-05' },
    });
    expect(o.statusCode).toBe(200);
    const badSeq = await app.inject({
      method: 'PUT',
      url: `${base()}/overrides`,
      headers: auth,
      payload: { customerId: mid, sequenceId: 'nope' },
    });
    expect(badSeq.statusCode).toBe(400);
    const r = await planTenant(s, tenantId);
    expect(r.decisions.find((x) => x.customerId === mid)?.code).toBe('customer_paused');
    for (const what of ['disputes', 'promises', 'overrides']) {
      const list = await app.inject({ method: 'GET', url: `${base()}/${what}`, headers: auth });
      expect(list.json().items.length).toBe(1);
    }
  });
});

describe('payment receipt', () => {
  it('an invoice paid after a reminder was sent gets one thank-you, once', async () => {
    const m = await message(sentId);
    // The bounce suppressed the address; a fresh one arrives.
    await s.db.delete(contactSuppressions).where(eq(contactSuppressions.tenantId, tenantId));
    const [inv] = rowsOf<{ external_id: string }>(
      await s.db.execute(sql`select external_id from invoices where id = ${m.invoiceIds[0]!}::uuid`),
    );
    await importLedger(s, { [inv!.external_id]: clock.now().toISOString().slice(0, 10) });
    const r = await planTenant(s, tenantId);
    expect(r.receipts).toHaveLength(1);
    expect((await planTenant(s, tenantId)).receipts).toHaveLength(0);
    // Another invoice of this debtor is (still) open: the receipt must not say the account is paid up.
    await s.db.execute(sql`
      update invoices set status = 'open', balance_minor = total_minor, paid_date = null
      where id = (select id from invoices where customer_id = ${m.customerId}::uuid and status = 'paid'
                  and id <> ${m.invoiceIds[0]!}::uuid order by due_date desc limit 1)`);
    const out = await sendMessage(s, r.receipts[0]!);
    expect(out.outcome).toBe('sent');
    const receipt = await message(r.receipts[0]!);
    expect(receipt.subject).toMatch(/Payment received/);
    expect(receipt.to).toEqual(m.to);
    // What remains is stated right: other open invoices are listed, "fully paid up" only when nothing is open.
    const stillOpen = rowsOf<{ n: string }>(
      await s.db.execute(
        sql`select coalesce(number, external_id) as n from invoices where customer_id = ${m.customerId}::uuid and status = 'open'`,
      ),
    );
    expect(stillOpen.length).toBeGreaterThan(0);
    if (stillOpen.length > 0) {
      expect(receipt.text).not.toContain('fully paid up');
      for (const o of stillOpen) expect(receipt.text).toContain(o.n);
    } else {
      expect(receipt.text).toContain('fully paid up');
    }
  });
});
