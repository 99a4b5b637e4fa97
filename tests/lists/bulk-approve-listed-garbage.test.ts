/**
 * "Approve all N matching" with a `listedAt` / `listedSnapshot` that no list answered: an API client's typo, a value
 * kept from another page, a hand-made one. Each is refused as a bad request (400, naming the field) or taken the
 * safe way (a list read before anything was planned leaves every message, with why); none reaches the database as
 * a value it cannot read. Before, a snapshot whose transaction ids are 0 in their low 32 bits ('0:0:', the ids
 * Postgres counts as "no transaction") passed the contract's check and the database refused it: a 500.
 */
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
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
  await planTenant(s, tenantId);
  clock.set(new Date(clock.now().getTime() + 60_000));
}, 120_000);

const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1/tenants/${tenantId}/${url}`, headers: auth, payload });

async function listed() {
  const list = await call('GET', 'dunning/messages?status=awaiting_approval');
  expect(list.statusCode, list.body).toBe(200);
  const body = list.json() as { items: { id: string }[]; listedAt: string; listedSnapshot: string };
  // What the cases are about: there is something a filter approve would take.
  expect(body.items.length).toBeGreaterThan(0);
  return body;
}

const approveAll = (extra: object) =>
  call('POST', 'dunning/messages/bulk', {
    action: 'approve',
    filter: { status: 'awaiting_approval' },
    ...extra,
  });

async function stillAwaiting(ids: string[]) {
  const list = await listed();
  return ids.filter((id) => list.items.some((i) => i.id === id));
}

describe('approve all matching with a listedAt or listedSnapshot no list answered', () => {
  it.each([
    ['0:0:'],
    ['0:5:'],
    ['0:5:3'],
    // The low 32 bits are the transaction id: 2^32 is "no transaction" of epoch 1.
    ['4294967296:4294967300:'],
    ['3:4294967296:'],
  ])('snapshot %s is a 400 naming it, not a database error, and approves nothing', async (snapshot) => {
    const { items, listedAt } = await listed();
    const r = await approveAll({ listedAt, listedSnapshot: snapshot });
    expect(r.statusCode, r.body).toBe(400);
    expect(r.body).toMatch(/listedSnapshot/);
    expect(await stillAwaiting(items.map((i) => i.id))).toEqual(items.map((i) => i.id));
  });

  it.each([['yesterday'], ['2013-13-45T00:00:00Z'], ['2013-07-01'], ['']])(
    'listedAt %j is a 400 and approves nothing',
    async (listedAt) => {
      const { items, listedSnapshot } = await listed();
      const r = await approveAll({ listedAt, listedSnapshot });
      expect(r.statusCode, r.body).toBe(400);
      expect(await stillAwaiting(items.map((i) => i.id))).toEqual(items.map((i) => i.id));
    },
  );

  it('a listedAt before anything was planned leaves every message, each with why', async () => {
    const { items } = await listed();
    const r = await approveAll({ listedAt: '1970-01-01T00:00:00.000Z' });
    expect(r.statusCode, r.body).toBe(200);
    const res = r.json() as { appliedIds: string[]; notApplied: { id: string; reason: string }[] };
    expect(res.appliedIds).toEqual([]);
    for (const i of items)
      expect(res.notApplied.find((n) => n.id === i.id)?.reason, i.id).toMatch(/since the list was read/);
  });

  // A listedAt after the server's now names a list no server read: everything planned until then would count as seen
  // on it (approved unread). Beyond a clock skew of 5 minutes it is a 400 saying so, and nothing is approved.
  it.each([['9999-12-31T23:59:59.999Z'], [10 * 60_000], [5 * 60_000 + 1_000]])(
    'a listedAt in the future (%s) is a 400 naming it, and approves nothing',
    async (at) => {
      const { items } = await listed();
      const listedAt = typeof at === 'string' ? at : new Date(clock.now().getTime() + at).toISOString();
      for (const action of ['approve', 'skip'] as const) {
        const r = await call('POST', 'dunning/messages/bulk', {
          action,
          filter: { status: 'awaiting_approval' },
          listedAt,
        });
        expect(r.statusCode, r.body).toBe(400);
        expect(r.body).toMatch(/listedAt .* is after the server's time/);
      }
      expect(await stillAwaiting(items.map((i) => i.id))).toEqual(items.map((i) => i.id));
    },
  );

  it("a listedAt within 5 minutes after the server's now (clock skew) is answered as a list read now", async () => {
    const { items } = await listed();
    const r = await approveAll({ listedAt: new Date(clock.now().getTime() + 4 * 60_000).toISOString() });
    expect(r.statusCode, r.body).toBe(200);
    expect((r.json() as { appliedIds: string[] }).appliedIds.sort()).toEqual(items.map((i) => i.id).sort());
  });
});
