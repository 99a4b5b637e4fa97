/**
 * Every reminder can be paid (issue 14, point 4): QuickBooks returns an invoice's InvoiceLink only on a single read
 * with include=invoiceLink, so the sync's queries store none. Planning reads the links of the invoices it just
 * planned messages for, and the email (preview and sent) carries them.
 */
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { customers, invoices } from '../../src/db/schema';
import { composeEmail } from '../../src/dunning/compose-email';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { sandboxServices, syncedSandboxTenant } from '../sync/helpers';
import { messagesOf, tenantRow } from './fixtures';

let sandbox: Sandbox;
let s: Services;
let tenantId = '';

beforeAll(async () => {
  ({ sandbox, s } = await sandboxServices({ seed: 7, customers: 8, invoices: 80 }, { queue: false }));
  ({ tenantId } = await syncedSandboxTenant(s, sandbox));
});
afterAll(async () => {
  await s?.close();
  await sandbox?.stop();
});

describe('pay links from QuickBooks', () => {
  it('the sync stores none; planning reads them for the planned invoices; the email links each one', async () => {
    const synced = await s.db.select().from(invoices).where(eq(invoices.tenantId, tenantId));
    expect(synced.filter((i) => i.payLink)).toEqual([]);

    await planTenant(s, tenantId);
    const msgs = (await messagesOf(s, tenantId)).filter((m) => m.kind === 'reminder');
    expect(msgs.length).toBeGreaterThan(0);
    const planned = await s.db
      .select()
      .from(invoices)
      .where(inArray(invoices.id, [...new Set(msgs.flatMap((m) => m.invoiceIds))]));
    for (const inv of planned) expect(inv.payLink).toMatch(new RegExp(`/pay/[^/]+/${inv.externalId}$`));

    const m = msgs[0]!;
    const [customer] = await s.db.select().from(customers).where(eq(customers.id, m.customerId));
    const email = await composeEmail(s, m, await tenantRow(s, tenantId), customer!, s.clock.now());
    const inv = planned.find((i) => i.id === m.invoiceIds[0])!;
    expect(email.html).toContain(`href="${inv.payLink}"`);
  });
});
