/**
 * An approval racing a re-plan. The approve route checks the message, then locks it; a re-plan (a pause, a policy
 * change, an override) can take the message back in between — delete it, or write it again under the same id.
 * Before: either answered 409 "decided by someone else" (nobody had decided anything; the Approvals card did not
 * reload), a bulk approve reported the message "not found" or "queued, not awaiting approval", and on Postgres an
 * approve that waited for the lock while the re-plan wrote the message again approved the new row — words nobody
 * had read — with the old version.
 */
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { approveMessage } from '../../src/dunning/approvals';
import { bulkDecideMessages } from '../../src/dunning/bulk';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { usingPostgres } from '../helpers/db';
import { approvalRule, approveAll, messagesOf, suiteSetup, uploadToday } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
  await approvalRule(app, tenantId, auth, { type: 'always' });
}, 120_000);

const api = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/dunning${url}`, headers: auth, payload });

async function view(id: string) {
  const r = await api('GET', `/messages/${id}`);
  expect(r.statusCode, r.body).toBe(200);
  return r.json() as { status: string; approvalVersion: string };
}
async function row(id: string) {
  const [m] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  return m;
}
async function pause(customer: string): Promise<string> {
  const put = await api('PUT', '/overrides', { customerId: customer, pausedUntil: '2099-01-01' });
  expect(put.statusCode, put.body).toBe(200);
  return put.json().id as string;
}
async function lift(overrideId: string) {
  expect((await api('DELETE', `/overrides/${overrideId}`)).statusCode).toBe(204);
}

const isReminder = (x: typeof dunningMessages.$inferSelect) =>
  x.kind === 'reminder' && x.template !== 'statement';

/** Days pass (what is due sent, every held message approved) until a reminder (not a catch-up) waits for approval. */
async function heldReminder() {
  for (let day = 0; day < 60; day++) {
    await planTenant(s, tenantId);
    const held = (await messagesOf(s, tenantId)).find(
      (x) => isReminder(x) && x.status === 'awaiting_approval',
    );
    if (held) return held;
    await approveAll(s, tenantId);
    clock.set(new Date(Date.parse(clock.now().toISOString().slice(0, 10)) + 86_400_000 + 12 * 3_600_000));
    // The company uploads each day's export: without it, reminders wait once the upload is over 3 days old (held
    // ledger_stale) and the days walked send nothing.
    await uploadToday(s);
    for (const q of await messagesOf(s, tenantId)) {
      if (q.status !== 'queued' || q.sendAt > clock.now()) continue;
      const out = await sendMessage(s, q.id, { transport: null });
      expect(out, JSON.stringify(out)).not.toMatchObject({ code: 'ledger_stale' });
    }
  }
  throw new Error('no held reminder in 60 days');
}

/** The services, with `hook` run once between the approve's check of the message and its transaction. */
function withReplanAfterCheck(hook: () => Promise<void>): Services {
  let pending = true;
  const db = new Proxy(s.db, {
    get(target, key) {
      if (key === 'transaction')
        return async (...args: Parameters<typeof target.transaction>) => {
          if (pending) {
            pending = false;
            await hook();
          }
          return target.transaction(...args);
        };
      const v = Reflect.get(target, key, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { ...s, db } as Services;
}

async function sendJobsOf(id: string): Promise<number> {
  const [r] = rowsOf<{ n: number }>(
    await s.db.execute(
      sql`select count(*)::int as n from pgboss.job where name = 'dunning-send' and data->>'messageId' = ${id}`,
    ),
  );
  return r?.n ?? 0;
}

describe('an approve racing a re-plan', () => {
  it('a message withdrawn by a re-plan after the check (held, or deleted): 409 message_changed, with or without a version', async () => {
    const m = await heldReminder();
    const seen = await view(m.id);
    const other = ['reliable', 'standard', 'high-risk'].find((q) => q !== m.sequenceId)!;
    // A pause withdraws it (skipped, with the pause as its reason); another sequence for the customer takes it back
    // (deleted) and plans the customer's invoices under other keys.
    const replans = [
      async () => (await pause(m.customerId)) as string,
      async () => {
        const put = await api('PUT', '/overrides', { customerId: m.customerId, sequenceId: other });
        expect(put.statusCode, put.body).toBe(200);
        return put.json().id as string;
      },
    ];
    for (const [i, replan] of replans.entries()) {
      for (const version of [seen.approvalVersion, undefined]) {
        let override = '';
        const racing = withReplanAfterCheck(async () => {
          override = await replan();
        });
        const err = await approveMessage(racing, tenantId, m.id, 'reviewer', version).then(
          () => null,
          (e: unknown) => e,
        );
        expect(err).toMatchObject({ code: 'message_changed', status: 409 });
        expect(String((err as Error).message)).toMatch(/changed since you viewed it/);
        const after = await row(m.id);
        if (i === 0) expect(after).toMatchObject({ status: 'skipped', decidedBy: null });
        else expect(after).toBeUndefined();
        await lift(override);
        expect(await row(m.id)).toMatchObject({ status: 'awaiting_approval', decidedAt: null });
      }
    }
  });

  it('a message planned again under its id needing no approval now: 409 message_changed, not "decided by someone else"', async () => {
    const m = await heldReminder();
    const seen = await view(m.id);
    const racing = withReplanAfterCheck(() => approvalRule(app, tenantId, auth, { type: 'never' }));
    try {
      const err = await approveMessage(racing, tenantId, m.id, 'reviewer', seen.approvalVersion).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toMatchObject({ code: 'message_changed', status: 409 });
      // It goes as the policy now says (no approval), not as approved by this reviewer.
      expect(await row(m.id)).toMatchObject({ status: 'queued', requiresApproval: false, decidedBy: null });
    } finally {
      await approvalRule(app, tenantId, auth, { type: 'always' });
    }
  });

  it('a card left open across a re-plan that withdrew the message: 409 message_changed (was "is skipped, not awaiting approval")', async () => {
    const m = await heldReminder();
    const seen = await view(m.id);
    const override = await pause(m.customerId);
    try {
      const stale = await api('POST', `/messages/${m.id}/approve`, { version: seen.approvalVersion });
      expect(stale.statusCode, stale.body).toBe(409);
      expect(stale.json().error).toMatchObject({ code: 'message_changed' });
      // A client approving by rule (no version) reads what the message is.
      const byRule = await api('POST', `/messages/${m.id}/approve`);
      expect(byRule.statusCode, byRule.body).toBe(409);
      expect(byRule.json().error.message).toMatch(/is skipped, not awaiting approval/);
    } finally {
      await lift(override);
    }
  });

  it('decided by another reviewer first: still "decided by someone else"', async () => {
    const m = await heldReminder();
    const seen = await view(m.id);
    const racing = withReplanAfterCheck(async () => {
      await approveMessage(s, tenantId, m.id, 'other reviewer');
    });
    const err = await approveMessage(racing, tenantId, m.id, 'reviewer', seen.approvalVersion).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'conflict', status: 409 });
    expect(String((err as Error).message)).toMatch(/decided by someone else/);
    expect(await row(m.id)).toMatchObject({ status: 'queued', decidedBy: 'other reviewer' });
  });

  it('bulk approve: a message withdrawn or planned again since the cards were read is among the changed ones', async () => {
    const m = await heldReminder();
    const seen = await view(m.id);
    const other = ['reliable', 'standard', 'high-risk'].find((q) => q !== m.sequenceId)!;
    const bulk = (payload: object) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/tenants/${tenantId}/dunning/messages/bulk`,
        headers: auth,
        payload: { action: 'approve', ...payload },
      });
    // Withdrawn for a pause (skipped), or taken back for another sequence (deleted): the bulk request names it
    // with the version its card showed.
    for (const hold of [{ pausedUntil: '2099-01-01' }, { sequenceId: other }]) {
      const put = await api('PUT', '/overrides', { customerId: m.customerId, ...hold });
      expect(put.statusCode, put.body).toBe(200);
      const gone = await bulk({ ids: [m.id], versions: { [m.id]: seen.approvalVersion } });
      expect(gone.statusCode, gone.body).toBe(200);
      expect(gone.json()).toMatchObject({ applied: 0, notApplied: [{ id: m.id }] });
      expect(gone.json().notApplied[0].reason).toMatch(/changed since you viewed it/);
      await lift(put.json().id);
    }
    // Without versions (a bulk approve by filter resolves the ids just before it locks them): the same.
    const put = await api('PUT', '/overrides', { customerId: m.customerId, sequenceId: other });
    const byFilter = await bulkDecideMessages(s, 'approve', {
      tenantId,
      actor: 'reviewer',
      ids: [m.id],
      request: { filter: { q: '' } },
    });
    expect(byFilter).toMatchObject({ applied: 0, notApplied: [{ id: m.id }] });
    expect(byFilter.notApplied[0]!.reason).toMatch(/changed since you viewed it/);
    // Named by id alone (no version, no filter: nothing says it was read as held), it is what it is.
    const byId = await bulkDecideMessages(s, 'approve', {
      tenantId,
      actor: 'reviewer',
      ids: [m.id],
      request: { ids: [m.id] },
    });
    expect(byId.notApplied).toEqual([{ id: m.id, reason: 'not found' }]);
    await lift(put.json().id);

    // Planned again under its id, now without approval (a policy change): changed, not "queued" as if decided.
    const again = await view(m.id);
    expect(again.status).toBe('awaiting_approval');
    await approvalRule(app, tenantId, auth, { type: 'never' });
    try {
      const r = await bulk({ ids: [m.id], versions: { [m.id]: again.approvalVersion } });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toMatchObject({ applied: 0, notApplied: [{ id: m.id }] });
      expect(r.json().notApplied[0].reason).toMatch(/changed since you viewed it/);
      expect(await row(m.id)).toMatchObject({ status: 'queued', decidedBy: null });
    } finally {
      await approvalRule(app, tenantId, auth, { type: 'always' });
    }
  });

  it('an edit written for the message as read, which was planned again meanwhile: 409 message_changed, not applied', async () => {
    const m = await heldReminder();
    // As when it was planned on a ledger that showed the debtor paying on time (another email than now).
    await s.db
      .update(dunningMessages)
      .set({ snapshot: sql`${dunningMessages.snapshot} || '{"reliablePayer": true}'::jsonb` })
      .where(eq(dunningMessages.id, m.id));
    const seen = await view(m.id);
    const edit = (version: string) =>
      api('PATCH', `/messages/${m.id}`, { intro: 'Thank you for always paying on time.', version });
    // Planned again under its id with today's figures, as needing no approval (a policy change came with it): the
    // intro, written for the other email, would go out unread.
    await approvalRule(app, tenantId, auth, { type: 'never' });
    try {
      const now = await view(m.id);
      expect(now.status).toBe('queued');
      expect(now.approvalVersion).not.toBe(seen.approvalVersion);
      const stale = await edit(seen.approvalVersion);
      expect(stale.statusCode, stale.body).toBe(409);
      expect(stale.json().error).toMatchObject({ code: 'message_changed' });
      expect(await row(m.id)).toMatchObject({ status: 'queued', editedIntro: null, editedAt: null });
      // Read again (the version as it reads now), the edit applies.
      const ok = await edit(now.approvalVersion);
      expect(ok.statusCode, ok.body).toBe(200);
      expect(await row(m.id)).toMatchObject({ editedIntro: 'Thank you for always paying on time.' });
    } finally {
      await approvalRule(app, tenantId, auth, { type: 'always' });
    }
  });

  it.runIf(usingPostgres)(
    'Postgres: an approve waiting for the lock while a re-plan writes the message again under its id approves nothing',
    async () => {
      const m = await heldReminder();
      const seen = await view(m.id);
      const jobsBefore = await sendJobsOf(m.id);
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      let written!: () => void;
      const inFlight = new Promise<void>((r) => {
        written = r;
      });
      // As a re-plan does (takeBackPending, then insertMessage): deleted and written again, other recipients.
      const replan = s.db.transaction(async (tx) => {
        const [old] = await tx.delete(dunningMessages).where(eq(dunningMessages.id, m.id)).returning();
        await tx.insert(dunningMessages).values({ ...old!, to: ['someone.else@debtor.example'] });
        written();
        await gate;
      });
      await inFlight;
      const approving = approveMessage(s, tenantId, m.id, 'reviewer', seen.approvalVersion).then(
        () => null,
        (e: unknown) => e,
      );
      // Until the approve waits for the message's row lock (held by the re-plan).
      for (let i = 0; i < 500; i++) {
        const [w] = rowsOf<{ n: number }>(
          await s.db.execute(
            sql`select count(*)::int as n from pg_locks where not granted and locktype in ('transactionid', 'tuple')`,
          ),
        );
        if (w!.n > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      release();
      await replan;
      const err = await approving;
      expect(err).toMatchObject({ code: 'message_changed', status: 409 });
      expect(await row(m.id)).toMatchObject({
        status: 'awaiting_approval',
        decidedAt: null,
        to: ['someone.else@debtor.example'],
      });
      expect(await sendJobsOf(m.id)).toBe(jobsBefore);
    },
  );
});
