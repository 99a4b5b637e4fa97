/**
 * Journal entries through the QuickBooks sandbox (the demo's and the benchmark's company): it serves JournalEntry
 * and Account like Intuit, so a write-off entered there reaches Duely as credit on account, the $0 payment that later
 * links it settles the invoice (QuickBooks' balance) and uses the credit up, and deleting an entry takes its credit.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import { creditOnAccount } from '../../src/db/queries/credit-on-account';
import type { Services } from '../../src/services';
import { runSync } from '../../src/sync/run-sync';
import { balanceMismatches, dbBalances, sandboxServices, syncedSandboxTenant } from './helpers';

let sandbox: Sandbox;
let s: Services;
let tenantId = '';
let connectionId = '';
let invoiceId = '';
let customerExt = '';
let entryId = '';
let amount = 0;

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 31, customers: 12, invoices: 150 }, { queue: false }));
  // An open invoice, written off in full by a journal entry before Duely first syncs.
  const open = [...sandbox.company.invoices.values()].find(
    (i) => !i.voided && !i.deleted && i.balanceMinor > 0,
  );
  if (!open) throw new Error('the sandbox company has no open invoice');
  invoiceId = open.id;
  customerExt = open.customerId;
  amount = open.balanceMinor;
  sandbox.company.mutate((c) => {
    entryId = c.journalCredit(customerExt, amount).id;
  });
  ({ tenantId, connectionId } = await syncedSandboxTenant(s, sandbox));
}, 120_000);
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

async function credit(externalId: string) {
  return rowsOf<{ status: string; total: number; remaining: number }>(
    await s.db.execute(sql`
      select status, total_minor::int as total, remaining_minor::int as remaining
      from credit_memos where tenant_id = ${tenantId}::uuid and external_id = ${externalId}`),
  )[0];
}
async function customerCredit(): Promise<number> {
  const [c] = rowsOf<{ id: string }>(
    await s.db.execute(
      sql`select id from customers where tenant_id = ${tenantId}::uuid and external_id = ${customerExt}`,
    ),
  );
  const rows = await creditOnAccount(s.db, { tenantId, asOf: '2100-01-01', customerId: c!.id });
  return rows.reduce((n, r) => n + r.creditMinor, 0);
}
async function sync() {
  const r = await runSync(s, { connectionId, reason: 'test' });
  expect(r.status).toBe('succeeded');
}

describe('journal entries in the sandbox company', () => {
  it('full sync: the write-off is credit on account; the invoice stays open at QuickBooks’ balance', async () => {
    expect(await credit(`JE:${entryId}:${customerExt}`)).toEqual({
      status: 'active',
      total: amount,
      remaining: amount,
    });
    expect(await customerCredit()).toBeGreaterThanOrEqual(amount);
    expect((await dbBalances(s, tenantId)).get(invoiceId)).toBe(amount);
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
  });

  it('linked by a $0 payment (CDC): invoice balance 0 from QuickBooks, the credit is used up', async () => {
    sandbox.company.mutate((c) => c.applyJournalCredit(entryId, invoiceId, amount));
    await sync();
    expect((await dbBalances(s, tenantId)).get(invoiceId)).toBe(0);
    expect(await credit(`JE:${entryId}:${customerExt}`)).toEqual({
      status: 'active',
      total: amount,
      remaining: 0,
    });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
  });

  it('an entry deleted in QuickBooks: its credit is gone', async () => {
    let second = '';
    sandbox.company.mutate((c) => {
      second = c.journalCredit(customerExt, 4_200).id;
    });
    await sync();
    expect(await credit(`JE:${second}:${customerExt}`)).toMatchObject({ status: 'active', remaining: 4_200 });
    sandbox.company.mutate((c) => c.deleteJournalEntry(second));
    await sync();
    expect(await credit(`JE:${second}:${customerExt}`)).toMatchObject({ status: 'deleted', remaining: 0 });
  });
});
