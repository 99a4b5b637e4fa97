/**
 * The unsubscribe link is public and replayable (mail scanners, forwarded emails, anyone holding it): replaying
 * its POST, one after another or many at once, adds no suppression and no event after the first. (The link of a sent
 * email: one never sent unsubscribes no one, tests/security/unsubscribe-unsent.test.ts.)
 */
import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { contactSuppressions, dunningMessageEvents } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { unsubscribeUrl } from '../../src/dunning/unsubscribe-token';
import type { Services } from '../../src/services';
import { approveAll, messagesOf, suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let app: FastifyInstance;
let tenantId: string;

const suite = suiteSetup({ token: false });
beforeAll(async () => {
  ({ s, app, tenantId } = suite);
  await planTenant(s, tenantId);
  await approveAll(s, tenantId);
}, 120_000);

describe('unsubscribe replay', () => {
  it('many POSTs of the same link add one suppression and one event', async () => {
    const [m] = await messagesOf(s, tenantId);
    suite.clock.set(m!.sendAt);
    expect(await sendMessage(s, m!.id)).toMatchObject({ outcome: 'sent' });
    const path = new URL(unsubscribeUrl(s.config.PUBLIC_URL, s.config.APP_SECRET, m!.id)).pathname;
    const post = () =>
      app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'List-Unsubscribe=One-Click',
      });
    const first = await post();
    expect(first.statusCode).toBe(200);
    const burst = await Promise.all(Array.from({ length: 8 }, post));
    for (const r of [...burst, await post()]) expect(r.statusCode).toBe(200);

    const suppressions = await s.db
      .select()
      .from(contactSuppressions)
      .where(
        and(eq(contactSuppressions.customerId, m!.customerId), eq(contactSuppressions.kind, 'unsubscribed')),
      );
    expect(suppressions).toHaveLength(1);
    const events = await s.db
      .select()
      .from(dunningMessageEvents)
      .where(and(eq(dunningMessageEvents.messageId, m!.id), eq(dunningMessageEvents.type, 'unsubscribed')));
    expect(events).toHaveLength(1);
  });
});
