/**
 * run-sync reads PAGES_AHEAD pages ahead of the page it writes (run-sync.ts): pages read ahead are only read, never
 * written, so a crash meanwhile leaves the cursor on the last committed page and the resumed run converges.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { rowsOf } from '../../src/db/client';
import type { Services } from '../../src/services';
import { PAGES_AHEAD, runSync } from '../../src/sync/run-sync';
import {
  balanceMismatches,
  connectedSandboxTenant,
  dbBalances,
  readConnection,
  sandboxServices,
} from './helpers';

let sandbox: Sandbox;
let s: Services;
let tenantId = '';
let connectionId = '';

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 8080, customers: 30, invoices: 240 }, { queue: false }));
  ({ tenantId, connectionId } = await connectedSandboxTenant(s, sandbox));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

async function count(table: 'invoices' | 'payments'): Promise<number> {
  const [row] = rowsOf<{ n: number }>(
    await s.db.execute(
      sql`select count(*)::int as n from ${sql.raw(table)} where tenant_id = ${tenantId}::uuid`,
    ),
  );
  return row?.n ?? -1;
}

describe('run-sync reads ahead', () => {
  it('requests PAGES_AHEAD pages beyond the one being written, writes none of them, and resumes after a crash', async () => {
    const before = sandbox.requests();
    // Page 1: the 30 customers; page 2: the customers' listing complete; pages 3 and 4: invoices 1–80.
    const crashAfter = 4;
    let committed = 0;
    await expect(
      runSync(s, {
        connectionId,
        pageSize: 40,
        onProgress: () => {
          committed++;
          if (committed === crashAfter) throw new Error('simulated crash after page 4');
        },
      }),
    ).rejects.toThrow(/simulated crash/);
    // One request per page: the pages up to the crash, and the pages read ahead of the last one written (their
    // requests went out before it was written; they finish after the crash).
    await expect.poll(() => sandbox.requests() - before, { timeout: 10_000 }).toBe(crashAfter + PAGES_AHEAD);

    // Nothing of the pages read ahead was written: the ledger and the cursor are those of page 4.
    expect(await count('invoices')).toBe(80);
    expect(await count('payments')).toBe(0);
    const [last] = rowsOf<{ id: string }>(
      await s.db.execute(sql`
        select external_id as id from invoices where tenant_id = ${tenantId}::uuid
        order by length(external_id) desc, external_id desc limit 1`),
    );
    const mid = await readConnection(s, connectionId);
    expect(mid.syncCursor).toMatchObject({ mode: 'full', entity: 'Invoice', afterId: last?.id });

    const r = await runSync(s, { connectionId, pageSize: 40 });
    expect(r).toMatchObject({ status: 'succeeded', kind: 'full' });
    expect(balanceMismatches(sandbox.company.balances(), await dbBalances(s, tenantId))).toEqual([]);
    const listed = [...sandbox.company.invoices.values()].filter((i) => !i.deleted);
    expect(await count('invoices')).toBe(listed.length);
    expect(await count('payments')).toBe(sandbox.company.payments.size);
    expect((await readConnection(s, connectionId)).syncCursor).toMatchObject({ mode: 'cdc' });
  });
});
