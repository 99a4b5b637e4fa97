/**
 * A tenant cannot make Duely mail addresses without bound: MAIL_DAILY_CAP caps the recipients of one tenant's
 * emails in any 24 hours (a message over it waits, queued, with the reason), and manual recipients are bounded
 * and record who set them.
 */
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManualClock } from '../../src/clock';
import { dunningMessages, dunningOverrides } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { customerId, messagesOf, RecordingTransport, setup } from '../dunning-engine/fixtures';
import { buildTestApp } from '../helpers/app';

let s: Services;
let clock: ManualClock;
let tenantId: string;

beforeAll(async () => {
  ({ s, clock, tenantId } = await setup({ env: { MAIL_DAILY_CAP: '1' } }));
  await planTenant(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('MAIL_DAILY_CAP', () => {
  it('sends up to the cap in 24 hours, then defers with the reason; the transport never sees more', async () => {
    const rows = (await messagesOf(s, tenantId)).filter((m) => m.kind !== 'receipt');
    expect(rows.length).toBeGreaterThanOrEqual(2);
    const at = new Date('2013-07-01T10:00:00Z'); // Monday, inside the tenant's 8–18 UTC business hours
    await s.db
      .update(dunningMessages)
      .set({ status: 'queued', requiresApproval: false, sendAt: at, to: ['ap@one.example'] })
      .where(
        inArray(
          dunningMessages.id,
          rows.map((r) => r.id),
        ),
      );
    clock.set(at);
    const transport = new RecordingTransport();
    const outcomes = [];
    for (const r of rows.slice(0, 2)) outcomes.push(await sendMessage(s, r.id, { transport }));
    expect(outcomes[0]?.outcome).toBe('sent');
    expect(outcomes[1]).toMatchObject({ outcome: 'deferred', code: 'daily_cap' });
    expect(transport.deliveries).toHaveLength(1);
    const [third] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, rows[1]!.id));
    expect(third!.status).toBe('queued');
    expect(third!.statusReason).toMatch(/MAIL_DAILY_CAP/);
    expect(third!.sendAt.getTime()).toBeGreaterThanOrEqual(at.getTime() + 24 * 3600_000);

    // A day later the window has room again.
    clock.set(third!.sendAt);
    expect(await sendMessage(s, third!.id, { transport })).toMatchObject({ outcome: 'sent' });
  });
});

describe('manual recipients', () => {
  it('are recorded with who set them', async (ctx) => {
    const { app, auth } = await buildTestApp({
      test: ctx,
      services: s,
      keepServices: true,
      token: 'ar clerk',
    });
    const customer = await customerId(s, 'MID');
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/overrides`,
      headers: auth,
      payload: { customerId: customer, contactEmails: ['cfo@mid.example'] },
    });
    expect(r.statusCode).toBe(200);
    const [row] = await s.db.select().from(dunningOverrides).where(eq(dunningOverrides.customerId, customer));
    expect(row!.contactEmails).toEqual(['cfo@mid.example']);
    expect(row!.updatedBy).toBe('API token "ar clerk"');
  });
});
