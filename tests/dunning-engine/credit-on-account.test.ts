/**
 * "Never ask a debtor to pay what they don't owe." A customer's unapplied payments and open credit memos lower what
 * they owe, but the planner read only invoice balances: on the demo company's day one, Summit Outfitters Inc. 85
 * (open invoices $587.12, a $355.00 unapplied payment and a $209.10 open credit memo: $23.02 actually owed) was
 * planned a statement asking for $587.12. Now a debtor whose credit on account covers everything open in a currency
 * is not written to (decision `credit_on_account`), and one whose credit covers part of it is held for a reviewer,
 * with the credit named in the reason and recorded in the snapshot; its statement says what the credit leaves to pay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannedFromRow } from '../../src/dunning/compose-email';
import { planTenant } from '../../src/dunning/engine';
import { renderPlannedMessage } from '../../src/dunning/render-planned-message';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { csv } from '../helpers/csv';
import { customerId, ledgerRows, messagesOf, setup } from './fixtures';

let s: Services;
let tenantId: string;

beforeAll(async () => {
  ({ s, tenantId } = await setup());
  // Credit notes (negative amounts) as a CSV export carries them: unapplied, so they remain on account.
  // MID owes 800.00 (MID-O) and holds an 800.00 credit; SLOW owes 3,000.00 and holds 1,000.00.
  await importHistoryCsv(
    s.db,
    csv([
      ...ledgerRows(),
      ['MID', 'MID-CN', '2013-06-20', '2013-06-20', '-800.00', 'USD', '', 'email', 'US'],
      ['SLOW', 'SLOW-CN', '2013-06-20', '2013-06-20', '-1000.00', 'USD', '', 'email', 'US'],
    ]),
    { tenantName: 'Acme', tenantId, now: s.clock.now() },
  );
}, 120_000);
afterAll(async () => {
  await s?.close();
});

describe('credit on account', () => {
  it('a debtor whose credits cover the open balance is not asked to pay; a partly covered one is held with the credit named', async () => {
    const r = await planTenant(s, tenantId);
    const mid = await customerId(s, 'MID');
    const slow = await customerId(s, 'SLOW');
    const messages = await messagesOf(s, tenantId);

    expect(messages.filter((m) => m.customerId === mid)).toEqual([]);
    const midDecision = r.decisions.find((d) => d.customerId === mid);
    expect(midDecision).toMatchObject({ outcome: 'skipped', code: 'credit_on_account' });
    expect(midDecision!.reason).toContain('$800.00');

    const slowMessages = messages.filter((m) => m.customerId === slow && m.kind === 'reminder');
    expect(slowMessages).toHaveLength(1);
    const m = slowMessages[0]!;
    expect(m.requiresApproval).toBe(true);
    expect(m.approvalReason).toContain(
      'SLOW has $1,000.00 of unapplied payments and credits on account against $3,000.00 open',
    );
    expect((m.snapshot as { credits?: unknown }).credits).toEqual([
      { currency: 'USD', creditMinor: 100_000 },
    ]);

    // The statement itself says what the credit leaves to pay, in HTML and text alike.
    const email = await renderPlannedMessage(plannedFromRow(m), {
      sender: { companyName: 'Acme', replyTo: 'billing@acme.example', address: [] },
      debtor: { name: 'SLOW' },
      locale: 'en-US',
      timezone: 'UTC',
      unsubscribeUrl: 'https://duely.example/u/x',
      now: s.clock.now(),
    });
    const line =
      'Unapplied payments and credits on your account: $1,000.00. After them, $2,000.00 remains to pay.';
    expect(m.template).toBe('statement');
    // The text part wraps at 78 characters: its words, line breaks read as spaces.
    expect(email.text.replace(/\s+/g, ' ')).toContain(line);
    expect(email.html).toContain(line);
  });
});
