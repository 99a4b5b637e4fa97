/**
 * "Approve all N matching" with the list's `listedAt` (app clock): a write stamped before the list was read but
 * committed after it was not on the list — a colleague's edit or a re-plan in a transaction still open while the
 * list was read, or written by an app instance whose clock runs behind the one that answered the list. The list
 * showed the message as it was before that write; the approve must not take the write as seen. Before, it compared
 * the write's stamp with listedAt only and approved it. Now the list also answers the database snapshot it was read
 * under (`listedSnapshot`) and a write that snapshot did not see is left, with why.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { editUnsentMessage } from '../../src/db/queries/dunning-admin';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
}, 120_000);

const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/${url}`, headers: auth, payload });
const later = (ms: number) => clock.set(new Date(clock.now().getTime() + ms));

describe('approve all matching, as listed, against writes stamped before the list', () => {
  it('an edit from an app instance whose clock is a minute behind, made after the list was read, is left', async () => {
    await planTenant(s, tenantId);
    later(60_000);
    const list = await call('GET', 'dunning/messages?status=awaiting_approval');
    const { items, listedAt, listedSnapshot } = list.json() as {
      items: { id: string; approvalVersion: string }[];
      listedAt: string;
      listedSnapshot: string;
    };
    const target = items[0]!.id;
    // Another instance, its clock a minute behind, saves a colleague's edit (as PATCH …/messages/:id does).
    later(-60_000);
    const now = clock.now();
    expect(
      await editUnsentMessage(s.db, target, {
        editedIntro: 'We will take legal action tomorrow.',
        editedBy: 'colleague',
        editedAt: now,
        updatedAt: now,
      }),
    ).not.toBeNull();
    later(120_000);
    const r = await call('POST', 'dunning/messages/bulk', {
      action: 'approve',
      filter: { status: 'awaiting_approval' },
      listedAt,
      listedSnapshot,
    });
    expect(r.statusCode, r.body).toBe(200);
    const res = r.json() as { appliedIds: string[]; notApplied: { id: string; reason: string }[] };
    expect(res.appliedIds, 'approved with an intro the list never showed').not.toContain(target);
    expect(res.notApplied.find((n) => n.id === target)?.reason).toMatch(/since the list was read/);
    // A mangled snapshot is refused as such, not a database error.
    const bad = await call('POST', 'dunning/messages/bulk', {
      action: 'approve',
      filter: { status: 'awaiting_approval' },
      listedAt,
      listedSnapshot: '9:3:1',
    });
    expect(bad.statusCode, bad.body).toBe(400);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'an edit stamped before the list but committed after it is not approved as listed',
    async () => {
      await planTenant(s, tenantId);
      later(60_000);
      const before = await call('GET', 'dunning/messages?status=awaiting_approval');
      const target = (before.json() as { items: { id: string }[] }).items[0]!.id;
      let listedAt = '';
      let listedSnapshot = '';
      let listedIntro: string | null | undefined;
      await s.db.transaction(async (tx) => {
        const now = clock.now();
        const edited = await editUnsentMessage(tx, target, {
          editedIntro: 'Final notice before collections.',
          editedBy: 'colleague',
          editedAt: now,
          subject: null,
          html: null,
          text: null,
          renderedAsOf: null,
          updatedAt: now,
        });
        expect(edited).not.toBeNull();
        // The list is read while the edit's transaction is still open (a few milliseconds later, app clock).
        later(5);
        const list = await call('GET', 'dunning/messages?status=awaiting_approval');
        expect(list.statusCode, list.body).toBe(200);
        const body = list.json() as {
          items: { id: string; editedIntro?: string | null }[];
          listedAt: string;
          listedSnapshot: string;
        };
        listedAt = body.listedAt;
        listedSnapshot = body.listedSnapshot;
        listedIntro = body.items.find((i) => i.id === target)?.editedIntro;
      });
      expect(listedIntro ?? null, 'the list showed the message without the edit').not.toBe(
        'Final notice before collections.',
      );
      later(60_000);
      const r = await call('POST', 'dunning/messages/bulk', {
        action: 'approve',
        filter: { status: 'awaiting_approval' },
        listedAt,
        listedSnapshot,
      });
      expect(r.statusCode, r.body).toBe(200);
      const res = r.json() as { appliedIds: string[]; notApplied: { id: string; reason: string }[] };
      expect(res.appliedIds, 'approved with an intro the list never showed').not.toContain(target);
      expect(res.notApplied.find((n) => n.id === target)?.reason).toMatch(/since the list was read/);
    },
  );
});
