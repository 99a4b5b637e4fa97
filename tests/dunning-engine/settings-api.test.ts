/**
 * The Settings page's API: the sender identity on PATCH /settings (validated by field, stored, used by the emails
 * that are then rendered and sent), the dunning sending settings on PUT dunning/policy (field paths the page maps
 * to its inputs), and tenant isolation of both for tenant-bound tokens and sessions.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { CSRF_HEADER, SESSION_COOKIE, SessionAuth } from '../../src/auth/sessions';
import type { ManualClock } from '../../src/clock';
import { ensureTenant } from '../../src/db/queries/tenants';
import { dunningMessages } from '../../src/db/schema';
import { planTenant } from '../../src/dunning/engine';
import { sendMessage } from '../../src/dunning/send-message';
import type { Services } from '../../src/services';
import { approveAll, customerId, RecordingTransport, suiteSetup, tenantRow } from './fixtures';

let s: Services;
let clock: ManualClock;
let tenantId: string;
let otherId: string;
let app: FastifyInstance;
let operator: { authorization: string };
const settingsUrl = (t = tenantId) => `/api/v1/tenants/${t}/settings`;
const policyUrl = (t = tenantId) => `/api/v1/tenants/${t}/dunning/policy`;

const acmeSender = {
  companyName: 'Acme Receivables Ltd',
  replyTo: 'ar@acme-receivables.example',
  address: ['1 Ledger Lane', 'Springfield, IL 62701'],
  phone: '+1 (555) 010-0200',
};

const suite = suiteSetup({ token: 'operator' });
beforeAll(async () => {
  ({ s, app, clock, tenantId, auth: operator } = suite);
  otherId = (await ensureTenant(s.db, 'Globex', 'csv')).id;
}, 120_000);

const patch = (payload: unknown, headers: Record<string, string> = operator, t = tenantId) =>
  app.inject({ method: 'PATCH', url: settingsUrl(t), headers, payload: payload as object });

async function invoiceOf(externalId: string): Promise<string> {
  const r = await app.inject({
    method: 'GET',
    url: `/api/v1/tenants/${tenantId}/invoices?status=open&limit=100`,
    headers: operator,
  });
  const inv = (r.json().items as { id: string; externalId: string }[]).find(
    (i) => i.externalId === externalId,
  );
  return inv!.id;
}

describe('sender identity', () => {
  it('starts from the defaults: the tenant name and the address of MAIL_FROM', async () => {
    const r = await app.inject({ method: 'GET', url: settingsUrl(), headers: operator });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      sender: { companyName: 'Acme', replyTo: 'billing@acme.example', address: [] },
      senderCustomised: false,
      mailFrom: 'Acme Billing <billing@acme.example>',
    });
  });

  it('rejects an invalid sender naming the field, and stores nothing', async () => {
    const badEmail = await patch({ sender: { ...acmeSender, replyTo: 'not-an-email' } });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().error.details).toEqual([
      { field: 'sender.replyTo', message: 'not a valid email address' },
    ]);
    expect(badEmail.json().error.message).toContain('sender.replyTo');

    const bad = await patch({
      sender: {
        companyName: '  ',
        replyTo: 'ar@acme.example',
        address: ['1', '2', '3', '4', '5'],
        phone: 'call me',
      },
    });
    expect(bad.statusCode).toBe(400);
    const fields = (bad.json().error.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['sender.address', 'sender.companyName', 'sender.phone']);

    const header = await patch({ sender: { ...acmeSender, companyName: 'Acme\r\nBcc: x@evil.example' } });
    expect(header.statusCode).toBe(400);
    expect(header.json().error.details[0].field).toBe('sender.companyName');

    // An address in the display name is what a mail client shows as the sender.
    const spoof = await patch({ sender: { ...acmeSender, companyName: 'PayPal <service@paypal.com>' } });
    expect(spoof.statusCode).toBe(400);
    expect(spoof.json().error.details).toEqual([
      { field: 'sender.companyName', message: 'the company name must not contain an email address or < >' },
    ]);

    const extra = await patch({ sender: { ...acmeSender, from: 'ceo@acme.example' } });
    expect(extra.statusCode).toBe(400);

    expect((await tenantRow(s, tenantId)).settings.sender).toBeUndefined();
  });

  it('stores a valid sender and keeps the other settings', async () => {
    expect((await patch({ sensitivity: 1 })).statusCode).toBe(200);
    const r = await patch({ sender: { ...acmeSender, companyName: `  ${acmeSender.companyName} ` } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ sender: acmeSender, senderCustomised: true, sensitivity: 1 });
    const stored = (await tenantRow(s, tenantId)).settings;
    expect(stored.sender).toEqual(acmeSender);
    expect(stored.sensitivity).toBe(1);
    const again = await app.inject({ method: 'GET', url: settingsUrl(), headers: operator });
    expect(again.json()).toMatchObject({ sender: acmeSender, senderCustomised: true, sensitivity: 1 });
  });

  it('renders the new sender in the sequence preview', async () => {
    const invoice = await invoiceOf('SLOW-O');
    const r = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantId}/dunning/preview?invoice=${invoice}&sequence=standard&step=1`,
      headers: operator,
    });
    expect(r.statusCode).toBe(200);
    const { html, text } = r.json();
    expect(html).toContain('Acme Receivables Ltd');
    expect(html).toContain('mailto:ar@acme-receivables.example');
    expect(html).toContain('1 Ledger Lane');
    expect(text).toContain('+1 (555) 010-0200');
  });

  it('sends planned reminders with the new reply-to and company name', async () => {
    await planTenant(s, tenantId);
    await approveAll(s, tenantId); // day one: the old debt is a reviewed catch-up
    const slow = await customerId(s, 'SLOW');
    const [m] = await s.db.select().from(dunningMessages).where(eq(dunningMessages.customerId, slow));
    expect(m?.status).toBe('queued');
    clock.set(m!.sendAt);
    const transport = new RecordingTransport();
    expect(await sendMessage(s, m!.id, { transport })).toMatchObject({ outcome: 'sent' });
    // The From header carries the company's name on MAIL_FROM's (verified) address.
    expect(transport.calls[0]).toMatchObject({
      from: '"Acme Receivables Ltd" <billing@acme.example>',
      replyTo: 'ar@acme-receivables.example',
    });
    expect(transport.calls[0]!.html).toContain('Acme Receivables Ltd');
  });

  it('goes back to the defaults on sender: null', async () => {
    const r = await patch({ sender: null });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({
      sender: { companyName: 'Acme', replyTo: 'billing@acme.example', address: [] },
      senderCustomised: false,
      sensitivity: 1,
    });
    expect((await tenantRow(s, tenantId)).settings).toEqual({ sensitivity: 1, sendingEnabled: true });
    expect((await patch({ sender: acmeSender })).statusCode).toBe(200);
  });
});

describe('dunning sending settings', () => {
  const settings = {
    timezone: 'America/Chicago',
    businessDays: [1, 2, 3, 4, 5],
    businessHours: { start: 8, end: 18 },
    quietHours: { start: 12, end: 14 },
    holidays: ['2013-07-04'],
    approvalThresholdMinor: 500_000,
    sensitivity: 'high',
    minDaysBetweenMessages: 5,
    maxUploadAgeDays: 7,
  };

  it('reports a field path the page can put next to its input', async () => {
    const r = await app.inject({
      method: 'PUT',
      url: policyUrl(),
      headers: operator,
      payload: { settings: { ...settings, quietHours: { start: 6, end: 20 }, holidays: ['2013-02-30'] } },
    });
    expect(r.statusCode).toBe(400);
    const fields = (r.json().error.details as { field: string }[]).map((d) => d.field).sort();
    expect(fields).toEqual(['settings.holidays[0]', 'settings.quietHours']);
  });

  it('refuses a sequence whose final notice has no overdue reminder before it, naming the step', async () => {
    // Saved, such a sequence planned nothing at all on day one: every old invoice's final notice waited for an
    // earlier reminder that no step would ever send, and the decisions only said "not due".
    const r = await app.inject({
      method: 'PUT',
      url: policyUrl(),
      headers: operator,
      payload: {
        policy: {
          defaultSequenceId: 'only-final',
          sequences: [{ id: 'only-final', name: 'Only final', steps: [{ offsetDays: 0, tone: 'final' }] }],
        },
      },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.details).toEqual([
      {
        field: 'policy.sequences[0].steps[0].tone',
        message: expect.stringContaining('a final notice needs an overdue reminder before it'),
      },
    ]);
  });

  it('the upload-age limit is 1 to 90 days, 3 when not given (a CSV company: reminders wait on an older upload)', async () => {
    for (const maxUploadAgeDays of [0, 91, 2.5]) {
      const r = await app.inject({
        method: 'PUT',
        url: policyUrl(),
        headers: operator,
        payload: { settings: { ...settings, maxUploadAgeDays } },
      });
      expect(r.statusCode, String(maxUploadAgeDays)).toBe(400);
      expect(r.json().error.details.map((d: { field: string }) => d.field)).toEqual([
        'settings.maxUploadAgeDays',
      ]);
    }
    const { maxUploadAgeDays: _, ...without } = settings;
    const r = await app.inject({
      method: 'PUT',
      url: policyUrl(),
      headers: operator,
      payload: { settings: without },
    });
    expect(r.statusCode).toBe(200);
    expect(r.json().settings.maxUploadAgeDays).toBe(3);
  });

  it('stores the settings and returns them from GET', async () => {
    const r = await app.inject({ method: 'PUT', url: policyUrl(), headers: operator, payload: { settings } });
    expect(r.statusCode).toBe(200);
    const got = await app.inject({ method: 'GET', url: policyUrl(), headers: operator });
    expect(got.json().settings).toEqual(settings);
  });
});

describe('locale', () => {
  // Any 2–35 characters used to be stored, and every email of the tenant then failed to render (Intl refuses
  // "en_US" or "1e400"): previews answered 500 and reminders could not be sent.
  it('refuses a locale Intl does not take, naming the field, and stores nothing', async () => {
    const before = (await tenantRow(s, tenantId)).locale;
    for (const locale of ['en_US', '1e400', 'en US', 'xx-', '-']) {
      const r = await patch({ locale });
      expect(r.statusCode, locale).toBe(400);
      expect(r.json().error.details[0].field).toBe('locale');
    }
    expect((await tenantRow(s, tenantId)).locale).toBe(before);
  });

  it('stores a valid locale and the emails render with it', async () => {
    const r = await patch({ locale: 'de-DE' });
    expect(r.statusCode).toBe(200);
    const invoice = await invoiceOf('SLOW-O');
    const preview = await app.inject({
      method: 'GET',
      url: `/api/v1/tenants/${tenantId}/dunning/preview?invoice=${invoice}&sequence=standard&step=1`,
      headers: operator,
    });
    expect(preview.statusCode, preview.body).toBe(200);
    expect((await patch({ locale: 'en-US' })).statusCode).toBe(200);
  });
});

describe('tenant isolation', () => {
  let otherToken: { authorization: string };
  let otherSession: Record<string, string>;

  beforeAll(async () => {
    otherToken = { authorization: `Bearer ${(await issueApiToken(s.db, 'globex', otherId)).token}` };
    const auth = new SessionAuth(s.db, s.config.APP_SECRET);
    const { token } = await auth.createSession({ tenantId: otherId, method: 'login_link', now: clock.now() });
    otherSession = { cookie: `${SESSION_COOKIE}=${token}`, [CSRF_HEADER]: auth.csrfToken(token) };
  });

  it("a tenant-bound token or session cannot read or change another tenant's settings", async () => {
    const evil = { ...acmeSender, replyTo: 'attacker@globex.example' };
    for (const headers of [otherToken, otherSession]) {
      expect((await patch({ sender: evil }, headers)).statusCode).toBe(403);
      expect((await patch({ sender: null }, headers)).statusCode).toBe(403);
      const get = await app.inject({ method: 'GET', url: settingsUrl(), headers });
      expect(get.statusCode).toBe(403);
      const put = await app.inject({
        method: 'PUT',
        url: policyUrl(),
        headers,
        payload: {
          settings: {
            timezone: 'UTC',
            businessDays: [7],
            businessHours: { start: 0, end: 1 },
            approvalThresholdMinor: 1,
          },
        },
      });
      expect(put.statusCode).toBe(403);
    }
    expect((await tenantRow(s, tenantId)).settings.sender).toEqual(acmeSender);
    const policy = await app.inject({ method: 'GET', url: policyUrl(), headers: operator });
    expect(policy.json().settings.businessDays).toEqual([1, 2, 3, 4, 5]);
  });

  it('the same session may change its own tenant (with its CSRF token)', async () => {
    const own = await patch({ sender: { ...acmeSender, companyName: 'Globex' } }, otherSession, otherId);
    expect(own.statusCode).toBe(200);
    expect(own.json().sender.companyName).toBe('Globex');
    const { [CSRF_HEADER]: _csrf, ...noCsrf } = otherSession;
    expect((await patch({ sender: null }, noCsrf, otherId)).statusCode).toBe(403);
    expect((await tenantRow(s, otherId)).settings.sender).toMatchObject({ companyName: 'Globex' });
    expect((await tenantRow(s, tenantId)).settings.sender).toEqual(acmeSender);
  });
});
