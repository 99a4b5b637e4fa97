/**
 * NetSuite invoice PDFs through Duely's RESTlet (connectors/netsuite/invoice-pdf.ts), against nock: the request's
 * shape (restlets host, restlet.nl with script, deploy and id, Content-Type json, a TBA or bearer Authorization), the
 * base64 answer decoded to the PDF bytes, and typed errors for 4xx/5xx and answers that are not a PDF. Config: the
 * NETSUITE_PDF_RESTLET value is parsed strictly.
 */
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorFor } from '../../connectors';
import { encodeTbaSecret } from '../../connectors/netsuite/client';
import { parseNetsuiteConfig, parseRestletRef } from '../../connectors/netsuite/config';
import { fetchNetsuiteInvoicePdf } from '../../connectors/netsuite/invoice-pdf';
import { invoicePdfBytes } from '../../sandboxes/invoice-pdf';

const HOST = 'https://1234567-sb1.restlets.api.netsuite.com';
const PATH = '/app/site/hosting/restlet.nl';
const REF = 'script=customscript_duely_pdf&deploy=customdeploy_duely_pdf';
const config = parseNetsuiteConfig({
  NETSUITE_CONSUMER_KEY: 'ck',
  NETSUITE_CONSUMER_SECRET: 'cs',
  NETSUITE_PDF_RESTLET: REF,
});
const pdf = invoicePdfBytes(['Invoice INV-42', 'Amount due 100.00 USD']);
const query = { script: 'customscript_duely_pdf', deploy: 'customdeploy_duely_pdf', id: '42' };

const options = (token: string, over: { onUnauthorized?: () => Promise<string> } = {}) => ({
  config,
  externalId: '1234567_SB1',
  getAccessToken: async () => token,
  onUnauthorized: over.onUnauthorized ?? (async () => token),
});
const bytesOf = async (body: ReadableStream<Uint8Array>) =>
  Buffer.from(await new Response(body).arrayBuffer());

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('NETSUITE_PDF_RESTLET', () => {
  it('takes exactly script and deploy (script ids or internal ids), in either order', () => {
    expect(parseRestletRef(REF)).toEqual({
      script: 'customscript_duely_pdf',
      deploy: 'customdeploy_duely_pdf',
    });
    expect(parseRestletRef('deploy=1&script=123')).toEqual({ script: '123', deploy: '1' });
    for (const bad of [
      'script=customscript_duely_pdf',
      'script=customscript_duely_pdf&deploy=customdeploy_duely_pdf&id=5',
      'script=customscript_a&script=customscript_b',
      'script=evil&deploy=customdeploy_x',
      'script=customscript_x&deploy=customdeploy_x%26id%3D1',
      'script=customscript_X&deploy=customdeploy_x',
      'https://example.com/?script=1&deploy=1',
    ]) {
      expect(parseRestletRef(bad), bad).toBeNull();
    }
    expect(() => parseNetsuiteConfig({ NETSUITE_PDF_RESTLET: 'script=1' })).toThrow(
      /script=<script id>&deploy=/,
    );
    expect(parseNetsuiteConfig({}).NETSUITE_PDF_RESTLET).toBeUndefined();
  });

  it('the connector offers PDFs only when the RESTlet is configured', () => {
    const c = connectorFor('netsuite' as never);
    expect(c.invoicePdfAvailable?.(config as never)).toBe(true);
    expect(c.invoicePdfAvailable?.(parseNetsuiteConfig({}) as never)).toBe(false);
  });
});

describe('NetSuite invoice PDF through the RESTlet', () => {
  it('a TBA connection: a signed GET on the restlets host; the base64 answer decodes to the PDF', async () => {
    let auth = '';
    nock(HOST, {
      reqheaders: {
        'content-type': 'application/json',
        authorization: (value: string | null) => {
          auth = value ?? '';
          return true;
        },
      },
    })
      .get(PATH)
      .query(query)
      .reply(200, { contentType: 'application/pdf', fileName: 'INV-42.pdf', base64: pdf.toString('base64') });
    const tba = encodeTbaSecret({ tokenId: 'tid', tokenSecret: 'tsecret' });
    const got = await fetchNetsuiteInvoicePdf('42', options(tba));
    expect(auth).toMatch(/^OAuth realm="1234567_SB1"/);
    expect(auth).toContain('oauth_signature_method="HMAC-SHA256"');
    expect(auth).toContain('oauth_token="tid"');
    expect(auth).toMatch(/oauth_signature="[^"]+"/);
    expect(got.length).toBe(pdf.length);
    expect((await bytesOf(got.body)).equals(pdf)).toBe(true);
  });

  it('an OAuth 2.0 connection: bearer token; a 401 refreshes once and retries', async () => {
    nock(HOST, { reqheaders: { authorization: 'Bearer old' } })
      .get(PATH)
      .query(query)
      .reply(401, { error: { code: 'INVALID_LOGIN_ATTEMPT', message: 'Invalid login attempt.' } });
    nock(HOST, { reqheaders: { authorization: 'Bearer new' } })
      .get(PATH)
      .query(query)
      .reply(200, { contentType: 'application/pdf', base64: pdf.toString('base64') });
    let refreshed = 0;
    const got = await fetchNetsuiteInvoicePdf(
      '42',
      options('old', {
        onUnauthorized: async () => {
          refreshed++;
          return 'new';
        },
      }),
    );
    expect(refreshed).toBe(1);
    expect((await bytesOf(got.body)).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('typed errors: a missing invoice is not_found, a refused role forbidden, a 5xx provider_unavailable', async () => {
    const call = () => fetchNetsuiteInvoicePdf('42', options('tok'));
    nock(HOST)
      .get(PATH)
      .query(query)
      .reply(400, { error: { code: 'DUELY_INVOICE_NOT_FOUND', message: 'No invoice with internal id 42' } });
    await expect(call()).rejects.toMatchObject({ code: 'not_found', status: 400 });
    nock(HOST)
      .get(PATH)
      .query(query)
      .reply(403, { error: { code: 'INSUFFICIENT_PERMISSION', message: 'Permission Violation' } });
    await expect(call()).rejects.toMatchObject({ code: 'forbidden' });
    nock(HOST).get(PATH).query(query).reply(503, 'Service Unavailable');
    await expect(call()).rejects.toMatchObject({ code: 'provider_unavailable', status: 503 });
    nock(HOST)
      .get(PATH)
      .query(query)
      .times(2)
      .reply(401, { error: { code: 'INVALID_LOGIN_ATTEMPT' } });
    await expect(call()).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('an answer that is not a base64 PDF never reaches the debtor as one', async () => {
    const call = () => fetchNetsuiteInvoicePdf('42', options('tok'));
    nock(HOST)
      .get(PATH)
      .query(query)
      .reply(200, { base64: Buffer.from('<html>login</html>').toString('base64') });
    await expect(call()).rejects.toMatchObject({ code: 'provider_unavailable', message: /not a PDF/ });
    nock(HOST)
      .get(PATH)
      .query(query)
      .reply(200, { contentType: 'text/html', base64: pdf.toString('base64') });
    await expect(call()).rejects.toMatchObject({ code: 'provider_unavailable' });
    nock(HOST).get(PATH).query(query).reply(200, { base64: '%%% not base64 %%%' });
    await expect(call()).rejects.toMatchObject({ code: 'provider_unavailable', message: /not base64/ });
    nock(HOST).get(PATH).query(query).reply(200, '"just text"');
    await expect(call()).rejects.toMatchObject({ code: 'provider_unavailable' });
  });

  it('an answer built to backtrack (a run of line breaks, then a stray character) is refused in one pass', async () => {
    // The RESTlet runs in the company's own account, so its answer is the company's to write: the base64 check read
    // a run of line breaks two ways (`[…\r\n]+={0,2}\s*$`), and 400,000 of them before a "!" held the whole server,
    // every tenant's requests with it, for far longer than a minute, on each click of the PDF link.
    nock(HOST)
      .get(PATH)
      .query(query)
      .reply(200, { base64: `JVBERi0${'\r\n'.repeat(200_000)}!` });
    await expect(fetchNetsuiteInvoicePdf('42', options('tok'))).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: /not base64/,
    });
    // Line breaks inside and after the base64, as NetSuite's encoder may write them, still decode.
    const wrapped = `${pdf.toString('base64').replace(/(.{76})/g, '$1\r\n')}\r\n\r\n`;
    nock(HOST).get(PATH).query(query).reply(200, { base64: wrapped });
    const got = await fetchNetsuiteInvoicePdf('42', options('tok'));
    expect(await bytesOf(got.body)).toEqual(pdf);
  });

  it('refuses an id that is not an internal id, and a configuration without the RESTlet, before any request', async () => {
    await expect(fetchNetsuiteInvoicePdf('42&script=1', options('tok'))).rejects.toMatchObject({
      code: 'validation',
    });
    await expect(
      fetchNetsuiteInvoicePdf('42', { ...options('tok'), config: parseNetsuiteConfig({}) }),
    ).rejects.toMatchObject({ code: 'validation', message: /NETSUITE_PDF_RESTLET/ });
  });
});
