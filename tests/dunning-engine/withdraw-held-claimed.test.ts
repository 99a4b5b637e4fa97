/**
 * A hold withdraws only the messages it actually skipped. The planner reads the pending reminders, then skips each
 * held one and frees its steps; on Postgres a send can claim a message between the read and the skip (the skip then
 * changes nothing). Its steps must stay with it: freed, the planner plans those invoice steps again, and if the
 * claimed send goes through the debtor is chased twice for them (found reading engine.ts withdrawHeld).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipPendingMessage } from '../../src/db/queries/dunning-plan';
import { dunningMessageSteps, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { messagesOf, setup } from './fixtures';

let s: Services;
let tenantId: string;

beforeAll(async () => {
  ({ s, tenantId } = await setup());
  await planTenant(s, tenantId);
}, 120_000);
afterAll(async () => {
  await s?.close();
});

const hold = { code: 'disputed', reason: 'an invoice is disputed' };
const stepsOf = async (messageId: string) =>
  s.db.select().from(dunningMessageSteps).where(eq(dunningMessageSteps.messageId, messageId));

describe('skipPendingMessage', () => {
  it('answers false and changes nothing for a message a send claimed (sending) or that is in doubt', async () => {
    const pending = (await messagesOf(s, tenantId)).filter(
      (m) => m.kind === 'reminder' && ['planned', 'awaiting_approval', 'queued'].includes(m.status),
    );
    expect(pending.length).toBeGreaterThanOrEqual(2);
    const [claimed, inDoubt] = pending;
    await s.db.update(dunningMessages).set({ status: 'sending' }).where(eq(dunningMessages.id, claimed!.id));
    await s.db
      .update(dunningMessages)
      .set({ inDoubtSince: s.clock.now() })
      .where(eq(dunningMessages.id, inDoubt!.id));

    const skip = (id: string) => s.db.transaction((tx) => skipPendingMessage(tx, id, hold, s.clock.now()));
    expect(await skip(claimed!.id)).toBe(false);
    expect(await skip(inDoubt!.id)).toBe(false);
    let after = new Map((await messagesOf(s, tenantId)).map((m) => [m.id, m]));
    expect(after.get(claimed!.id)?.status).toBe('sending');
    expect(after.get(inDoubt!.id)?.status).toBe(inDoubt!.status);

    // Out of doubt (and still pending), the same message is skipped.
    await s.db.update(dunningMessages).set({ inDoubtSince: null }).where(eq(dunningMessages.id, inDoubt!.id));
    expect(await skip(inDoubt!.id)).toBe(true);
    after = new Map((await messagesOf(s, tenantId)).map((m) => [m.id, m]));
    expect(after.get(inDoubt!.id)).toMatchObject({ status: 'skipped', statusCode: 'disputed' });
    // The claimed message keeps its steps (the planner only frees those of a message it skipped).
    expect((await stepsOf(claimed!.id)).length).toBeGreaterThan(0);
  });
});
