/**
 * A CSV company's debtor who unsubscribed (or complained) stays unsubscribed once the company connects its ledger.
 * The connect moves the file's rows out of the ledger's id space (releaseImportedRows: `csv:<id>`), so the ledger's
 * customer — usually the same debtor, the file was exported from these books — is a new row, and an opt-out is
 * recorded per customer row. Before, the first full sync planned reminders of the ledger's customer to the very
 * address that had unsubscribed: the opt-out stayed on the released (then deleted) file row.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../../sandboxes/quickbooks';
import { upsertOverride } from '../../src/db/queries/dunning-settings';
import { createTenant } from '../../src/db/queries/tenants';
import { contactSuppressions, customers, dunningMessages, dunningTasks } from '../../src/db/schema';
import { suppress } from '../../src/dunning/delivery-events';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { runSync } from '../../src/sync/run-sync';
import { goLive, messagesOf } from '../dunning-engine/fixtures';
import { csv } from '../helpers/csv';
import { connectSandboxTo, sandboxServices } from '../sync/helpers';

let sandbox: Sandbox;
let s: Services;
const started: { sandbox: Sandbox; s: Services }[] = [];
afterAll(async () => {
  for (const x of started) {
    await x.s.close();
    await x.sandbox.stop();
  }
});

/** Connects the stand-in's company to the CSV company `tenantId` (no sync yet): the connection's id. */
const connect = (tenantId: string) => connectSandboxTo(s, sandbox, tenantId);

/**
 * A stand-in ledger (`seed`) and a CSV company whose file (an export of the same books) holds one of the ledger's
 * customers owing money under the same id: the debtor's ledger address, the company and the file's customer row.
 */
async function fileOfALedgerDebtor(seed: number, opts?: Parameters<typeof sandboxServices>[1]) {
  ({ sandbox, s } = await sandboxServices({ seed, customers: 12, invoices: 120 }, opts));
  started.push({ sandbox, s });
  const now = sandbox.now();
  const open = [...sandbox.company.invoices.values()].filter(
    (i) => !i.deleted && !i.voided && i.balanceMinor > 0,
  );
  const debtor = sandbox.company.customers.get(open[0]!.customerId)!;
  const tenant = await createTenant(s.db, 'Began With A File', 'csv');
  await importHistoryCsv(
    s.db,
    csv([[debtor.id, 'F-1', '2026-10-01', '2026-10-31', '120.00', 'USD', '', 'email', 'US']]),
    { tenantName: 'ignored', tenantId: tenant.id, now },
  );
  const [fileCustomer] = await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.tenantId, tenant.id), eq(customers.externalId, debtor.id)));
  return { now, address: debtor.email.toLowerCase(), tenant, fileCustomer: fileCustomer! };
}

describe('a CSV company that connects its ledger', () => {
  it.each(['unsubscribed', 'complained'] as const)(
    'mails no address its file debtor %s with, to the ledger customer of that address',
    async (kind) => {
      const { address, tenant, fileCustomer } = await fileOfALedgerDebtor(3711, {
        queue: false,
      });
      await upsertOverride(s.db, tenant.id, { customerId: fileCustomer.id }, { contactEmails: [address] });
      // The debtor opted out from a reminder of the file's invoice, at that address.
      await suppress(s.db, {
        tenantId: tenant.id,
        customerId: fileCustomer.id,
        email: address,
        kind,
        reason: 'test',
        messageId: null,
      });

      const connectionId = await connect(tenant.id);
      const result = await runSync(s, { connectionId });
      expect(result.status, result.error ?? '').toBe('succeeded');
      await goLive(s, tenant.id);
      await planTenant(s, tenant.id);
      const messages = await messagesOf(s, tenant.id);
      expect(messages.length).toBeGreaterThan(0);
      const toThem = messages.filter((m) => m.to.some((a) => a.toLowerCase() === address));
      expect(toThem.map((m) => m.to)).toEqual([]);
    },
  );
});

describe('a CSV company whose file debtor unsubscribed from a reminder to two addresses', () => {
  it('mails neither address once it connects its ledger, whichever the ledger customer has', async () => {
    const { now, address, tenant, fileCustomer } = await fileOfALedgerDebtor(3713);
    // The file debtor's reminders go to their AP desk and to the address the ledger has for them.
    await upsertOverride(
      s.db,
      tenant.id,
      { customerId: fileCustomer.id },
      { contactEmails: ['ap-desk@file-debtor.example', address] },
    );
    await goLive(s, tenant.id);
    await planTenant(s, tenant.id);
    const [reminder] = (await messagesOf(s, tenant.id)).filter((m) => m.customerId === fileCustomer.id);
    // What the case is about: the address the ledger has is not the message's first recipient.
    expect(reminder?.to.map((a) => a.toLowerCase())).toEqual(['ap-desk@file-debtor.example', address]);
    // It went out, and the debtor followed its unsubscribe link.
    await s.db
      .update(dunningMessages)
      .set({ status: 'sent', sentAt: now })
      .where(eq(dunningMessages.id, reminder!.id));
    expect(await s.dunning.unsubscribe(reminder!.id)).toBe(true);

    const connectionId = await connect(tenant.id);
    const result = await runSync(s, { connectionId });
    expect(result.status, result.error ?? '').toBe('succeeded');
    await planTenant(s, tenant.id);
    const messages = (await messagesOf(s, tenant.id)).filter((m) => m.id !== reminder!.id);
    expect(messages.length).toBeGreaterThan(0);
    const toThem = messages.filter((m) => m.to.some((a) => a.toLowerCase() === address));
    expect(toThem.map((m) => m.to)).toEqual([]);
  });
});

describe('a CSV company whose file debtor opted out of two reminders, each to other addresses', () => {
  it.each(['unsubscribed', 'complained'] as const)(
    'mails no address of either reminder once it connects its ledger (%s from both)',
    async (kind) => {
      const { address, tenant, fileCustomer } = await fileOfALedgerDebtor(3713);
      const contacts = (contactEmails: string[]) =>
        upsertOverride(s.db, tenant.id, { customerId: fileCustomer.id }, { contactEmails });
      /** The file debtor's reminder planned now, marked sent. */
      const sentReminder = async () => {
        await planTenant(s, tenant.id);
        const [m] = (await messagesOf(s, tenant.id)).filter(
          (x) => x.customerId === fileCustomer.id && x.status !== 'sent',
        );
        await s.db
          .update(dunningMessages)
          .set({ status: 'sent', sentAt: sandbox.now() })
          .where(eq(dunningMessages.id, m!.id));
        return m!;
      };
      await goLive(s, tenant.id);
      // The first reminder went to the AP desk; the team then gave the debtor's controller and the ledger's
      // address, and the next step went there (the ledger's address not its first recipient).
      await contacts(['ap-desk@file-debtor.example']);
      const first = await sentReminder();
      await contacts(['controller@file-debtor.example', address]);
      sandbox.company.advance(20);
      const second = await sentReminder();
      expect(second.to.map((a) => a.toLowerCase())).toEqual(['controller@file-debtor.example', address]);
      // The debtor opts out of each, one after the other.
      for (const [i, m] of [first, second].entries()) {
        if (kind === 'unsubscribed') expect(await s.dunning.unsubscribe(m.id)).toBe(true);
        else
          expect(
            await s.dunning.applyDeliveryUpdate(
              {
                messageId: m.id,
                providerId: `re_${m.id}`,
                status: 'complained',
                at: sandbox.now().toISOString(),
                suppressRecipient: true,
                detail: null,
              },
              `svix_complaint_${i}`,
            ),
          ).toBe('applied');
      }
      // One opt-out per message it came through: no row twice (a replayed link adds nothing).
      if (kind === 'unsubscribed') expect(await s.dunning.unsubscribe(second.id)).toBe(true);
      const rows = await s.db
        .select({ messageId: contactSuppressions.messageId })
        .from(contactSuppressions)
        .where(and(eq(contactSuppressions.customerId, fileCustomer.id), eq(contactSuppressions.kind, kind)));
      expect(rows.map((r) => r.messageId).sort()).toEqual([first.id, second.id].sort());

      const connectionId = await connect(tenant.id);
      const result = await runSync(s, { connectionId });
      expect(result.status, result.error ?? '').toBe('succeeded');
      await planTenant(s, tenant.id);
      const messages = (await messagesOf(s, tenant.id)).filter(
        (m) => m.id !== first.id && m.id !== second.id,
      );
      expect(messages.length).toBeGreaterThan(0);
      const toThem = messages.filter((m) => m.to.some((a) => a.toLowerCase() === address));
      expect(toThem.map((m) => m.to)).toEqual([]);
    },
  );
});

describe("a CSV company's call list once it connected its ledger", () => {
  it("closes the file debtor's find-a-contact task once the file's rows are marked deleted", async () => {
    ({ sandbox, s } = await sandboxServices({ seed: 3712, customers: 12, invoices: 120 }, { queue: false }));
    started.push({ sandbox, s });
    const now = sandbox.now();
    const tenant = await createTenant(s.db, 'Began With A File', 'csv');
    // A file debtor with no address: the plan puts them on the call list ("has no email address").
    await importHistoryCsv(
      s.db,
      csv([['FILE-B', 'F-2', '2026-08-01', '2026-08-31', '220.00', 'USD', '', 'email', 'US']]),
      { tenantName: 'ignored', tenantId: tenant.id, now },
    );
    await planTenant(s, tenant.id);
    const contactTasks = () =>
      s.db
        .select({ status: dunningTasks.status, title: dunningTasks.title })
        .from(dunningTasks)
        .where(and(eq(dunningTasks.tenantId, tenant.id), eq(dunningTasks.kind, 'find_contact')));
    expect(await contactTasks()).toEqual([{ status: 'open', title: 'FILE-B has no email address' }]);

    const connectionId = await connect(tenant.id);
    const result = await runSync(s, { connectionId });
    expect(result.status, result.error ?? '').toBe('succeeded');
    await planTenant(s, tenant.id);
    // The file's debtor is gone (the connect marked its row deleted): nobody is left to find a contact for.
    expect((await contactTasks()).filter((t) => t.title.startsWith('FILE-B'))).toEqual([
      { status: 'done', title: 'FILE-B has no email address' },
    ]);
  });
});
