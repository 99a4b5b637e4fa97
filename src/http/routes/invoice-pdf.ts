/**
 * The debtor's copy of an invoice: GET /invoice-pdf/<signed token>, linked from every reminder and statement of a
 * tenant whose ledger host renders invoice PDFs (dunning/invoice-pdf-link.ts). Public, because the debtor has no
 * account: the link authenticates itself (HMAC over tenant, message, invoice and expiry). The PDF is read live from
 * the host through the tenant's connection and streamed through, never stored.
 *
 * Refused (as a short HTML page a person can read, since a person clicked the link): a forged or mangled link,
 * an expired one, an invoice that is not the message's or not the tenant's, a voided or deleted invoice, and, with
 * a clear explanation, while the tenant's connection is disconnected or needs reconnecting.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ConnectorError } from '../../../connectors/errors';
import { ConnectionInactiveError, ReconnectNeededError } from '../../sync/connection-tokens';
import type { Services } from '../../app-services';
import { type fetchInvoicePdf, invoicePdfProviders } from '../../sync/invoice-pdf';
import { PUBLIC } from '../auth';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
  `<h1>${escapeHtml(title)}</h1>${body}</body></html>`;

function refuse(reply: FastifyReply, status: number, title: string, text: string) {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(page(title, `<p>${escapeHtml(text)}</p>`));
}

const NOT_VALID = 'This invoice link is not valid. Please reply to the email you received to ask for a copy.';

/** A filename a browser and a file system both take: "Invoice-1042.pdf". */
export function pdfFilename(number: string): string {
  const safe = number
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80);
  return `Invoice-${safe || 'copy'}.pdf`;
}

export const invoicePdfRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/invoice-pdf/:token',
      {
        config: {
          ...PUBLIC,
          // Every request is a live read from the host: a link passed around cannot spend the company's budget.
          rateLimit: { max: 30, timeWindow: 60_000, keyGenerator: (req) => `invoice-pdf:${req.ip}` },
        },
      },
      async (req, reply) => {
        const { token } = req.params as { token: string };
        const target = await services.dunning.resolveInvoicePdfLink(
          token,
          services.clock.now(),
          invoicePdfProviders(services.config),
        );
        if (target.kind === 'invalid') return refuse(reply, 404, 'Link not valid', NOT_VALID);
        if (target.kind === 'expired')
          return refuse(
            reply,
            410,
            'Link expired',
            'This invoice link has expired. Please reply to the email you received to ask for a copy.',
          );
        if (target.kind === 'gone')
          return refuse(
            reply,
            410,
            'Invoice no longer available',
            `Invoice ${target.number} was ${target.status === 'void' ? 'voided' : 'cancelled'} and is no longer available.`,
          );
        const { number, company } = target;
        const unavailable = () =>
          refuse(
            reply,
            503,
            'Invoice temporarily unavailable',
            `Invoice ${number} cannot be fetched right now because ${company}'s accounting system is not connected ` +
              'to Duely at the moment. Please try again later, or reply to the email you received to ask for a copy.',
          );
        if (target.kind === 'unavailable') return unavailable();

        let pdf: Awaited<ReturnType<typeof fetchInvoicePdf>>;
        try {
          pdf = await services.sync.invoicePdf(target.connection, target.invoiceExternalId);
        } catch (err) {
          if (err instanceof ReconnectNeededError || err instanceof ConnectionInactiveError)
            return unavailable();
          if (err instanceof ConnectorError) {
            if (err.code === 'not_found')
              return refuse(
                reply,
                410,
                'Invoice no longer available',
                `Invoice ${number} no longer exists in ${company}'s accounting system.`,
              );
            if (err.code === 'invalid_grant' || err.code === 'unauthorized') return unavailable();
          }
          req.log.warn({ err, invoiceId: target.invoiceId }, 'invoice PDF could not be fetched');
          return refuse(
            reply,
            502,
            'Invoice temporarily unavailable',
            `Invoice ${number} could not be fetched right now. Please try again in a few minutes.`,
          );
        }
        reply
          .type('application/pdf')
          .header('content-disposition', `inline; filename="${pdfFilename(number)}"`)
          .header('cache-control', 'private, no-store')
          .header('x-content-type-options', 'nosniff');
        if (pdf.length !== null) reply.header('content-length', pdf.length);
        return reply.send(Readable.fromWeb(pdf.body as import('node:stream/web').ReadableStream));
      },
    );
  };
