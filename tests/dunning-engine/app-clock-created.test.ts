/**
 * A message is dated by the app's clock, not the database's: the 7-day approval expiry counts from it. Under
 * `--now` / DUELY_NOW or a test clock far from the real time, the database's now() dated new messages years away
 * from the app's "now": a request planned under a clock in the past never expired (its age was negative), and one
 * planned under a clock in the future was born expired. Planned reminders, requested statements and thank-you
 * receipts are all dated by the clock.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages } from '../../src/db/schema';
import { APPROVAL_TTL_DAYS, planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { customerId, messagesOf, suiteSetup } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
}, 120_000);

const DAY = 86_400_000;

describe('a new message is dated by the app clock', () => {
  it('planned: created at the clock, and its approval expires 7 days of that clock later', async () => {
    const before = clock.now().getTime();
    await planTenant(s, tenantId);
    const held = (await messagesOf(s, tenantId)).filter((m) => m.status === 'awaiting_approval');
    expect(held.length).toBeGreaterThan(0);
    for (const m of held) expect(m.createdAt.getTime(), m.id).toBe(before);

    // 8 days on (a Tuesday, in business hours): too old to approve, and the next plan expires it.
    clock.set(new Date(before + (APPROVAL_TTL_DAYS + 1) * DAY + 10 * 3_600_000));
    const id = held[0]!.id;
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/dunning/messages/${id}/approve`,
      headers: auth,
      payload: {},
    });
    expect(r.statusCode, r.body).toBe(409);
    expect(r.json().error?.code ?? r.json().code).toBe('approval_expired');
    await planTenant(s, tenantId);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
    // Expired and asked again under the same key: a new request, dated now.
    expect(row!.createdAt.getTime()).toBe(clock.now().getTime());
  });

  it('a requested statement is created at the clock', async () => {
    const rely = await customerId(s, 'RELY');
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenantId}/customers/bulk`,
      headers: auth,
      payload: { action: 'send_statement', ids: [rely] },
    });
    expect(r.statusCode, r.body).toBe(200);
    const [applied] = r.json().appliedIds as string[];
    const mine = (await messagesOf(s, tenantId)).filter(
      (m) => m.customerId === rely && (m.snapshot as { requestedBy?: string }).requestedBy !== undefined,
    );
    expect(mine.length, JSON.stringify(r.json())).toBe(1);
    expect(applied).toBeDefined();
    expect(mine[0]!.createdAt.getTime()).toBe(clock.now().getTime());
  });
});
