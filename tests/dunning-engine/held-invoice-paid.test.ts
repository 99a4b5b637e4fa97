/**
 * An invoice a message names as on hold (disputed) that is paid before the message goes: the message would tell the
 * debtor a paid invoice is on hold. The pre-send check skips it (hold_changed) and the plan that follows names
 * nothing on hold.
 */
import { and, eq, ne, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { dunningMessages } from '../../src/db/schema';
import { sendMessage } from '../../src/dunning/send-message';
import { customerId, suiteSetup, uploadToday } from './fixtures';

const t = suiteSetup();
const base = () => `/api/v1/tenants/${t.tenantId}/dunning`;
const flat = (s: string) => s.replace(/[\u00a0\u202f]/g, ' ').replace(/[ \n]+/g, ' ');

async function slowMessages() {
  const slow = await customerId(t.s, 'SLOW');
  return t.s.db
    .select()
    .from(dunningMessages)
    .where(and(eq(dunningMessages.customerId, slow), ne(dunningMessages.status, 'skipped')));
}

const textOf = async (id: string) => {
  const r = await t.app.inject({ url: `${base()}/messages/${id}/rendered`, headers: t.auth });
  expect(r.statusCode, r.body).toBe(200);
  return flat(r.json().text as string);
};

describe('a held invoice paid before the message is sent', () => {
  it('is not sent as on hold: skipped at the pre-send check, planned again without it', async () => {
    const [inv] = rowsOf<{ id: string }>(
      await t.s.db.execute(
        sql`select id from invoices where tenant_id = ${t.tenantId} and external_id = 'SLOW-O2'`,
      ),
    );
    const d = await t.app.inject({
      method: 'POST',
      url: `${base()}/disputes`,
      headers: t.auth,
      payload: { invoiceId: inv!.id, reason: 'wrong quantity' },
    });
    expect(d.statusCode, d.body).toBe(201);
    const [m] = await slowMessages();
    expect(await textOf(m!.id)).toContain('Invoice SLOW-O2 ($500.00) is on hold');
    if (m!.status === 'awaiting_approval') {
      const a = await t.app.inject({
        method: 'POST',
        url: `${base()}/messages/${m!.id}/approve`,
        headers: t.auth,
      });
      expect(a.statusCode, a.body).toBe(200);
    }
    // The day's export shows SLOW-O2 paid; whatever planning the upload does, the message is not sent as it was.
    await uploadToday(t.s, { 'SLOW-O2': '2013-06-30' });
    t.clock.set(m!.sendAt);
    const out = await sendMessage(t.s, m!.id);
    // Skipped for what the case is about (the invoice it names as on hold is paid), not held or deferred for another
    // reason that would also leave it unsent.
    expect(out, JSON.stringify(out)).toMatchObject({ outcome: 'skipped', code: 'hold_changed' });
    await t.app.inject({ method: 'POST', url: `${base()}/plan`, headers: t.auth });
    for (const again of await slowMessages()) expect(await textOf(again.id)).not.toContain('on hold');
  });
});
