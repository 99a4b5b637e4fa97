/**
 * The demo company's consent page (src/demo-company.ts): the sandbox approves at once and answers with the redirect
 * to our callback, which we pass on to the browser.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { formatMoney } from '../../../connectors/money';
import type { Services } from '../../app-services';
import { DEMO_AUTHORIZE_PATH, DEMO_PAY_PATH, DEMO_PROVIDER } from '../../demo-company';
import { callbackUrl } from '../../sync/connect-flow';
import { PUBLIC } from '../auth';
import { escapeHtml, htmlPage } from './html-page';

/** Whether `location` is the callback itself (same origin and path; the query carries code and state). */
function isCallback(location: string, callback: string): boolean {
  try {
    const a = new URL(location);
    const b = new URL(callback);
    return a.origin === b.origin && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

export const demoAuthorizeRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    const page = (reply: FastifyReply, status: number, title: string, text: string) =>
      htmlPage(
        reply,
        status,
        title,
        `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>` +
          `<p><a href="/connect/${DEMO_PROVIDER.provider}">Connect ${escapeHtml(DEMO_PROVIDER.name)} again</a> · ` +
          '<a href="/">Back to Duely</a></p>',
      );
    app.get(DEMO_AUTHORIZE_PATH, { config: PUBLIC }, async (req, reply) => {
      const demo = services.demoCompany;
      if (!demo)
        return page(reply, 404, 'No demo company here', 'This server does not run the demo company.');
      // Like the provider, only the registered callback may receive a code: anything else would make this page an
      // open redirect that hands codes to whoever wrote the link.
      const callback = callbackUrl(services.config.PUBLIC_URL, DEMO_PROVIDER.provider);
      const query = new URLSearchParams(req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '');
      if (query.getAll('redirect_uri').length !== 1 || query.get('redirect_uri') !== callback) {
        return page(reply, 400, 'Not a Duely sign-in link', 'This link does not lead back to Duely.');
      }
      const res = await fetch(`${demo.sandbox.url}/connect/oauth2?${query.toString()}`, {
        redirect: 'manual',
      });
      const location = res.headers.get('location');
      if (res.status !== 302 || !location || !isCallback(location, callback)) {
        return page(reply, 502, 'The demo company did not answer', `The sandbox answered ${res.status}.`);
      }
      return reply.header('cache-control', 'no-store').redirect(location, 302);
    });

    /**
     * A demo invoice's pay link (DEMO_PAY_PATH): in a real company the debtor pays on the provider's page; here the page
     * says so and names the invoice, so a link clicked in a previewed reminder leads somewhere that makes sense.
     */
    app.get<{ Params: { realm: string; invoice: string } }>(
      `${DEMO_PAY_PATH}/:realm/:invoice`,
      { config: PUBLIC },
      async (req, reply) => {
        const sandbox = services.demoCompany?.sandbox;
        const inv =
          sandbox && req.params.realm === sandbox.realmId
            ? sandbox.company.invoices.get(req.params.invoice)
            : undefined;
        if (!inv || inv.deleted) {
          return htmlPage(
            reply,
            404,
            'No such demo invoice',
            '<h1>No such demo invoice</h1><p>This pay link is not one of the demo company’s invoices.</p>',
          );
        }
        const customer = sandbox!.company.customers.get(inv.customerId);
        const open = formatMoney(inv.balanceMinor, 'USD', 'en-US');
        return htmlPage(
          reply.header('cache-control', 'no-store'),
          200,
          'Demo pay link',
          `<h1>Demo pay link</h1><p>This is the pay link of invoice ${escapeHtml(inv.docNumber)}` +
            (customer ? ` to ${escapeHtml(customer.name)}` : '') +
            `, ${escapeHtml(open)} open, in Duely’s demo company. Nothing is paid here.</p>` +
            `<p>In a real ${escapeHtml(DEMO_PROVIDER.name)} company this link opens ${escapeHtml(DEMO_PROVIDER.name)}’s payment page for the invoice, where your ` +
            'customer pays by card or bank transfer; Duely puts the link in every reminder that lists it.</p>' +
            '<p><a href="/">Back to Duely</a></p>',
        );
      },
    );
  };
