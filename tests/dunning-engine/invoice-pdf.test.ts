/**
 * Every reminder lets the debtor get the invoice itself (issue 14, point 4): for a QuickBooks company each invoice
 * in an email links to a signed, expiring Duely URL per (tenant, invoice, message), which reads the PDF live from
 * QuickBooks (GET /v3/company/{realm}/invoice/{id}/pdf, Accept: application/pdf) through the connection's tokens
 * and streams it. A CSV-imported company has no invoice document: its emails say nothing about a PDF.
 */
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import nock from 'nock';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Vault } from '../../src/auth/vault';
import type { ManualClock } from '../../src/clock';
import { connections, customers, invoices, tenants } from '../../src/db/schema';
import { composeEmail, type MessageRow } from '../../src/dunning/compose-email';
import { planTenant } from '../../src/dunning/engine';
import {
  INVOICE_PDF_LINK_DAYS,
  invoicePdfTokenSignedFor,
  readInvoicePdfToken,
  signInvoicePdfToken,
} from '../../src/dunning/invoice-pdf-link';
import { listedInvoiceIds } from '../../src/dunning/payment-details';
import { pdfFilename } from '../../src/http/routes/invoice-pdf';
import type { Services } from '../../src/services';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';
import { withoutUrls } from '../helpers/email-text';
import { QB_ENV, tokensAt } from '../sync/helpers';
import { messagesOf, setup, tenantRow } from './fixtures';

const API = 'https://sandbox-quickbooks.api.intuit.com';
const REALM = '9130000000000777';
const PDF = Buffer.concat([
  Buffer.from('%PDF-1.4\n'),
  Buffer.from([0, 1, 2, 255, 254]),
  Buffer.from('\n%%EOF'),
]);

let s: Services;
let clock: ManualClock;
let tenantId: string;
let app: FastifyInstance;
let connectionId: string;

/** The test ledger, made a QuickBooks company: a connection with fresh tokens (invoice ids are the Intuit ids). */
async function makeQuickbooks(svc: Services, tenant: string, now: Date) {
  await svc.db.update(tenants).set({ source: 'quickbooks' }).where(eq(tenants.id, tenant));
  const [conn] = await svc.db
    .insert(connections)
    .values({
      tenantId: tenant,
      provider: 'quickbooks',
      externalId: REALM,
      // An access token that outlives the links' lifetime, so the expiry test needs no token refresh.
      credentials: new Vault(svc.config.APP_SECRET).seal(tokensAt(now, 95 * 86_400_000)),
      accessExpiresAt: new Date(now.getTime() + 95 * 86_400_000),
      credentialsVersion: 1,
    })
    .returning();
  return conn!.id;
}

async function emailOf(svc: Services, tenant: string, m: MessageRow) {
  const [c] = await svc.db.select().from(customers).where(eq(customers.id, m.customerId));
  return composeEmail(svc, m, await tenantRow(svc, tenant), c!, svc.clock.now());
}

/** A reminder or statement covering at least one invoice, and the invoices it covers. */
async function aMessage(svc: Services, tenant: string) {
  const m = (await messagesOf(svc, tenant)).find((x) => x.kind === 'reminder' && x.invoiceIds.length > 0)!;
  const rows = await svc.db.select().from(invoices).where(eq(invoices.tenantId, tenant));
  return { m, invoices: rows.filter((i) => listedInvoiceIds(m).includes(i.id)) };
}

const linksIn = (html: string) =>
  [...html.matchAll(/href="(http:\/\/[^"]+\/invoice-pdf\/[^"]+)"/g)].map((x) => x[1]!);
const pathOf = (url: string) => new URL(url).pathname;

function intuitPdf(externalId: string, token = 'at-1') {
  return nock(API, {
    reqheaders: { accept: 'application/pdf', authorization: `Bearer ${token}` },
  })
    .get(`/v3/company/${REALM}/invoice/${encodeURIComponent(externalId)}/pdf`)
    .query({ minorversion: '75' });
}

const t = suiteTestApp(async () => {
  ({ s, clock, tenantId } = await setup({ env: QB_ENV }));
  connectionId = await makeQuickbooks(s, tenantId, clock.now());
  await planTenant(s, tenantId);
  return { services: s, token: false };
}, 120_000);
beforeAll(async () => {
  app = t.app;
  await app.ready();
});
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe('the signed link (pure)', () => {
  const secret = 'x'.repeat(40);
  const link = {
    tenantId: '6f1c2a8e-0000-4000-8000-000000000001',
    messageId: `dm_${'a'.repeat(24)}`,
    invoiceId: '0e5d7c1b-1111-4222-8333-444455556666',
    expiresAt: new Date('2026-03-01T00:00:00Z'),
  };
  it('round-trips its claims, fits a route parameter, and is bound to the tenant and the secret', () => {
    const token = signInvoicePdfToken(secret, link);
    expect(token.length).toBeLessThanOrEqual(100);
    expect(readInvoicePdfToken(token)).toMatchObject({
      messageId: link.messageId,
      invoiceId: link.invoiceId,
      expiresAt: link.expiresAt,
    });
    expect(invoicePdfTokenSignedFor(secret, token, link.tenantId)).toBe(true);
    expect(invoicePdfTokenSignedFor(secret, token, '6f1c2a8e-0000-4000-8000-000000000002')).toBe(false);
    expect(invoicePdfTokenSignedFor('y'.repeat(40), token, link.tenantId)).toBe(false);
    // Another invoice, message or expiry under the same tag is refused.
    const [mid, inv, exp, tag] = token.split('.');
    const swap = (i: number, v: string) => [mid, inv, exp, tag].map((p, j) => (j === i ? v : p)).join('.');
    expect(invoicePdfTokenSignedFor(secret, swap(1, '0e5d7c1b111142228333444455556667'), link.tenantId)).toBe(
      false,
    );
    expect(invoicePdfTokenSignedFor(secret, swap(0, `dm_${'b'.repeat(24)}`), link.tenantId)).toBe(false);
    expect(
      invoicePdfTokenSignedFor(
        secret,
        swap(2, (Number.parseInt(exp!, 36) + 86_400).toString(36)),
        link.tenantId,
      ),
    ).toBe(false);
    expect(readInvoicePdfToken(`${token}.x`)).toBeNull();
    expect(readInvoicePdfToken('../../etc/passwd')).toBeNull();
  });
  it('names the file sanely', () => {
    expect(pdfFilename('1042')).toBe('Invoice-1042.pdf');
    expect(pdfFilename('A/7 "x"\r\n;')).toBe('Invoice-A-7-x.pdf');
    expect(pdfFilename('…')).toBe('Invoice-copy.pdf');
  });
});

describe('the email', () => {
  it('links each invoice PDF for a QuickBooks company, and says so', async () => {
    const { m, invoices: covered } = await aMessage(s, tenantId);
    const email = await emailOf(s, tenantId, m);
    const links = linksIn(email.html);
    expect(links).toHaveLength(covered.length);
    for (const url of links) {
      const claims = readInvoicePdfToken(pathOf(url).split('/').pop()!)!;
      expect(listedInvoiceIds(m)).toContain(claims.invoiceId);
      expect(claims.messageId).toBe(m.id);
      expect(invoicePdfTokenSignedFor(s.config.APP_SECRET, pathOf(url).split('/').pop()!, tenantId)).toBe(
        true,
      );
      expect(claims.expiresAt.getTime()).toBe(clock.now().getTime() + INVOICE_PDF_LINK_DAYS * 86_400_000);
    }
    expect(email.html).toMatch(/invoice(s)? \(PDF\) (is|are) linked above/);
    // The text part has no table: its invoices are blocks with PDF: lines, and the sentence says "above" there too.
    expect(email.text).toMatch(/invoice(s)? \(PDF\) (is|are) linked above/);
    expect(email.text).not.toMatch(/table/i);
    expect(email.text).toContain('/invoice-pdf/');
  });

  it('mentions no PDF for a CSV-imported company', async () => {
    const csvCo = await setup();
    try {
      await planTenant(csvCo.s, csvCo.tenantId);
      const { m } = await aMessage(csvCo.s, csvCo.tenantId);
      const email = await emailOf(csvCo.s, csvCo.tenantId, m);
      expect(linksIn(email.html)).toEqual([]);
      expect(email.text).not.toContain('/invoice-pdf/');
      expect(withoutUrls(email.html)).not.toMatch(/pdf/i);
      expect(withoutUrls(email.text)).not.toMatch(/pdf/i);
    } finally {
      await csvCo.s.close();
    }
  }, 120_000);
});

describe('GET /invoice-pdf/:token', () => {
  async function linkFor(invoiceExternalId?: string) {
    const { m, invoices: covered } = await aMessage(s, tenantId);
    const inv = invoiceExternalId ? covered.find((i) => i.externalId === invoiceExternalId)! : covered[0]!;
    const email = await emailOf(s, tenantId, m);
    const url = linksIn(email.html).find(
      (u) => readInvoicePdfToken(pathOf(u).split('/').pop()!)!.invoiceId === inv.id,
    )!;
    return { m, inv, path: pathOf(url) };
  }
  const get = (url: string) => app.inject({ method: 'GET', url });

  it('streams the PDF read live from QuickBooks, as application/pdf with the invoice number as filename', async () => {
    const { inv, path } = await linkFor();
    const scope = intuitPdf(inv.externalId).reply(200, PDF, { 'content-type': 'application/pdf' });
    const res = await get(path);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`inline; filename="Invoice-${inv.number}.pdf"`);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.rawPayload.equals(PDF)).toBe(true);
    expect(scope.isDone()).toBe(true);
  });

  it('refuses a tampered or forged link without asking QuickBooks', async () => {
    const { path } = await linkFor();
    const token = path.split('/').pop()!;
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    for (const bad of [flipped, `${token}x`, 'dm_0.1.2.3', token.replace(/^dm_/, 'dx_')]) {
      const res = await get(`/invoice-pdf/${encodeURIComponent(bad)}`);
      expect(res.statusCode).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.body).toContain('not valid');
    }
    // Signed with another install's secret.
    const claims = readInvoicePdfToken(token)!;
    const foreign = signInvoicePdfToken('z'.repeat(40), { ...claims, tenantId });
    expect((await get(`/invoice-pdf/${foreign}`)).statusCode).toBe(404);
  });

  it('expires', async () => {
    const { inv, path } = await linkFor();
    const start = clock.now();
    try {
      clock.set(new Date(start.getTime() + INVOICE_PDF_LINK_DAYS * 86_400_000 - 60_000));
      intuitPdf(inv.externalId).reply(200, PDF, { 'content-type': 'application/pdf' });
      expect((await get(path)).statusCode).toBe(200);
      clock.set(new Date(start.getTime() + INVOICE_PDF_LINK_DAYS * 86_400_000));
      const res = await get(path);
      expect(res.statusCode).toBe(410);
      expect(res.body).toContain('expired');
    } finally {
      clock.set(start);
    }
  });

  it("never opens another tenant's invoice, nor an invoice the message does not cover", async () => {
    const { m } = await aMessage(s, tenantId);
    const other = await importHistoryCsv(
      s.db,
      csv([['ZED', 'Z-1', '2013-05-01', '2013-06-01', '70.00', 'USD', '', 'email', 'US']]),
      { tenantName: 'Other Co', now: s.clock.now() },
    );
    const [foreignInvoice] = await s.db.select().from(invoices).where(eq(invoices.tenantId, other.tenant.id));
    const expiresAt = new Date(clock.now().getTime() + 86_400_000);
    const secret = s.config.APP_SECRET;
    // Correctly signed (this install's secret), but for another tenant's invoice or by another tenant.
    const tries = [
      signInvoicePdfToken(secret, { tenantId, messageId: m.id, invoiceId: foreignInvoice!.id, expiresAt }),
      signInvoicePdfToken(secret, {
        tenantId: other.tenant.id,
        messageId: m.id,
        invoiceId: foreignInvoice!.id,
        expiresAt,
      }),
      signInvoicePdfToken(secret, {
        tenantId: other.tenant.id,
        messageId: m.id,
        invoiceId: m.invoiceIds[0]!,
        expiresAt,
      }),
    ];
    // This tenant's invoice that this message does not cover.
    const uncovered = (await s.db.select().from(invoices).where(eq(invoices.tenantId, tenantId))).find(
      (i) => !listedInvoiceIds(m).includes(i.id),
    )!;
    tries.push(
      signInvoicePdfToken(secret, { tenantId, messageId: m.id, invoiceId: uncovered.id, expiresAt }),
    );
    for (const token of tries) {
      const res = await get(`/invoice-pdf/${token}`);
      expect(res.statusCode).toBe(404);
      expect(res.body).not.toContain('PDF-1.4');
    }
  });

  it('refuses a voided invoice, and one deleted in QuickBooks meanwhile', async () => {
    const { inv, path } = await linkFor();
    await s.db.update(invoices).set({ status: 'void' }).where(eq(invoices.id, inv.id));
    try {
      const res = await get(path);
      expect(res.statusCode).toBe(410);
      expect(res.body).toContain('voided');
    } finally {
      await s.db.update(invoices).set({ status: inv.status }).where(eq(invoices.id, inv.id));
    }
    // QuickBooks: "Object Not Found" (fault 610) for an invoice deleted since the last sync.
    intuitPdf(inv.externalId).reply(
      400,
      {
        Fault: {
          Error: [
            {
              Message: 'Object Not Found',
              Detail: "Object Not Found : Something you're trying to use has been made inactive.",
              code: '610',
            },
          ],
          type: 'ValidationFault',
        },
      },
      { 'content-type': 'application/json' },
    );
    const res = await get(path);
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('no longer exists');
  });

  it('explains, as a page, that the invoice is unavailable while the connection is down', async () => {
    const { path } = await linkFor();
    for (const status of ['reconnect_needed', 'disconnected'] as const) {
      await s.db.update(connections).set({ status }).where(eq(connections.id, connectionId));
      try {
        const res = await get(path);
        expect(res.statusCode).toBe(503);
        expect(res.headers['content-type']).toMatch(/^text\/html/);
        expect(res.body).toContain('not connected');
        expect(res.body).toContain('Acme');
      } finally {
        await s.db.update(connections).set({ status: 'active' }).where(eq(connections.id, connectionId));
      }
    }
  });

  it('a disconnected company sends no PDF links (they could not be served)', async () => {
    const { m } = await aMessage(s, tenantId);
    await s.db.update(connections).set({ status: 'disconnected' }).where(eq(connections.id, connectionId));
    try {
      const email = await emailOf(s, tenantId, m);
      expect(linksIn(email.html)).toEqual([]);
      expect(withoutUrls(email.html)).not.toMatch(/pdf/i);
    } finally {
      await s.db.update(connections).set({ status: 'active' }).where(eq(connections.id, connectionId));
    }
  });

  it('never hands over an answer from QuickBooks that is not a PDF', async () => {
    const { inv, path } = await linkFor();
    intuitPdf(inv.externalId).reply(200, '<html>maintenance</html>', { 'content-type': 'text/html' });
    const res = await get(path);
    expect(res.statusCode).toBe(502);
    expect(res.body).not.toContain('maintenance');
  });

  // Last: it leaves the refreshed token stored.
  it('a rejected access token is refreshed once through the connection, then the PDF is read', async () => {
    const { inv, path } = await linkFor();
    intuitPdf(inv.externalId).reply(401, {
      fault: { error: [{ code: '3200', message: 'AuthenticationFailed' }], type: 'AUTHENTICATION' },
    });
    const refresh = nock('https://oauth.platform.intuit.com')
      .post('/oauth2/v1/tokens/bearer', (body: Record<string, string>) => body.refresh_token === 'rt-1')
      .reply(200, {
        token_type: 'bearer',
        access_token: 'at-2',
        refresh_token: 'rt-2',
        expires_in: 3600,
        x_refresh_token_expires_in: 8_726_400,
      });
    intuitPdf(inv.externalId, 'at-2').reply(200, PDF, { 'content-type': 'application/pdf' });
    const res = await get(path);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(PDF)).toBe(true);
    expect(refresh.isDone()).toBe(true);
  });

  // Last: it uses up this address's budget for the minute.
  it('a client cannot make Duely hammer the host: 30 requests a minute per address', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 32; i++) codes.push((await get(`/invoice-pdf/not-a-token-${i}`)).statusCode);
    expect(codes.at(-1)).toBe(429);
    expect(codes.filter((c) => c === 404).length).toBeLessThanOrEqual(30);
  });
});
