import { describe, expect, it } from 'vitest';
import { NetsuiteCompany } from '../../sandboxes/netsuite/company';
import { encodeTbaSecret } from '../../connectors/netsuite/client';
import { parseNetsuiteConfig } from '../../connectors/netsuite/config';
import { fetchNetsuiteInvoicePdf } from '../../connectors/netsuite/invoice-pdf';
import { startNetsuiteSandbox } from '../../sandboxes/netsuite/run';
import { runSuiteql } from '../../sandboxes/netsuite/suiteql';

describe('NetSuite stand-in company', () => {
  it('is deterministic per seed and covers every currency, with a transaction currency unlike its subsidiary', () => {
    const a = NetsuiteCompany.generate({ seed: 3 });
    const b = NetsuiteCompany.generate({ seed: 3 });
    expect([...a.openBalances()]).toEqual([...b.openBalances()]);
    const txns = [...a.txns.values()];
    expect(new Set(txns.map((t) => t.currency))).toEqual(new Set(['USD', 'CAD', 'EUR', 'JPY']));
    const subCurrency = new Map(a.subsidiaries.map((s) => [s.id, s.currency]));
    expect(txns.some((t) => t.currency !== subCurrency.get(t.subsidiary))).toBe(true);
  });

  it('keeps money consistent: no invoice over-applied, no payment over-used', () => {
    const c = NetsuiteCompany.generate({ seed: 11, customers: 20 });
    for (let d = 0; d < 10; d++) c.simulateDay();
    for (const t of c.txns.values()) {
      expect(c.unpaid(t)).toBeGreaterThanOrEqual(0);
      expect(c.unused(t)).toBeGreaterThanOrEqual(0);
    }
  });

  it('answers unknown SuiteQL with an error (a changed connector query cannot silently match nothing)', () => {
    const c = NetsuiteCompany.generate({ seed: 1, customers: 4 });
    expect(() => runSuiteql(c, 'SELECT foreignamountremaining FROM transaction')).toThrow(/does not know/);
  });

  it('runs standalone and prints the environment that points the connector at it', async () => {
    const { env, sandbox, stop } = await startNetsuiteSandbox({ customers: 4 });
    try {
      expect(env.NETSUITE_REST_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(env.NETSUITE_TOKEN_URL).toBe(`${env.NETSUITE_REST_URL}/services/rest/auth/oauth2/v1/token`);
      // The demo account has the invoice-PDF RESTlet deployed: a TBA-signed read gets the invoice's one-page PDF.
      const config = parseNetsuiteConfig(env);
      expect(config.NETSUITE_PDF_RESTLET).toEqual({
        script: 'customscript_duely_pdf',
        deploy: 'customdeploy_duely_pdf',
      });
      const token = encodeTbaSecret({ tokenId: 'sandbox-token-id', tokenSecret: 'sandbox-token-secret' });
      const options = {
        config,
        externalId: '1234567_SB1',
        getAccessToken: async () => token,
        onUnauthorized: async () => token,
      };
      const invoice = [...sandbox.company.txns.values()].find((t) => t.type === 'CustInvc')!;
      const pdf = await fetchNetsuiteInvoicePdf(String(invoice.id), options);
      const bytes = Buffer.from(await new Response(pdf.body).arrayBuffer());
      expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
      expect(bytes.toString('latin1')).toContain(`Invoice ${invoice.tranid}`);
      expect(pdf.length).toBe(bytes.length);
      const payment = [...sandbox.company.txns.values()].find((t) => t.type === 'CustPymt')!;
      await expect(fetchNetsuiteInvoicePdf(String(payment.id), options)).rejects.toMatchObject({
        code: 'not_found',
      });
      const wrong = encodeTbaSecret({ tokenId: 'sandbox-token-id', tokenSecret: 'wrong' });
      await expect(
        fetchNetsuiteInvoicePdf(String(invoice.id), { ...options, getAccessToken: async () => wrong }),
      ).rejects.toMatchObject({ code: 'unauthorized' });
    } finally {
      await stop();
    }
  });
});
