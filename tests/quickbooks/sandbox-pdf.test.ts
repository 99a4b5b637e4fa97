/**
 * The local QuickBooks stand-in serves "Get an invoice as PDF", so the demo company's invoice PDF links open a real
 * document: read through the connector's own invoicePdf, the answer is a PDF naming the invoice and its balance.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectors } from '../../connectors';
import { loadConfig } from '../../src/config';
import { type Sandbox, startSandbox } from '../../sandboxes/quickbooks';
import { QB_ENV, sandboxTokens } from '../sync/helpers';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await startSandbox({
    seed: 5,
    now: new Date('2026-11-27T18:00:00.000Z'),
    customers: 3,
    invoices: 60,
    verifierToken: QB_ENV.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    clientId: QB_ENV.QUICKBOOKS_CLIENT_ID,
    clientSecret: QB_ENV.QUICKBOOKS_CLIENT_SECRET,
  });
});
afterAll(() => sandbox?.stop());

async function readPdf(invoiceId: string) {
  const { tokens } = await sandboxTokens(sandbox, sandbox.now());
  const config = loadConfig({ ...QB_ENV, ...sandbox.config });
  const pdf = await connectors.quickbooks.invoicePdf(invoiceId, {
    config,
    externalId: sandbox.realmId,
    getAccessToken: async () => tokens.accessToken,
    onUnauthorized: async () => tokens.accessToken,
  });
  return Buffer.from(await new Response(pdf.body).arrayBuffer());
}

it('answers an invoice as a PDF with its number and balance', async () => {
  const inv = [...sandbox.company.invoices.values()].find(
    (i) => !i.deleted && !i.voided && i.balanceMinor > 0,
  );
  expect(inv).toBeDefined();
  const bytes = await readPdf(inv!.id);
  const text = bytes.toString('latin1');
  expect(text.startsWith('%PDF-1.4')).toBe(true);
  expect(text.trimEnd().endsWith('%%EOF')).toBe(true);
  expect(text).toContain(`Invoice ${inv!.docNumber}`);
  expect(text).toContain(`Balance due: ${(inv!.balanceMinor / 100).toFixed(2)}`);
});

it('refuses a deleted invoice as QuickBooks does (object not found)', async () => {
  const inv = [...sandbox.company.invoices.values()].find(
    (i) => !i.deleted && !i.voided && i.paymentIds.length === 0,
  )!;
  await sandbox.deleteInvoice(inv.id);
  expect(sandbox.company.invoices.get(inv.id)?.deleted).toBe(true);
  await expect(readPdf(inv.id)).rejects.toMatchObject({ code: 'not_found' });
});
