/**
 * A NetSuite invoice as the PDF NetSuite prints for it (the account's own invoice form), read live for the debtor's
 * download link. NetSuite's REST API renders no PDF; Duely's RESTlet (suitescript/duely_invoice_pdf.js, deployed in
 * the customer's account) does, with N/render `render.transaction({ entityId, printMode: PDF })`:
 *   GET https://<account>.restlets.api.netsuite.com/app/site/hosting/restlet.nl?script=…&deploy=…&id=<invoice id>
 * signed with the connection's own credentials (TBA or OAuth 2.0 bearer, like every other call), answering
 *   {"contentType": "application/pdf", "fileName": "…", "base64": "<the PDF>"}
 * Errors arrive as RESTlet error bodies ({"error": {"code", "message"}}) and map through faults.ts. Like the
 * QuickBooks read, it does not wait out throttling: a person is waiting on the other end of the link.
 */
import { ConnectorError } from '../errors';
import type { InvoicePdf, InvoicePdfOptions } from '../types';
import { NetsuiteClient } from './client';
import { type NetsuiteConfig, restletBaseUrl } from './config';

export const RESTLET_PATH = '/app/site/hosting/restlet.nl';
const PDF_MAGIC = '%PDF-';

/** The PDF bytes of a RESTlet answer; throws provider_unavailable for anything that is not a PDF. */
export function pdfFromRestletAnswer(answer: unknown): Buffer {
  const a = answer as { base64?: unknown; contentType?: unknown } | null;
  if (!a || typeof a !== 'object' || typeof a.base64 !== 'string' || a.base64 === '') {
    throw new ConnectorError({
      code: 'provider_unavailable',
      message: 'NetSuite invoice PDF RESTlet: the answer has no base64 document',
    });
  }
  if (a.contentType !== undefined && a.contentType !== 'application/pdf') {
    throw new ConnectorError({
      code: 'provider_unavailable',
      message: `NetSuite invoice PDF RESTlet: the document is ${String(a.contentType)}, not application/pdf`,
    });
  }
  // Trailing blanks first, then one pass over the rest: the answer is the company's own script's to write, and
  // `[…\r\n]+={0,2}\s*$` read a run of line breaks two ways (400,000 of them before a "!" held the server for minutes).
  if (!/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(a.base64.trimEnd())) {
    throw new ConnectorError({
      code: 'provider_unavailable',
      message: 'NetSuite invoice PDF RESTlet: the document is not base64',
    });
  }
  const bytes = Buffer.from(a.base64, 'base64');
  if (bytes.subarray(0, PDF_MAGIC.length).toString('latin1') !== PDF_MAGIC) {
    throw new ConnectorError({
      code: 'provider_unavailable',
      message: 'NetSuite invoice PDF RESTlet: the decoded document is not a PDF',
    });
  }
  return bytes;
}

/** The invoice `invoiceId` (its internal id) as a PDF, through the configured RESTlet. */
export async function fetchNetsuiteInvoicePdf(
  invoiceId: string,
  o: InvoicePdfOptions<NetsuiteConfig>,
): Promise<InvoicePdf> {
  const ref = o.config.NETSUITE_PDF_RESTLET;
  if (!ref) {
    throw new ConnectorError({
      code: 'validation',
      message: 'NetSuite invoice PDFs need NETSUITE_PDF_RESTLET (the deployed duely_invoice_pdf RESTlet)',
    });
  }
  if (!/^\d{1,20}$/.test(invoiceId)) {
    throw new ConnectorError({ code: 'validation', message: `Not a NetSuite internal id: ${invoiceId}` });
  }
  const client = new NetsuiteClient({
    restUrl: restletBaseUrl(o.config, o.externalId),
    accountId: o.externalId,
    auth: {
      type: 'stored',
      consumerKey: o.config.NETSUITE_CONSUMER_KEY,
      consumerSecret: o.config.NETSUITE_CONSUMER_SECRET,
      getAccessToken: o.getAccessToken,
      onUnauthorized: o.onUnauthorized,
    },
    ...(o.limiter ? { limiter: o.limiter } : {}),
    concurrency: o.config.NETSUITE_CONCURRENCY,
    maxThrottleRetries: 0,
    maxServerRetries: 0,
    requestTimeoutMs: o.timeoutMs ?? 30_000,
    ...(o.fetch ? { fetch: o.fetch } : {}),
  });
  const answer = await client.request(
    'GET',
    RESTLET_PATH,
    { script: ref.script, deploy: ref.deploy, id: invoiceId },
    undefined,
    o.signal,
    { restlet: true },
  );
  const bytes = pdfFromRestletAnswer(answer);
  return {
    body: new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(bytes));
        controller.close();
      },
    }),
    length: bytes.length,
  };
}
