/**
 * CR/LF never reaches the mail provider. Header-bound values are refused where they enter (the API answers 400
 * naming the field; the sync drops contact addresses that are not plain addresses), and refused again right
 * before the transport: a message whose stored subject or recipient carries a line break fails with its reason
 * recorded, and the transport is never called.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapCustomer } from '../../connectors/quickbooks/map';
import type { ManualClock } from '../../src/clock';
import { customers, dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import { ResendTransport } from '../../src/mail/resend';
import { headerProblem, MailSendError } from '../../src/mail/transport';
import type { Services } from '../../src/services';
import { writePage } from '../../src/sync/apply-page';
import { messagesOf, RecordingTransport, suiteSetup } from '../dunning-engine/fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let auth: { authorization: string };
const injected = 'Hello\r\nBcc: everyone@evil.example';

const suite = suiteSetup({ token: 'operator' });
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth } = suite);
  await planTenant(s, tenantId);
}, 120_000);

async function editable() {
  const rows = await messagesOf(s, tenantId);
  const m = rows.find((r) => ['planned', 'awaiting_approval', 'queued'].includes(r.status));
  expect(m).toBeDefined();
  return m!;
}

describe('at the boundary', () => {
  it('an edited subject with a line break answers 400 naming the field', async () => {
    const m = await editable();
    const r = await app.inject({
      method: 'PATCH',
      url: `/api/v1/tenants/${tenantId}/dunning/messages/${m.id}`,
      headers: auth,
      payload: { subject: injected },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details[0].field).toBe('subject');
    const [after] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(after!.editedSubject).toBeNull();
  });

  it('sender name, reply-to and manual recipients with line breaks answer 400 naming the field', async () => {
    const sender = { companyName: 'Acme', replyTo: 'ar@acme.example', address: [] };
    const cases: [unknown, string][] = [
      [{ ...sender, companyName: injected }, 'sender.companyName'],
      [{ ...sender, companyName: 'Acme\u2028Bcc: x@evil.example' }, 'sender.companyName'],
      [{ ...sender, replyTo: 'ar@acme.example\r\nBcc: x@evil.example' }, 'sender.replyTo'],
      [{ ...sender, address: ['1 Lane\nBcc: x@evil.example'] }, 'sender.address.0'],
    ];
    for (const [value, field] of cases) {
      const r = await app.inject({
        method: 'PATCH',
        url: `/api/v1/tenants/${tenantId}/settings`,
        headers: auth,
        payload: { sender: value },
      });
      expect(r.statusCode, field).toBe(400);
      expect(r.json().error.details[0].field).toBe(field);
    }
    const [c] = await s.db.select().from(customers).where(eq(customers.tenantId, tenantId));
    const r = await app.inject({
      method: 'PUT',
      url: `/api/v1/tenants/${tenantId}/dunning/overrides`,
      headers: auth,
      payload: { customerId: c!.id, contactEmails: ['ap@x.example\r\nBcc: all@evil.example'] },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details[0].field).toBe('contactEmails.0');
  });

  it('contact addresses from QuickBooks that are not plain addresses are never stored', async () => {
    const raw = {
      Id: '9001',
      DisplayName: 'Injected Ltd',
      PrimaryEmailAddr: {
        Address: 'ap@injected.example, boss@injected.example\r\nBcc: all@evil.example; x y@z',
      },
      Active: true,
      MetaData: { LastUpdatedTime: '2013-06-01T00:00:00Z' },
    };
    const mapped = mapCustomer(raw);
    expect(mapped.emails.some((e) => e.includes('\n'))).toBe(true); // the connector passes it on as typed
    await s.db.transaction((tx) =>
      writePage(
        tx,
        tenantId,
        {
          customers: [mapped],
          invoices: [],
          payments: [],
          creditMemos: [],
          deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
        },
        clock.now(),
      ),
    );
    const [row] = await s.db.select().from(customers).where(eq(customers.externalId, '9001'));
    expect(row!.emails).toEqual(['ap@injected.example']);
  });
});

describe('at the transport', () => {
  it('a stored subject with a line break is not sent; the message fails with the reason', async () => {
    const m = await editable();
    await s.db
      .update(dunningMessages)
      .set({ editedSubject: injected, status: 'queued', requiresApproval: false })
      .where(eq(dunningMessages.id, m.id));
    clock.set(m.sendAt);
    const transport = new RecordingTransport();
    const out = await sendMessage(s, m.id, { transport });
    expect(out).toMatchObject({ outcome: 'skipped', code: 'unsafe_header' });
    expect(transport.calls).toHaveLength(0);
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row!.status).toBe('failed');
    expect(row!.statusCode).toBe('unsafe_header');
    expect(row!.statusReason).toMatch(/subject contains a line break/);
  });

  it('a stored recipient with a line break is not sent, in the local outbox either', async () => {
    const m = await editable();
    await s.db
      .update(dunningMessages)
      .set({ to: ['ap@x.example\r\nBcc: all@evil.example'], status: 'queued', requiresApproval: false })
      .where(eq(dunningMessages.id, m.id));
    clock.set(m.sendAt);
    const out = await sendMessage(s, m.id, { transport: null });
    expect(out).toMatchObject({ outcome: 'skipped', code: 'unsafe_header' });
    const [row] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.id, m.id));
    expect(row!.statusReason).toMatch(/to\[0\]/);
  });

  it('the Resend transport itself refuses, without a request', async () => {
    const t = new ResendTransport({ apiKey: 're_test', baseUrl: 'http://127.0.0.1:9' });
    const msg = {
      id: 'dm_1',
      from: 'Acme <billing@acme.example>',
      to: ['ap@x.example'],
      subject: injected,
      html: '<p>x</p>',
      text: 'x',
      unsubscribeUrl: 'https://duely.example/u/x',
      tags: {},
    };
    await expect(t.send(msg)).rejects.toMatchObject({ code: 'unsafe_header', retryable: false });
    await expect(t.sendBatch([{ ...msg, subject: 'ok', to: ['a@b.example\n'] }])).rejects.toBeInstanceOf(
      MailSendError,
    );
    expect(headerProblem({ ...msg, subject: 'Reminder: invoice 1001' })).toBeNull();
    expect(headerProblem({ ...msg, subject: 'ok', from: 'A\rB <a@b.example>' })).toMatch(/^from/);
  });
});
