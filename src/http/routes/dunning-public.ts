import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Services } from '../../app-services';
import { wallTime } from '../../clock';
import { tenantOfMessage } from '../../db/queries/dunning-admin';
import { mayHaveReachedDebtor } from '../../dunning/delivery-events';
import { deliveryUpdate, parseResendEvent, verifyResendWebhook } from '../../dunning/resend-webhook';
import { TEAM_COPY_TOKEN, verifyUnsubscribeToken } from '../../dunning/unsubscribe-token';
import { AppError } from '../../errors';
import { PUBLIC } from '../auth';

export const resendWebhookRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    // Encapsulated: JSON arrives as the exact bytes, because the signature covers them, not a re-serialization.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    /** https://resend.com/docs/webhooks/verify-webhooks-requests */
    app.post('/webhooks/resend', { config: PUBLIC }, async (req, reply) => {
      const secret = services.config.RESEND_WEBHOOK_SECRET;
      if (!secret) throw new AppError('not_configured', 'RESEND_WEBHOOK_SECRET is not set', 404);
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.from('');
      const v = verifyResendWebhook({
        rawBody: raw,
        headers: req.headers,
        secret,
        // Svix signs with the real time: a server run as of another day (--now) still takes real webhooks.
        now: wallTime(services.clock),
      });
      if (!v.ok) throw new AppError('invalid_signature', `webhook rejected: ${v.reason}`, 401);
      const parsed = parseResendEvent(raw);
      // Event types Duely does not track are acknowledged, so Svix does not retry them forever.
      if (!parsed.ok) {
        if (parsed.reason === 'unsupported_event') return reply.status(200).send({ ignored: parsed.detail });
        throw new AppError('invalid_payload', `webhook payload: ${parsed.reason}`, 400);
      }
      const svixId = String(req.headers['svix-id']);
      const result = await services.dunning.applyDeliveryUpdate(deliveryUpdate(parsed.event), svixId);
      return reply.status(200).send({ result });
    });
  };

const escapeHtml = (v: string) =>
  v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
  `<title>${title}</title></head><body style="font-family:sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem">` +
  `${body}</body></html>`;

export const unsubscribeRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    // RFC 8058 one-click POSTs application/x-www-form-urlencoded "List-Unsubscribe=One-Click"; the body is not needed.
    if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
      app.addContentTypeParser(
        'application/x-www-form-urlencoded',
        { parseAs: 'string' },
        (_req, body, done) => done(null, body),
      );
    }

    const claimsOf = (token: string) => verifyUnsubscribeToken(services.config.APP_SECRET, token);
    /**
     * Who the reminders come from (the name the emails are signed with), HTML-escaped, and whether the link's email
     * may have reached the debtor; null if the message is unknown.
     */
    const linkOf = async (messageId: string) => {
      const row = await tenantOfMessage(services.db, messageId);
      if (!row) return null;
      return {
        company: escapeHtml(services.dunning.senderOf(row.tenant).companyName),
        sent: mayHaveReachedDebtor(row.message),
      };
    };
    const notValid = (reply: FastifyReply) =>
      reply.status(404).send(page('Link not valid', '<p>This unsubscribe link is not valid.</p>'));
    // A reminder shown in Duely before it was sent carries its debtor's link: whoever opened it is not the debtor.
    const neverSent = (reply: FastifyReply, company: string) =>
      reply
        .status(404)
        .send(
          page(
            'Link of an email never sent',
            `<h1>This email was never sent</h1><p>This unsubscribe link is from a copy of a reminder that ${company} ` +
              'has not sent (a preview in Duely), so it unsubscribes no one. Nothing changed.</p>',
          ),
        );

    // The link in the team's copy of an email (Show email in Duely): never the debtor's.
    const teamCopy = (reply: FastifyReply) =>
      reply
        .status(404)
        .send(
          page(
            'Team copy of a reminder',
            "<h1>This is the team's copy</h1><p>This unsubscribe link is from a reminder as shown in Duely. In the " +
              "debtor's copy the link stops the reminders; this one unsubscribes no one. Nothing changed.</p>",
          ),
        );

    /** The confirm page: a GET never unsubscribes (mail scanners follow links). */
    app.get('/u/:token', { config: PUBLIC }, async (req, reply) => {
      const { token } = req.params as { token: string };
      reply.type('text/html; charset=utf-8');
      if (token === TEAM_COPY_TOKEN) return teamCopy(reply);
      const messageId = claimsOf(token);
      const link = messageId ? await linkOf(messageId) : null;
      if (!link) return notValid(reply);
      if (!link.sent) return neverSent(reply, link.company);
      const { company } = link;
      return reply.send(
        page(
          `Unsubscribe from ${company}'s payment reminders`,
          `<h1>Stop payment reminders from ${company}?</h1>` +
            `<p>You will no longer receive payment reminders by email from ${company} for this account.</p>` +
            `<form method="post" action="/u/${encodeURIComponent(token)}"><button type="submit">Unsubscribe</button></form>`,
        ),
      );
    });

    /** One-click (RFC 8058) and the confirm page's button. Idempotent. */
    app.post('/u/:token', { config: PUBLIC }, async (req, reply) => {
      const { token } = req.params as { token: string };
      const messageId = claimsOf(token);
      reply.type('text/html; charset=utf-8');
      if (token === TEAM_COPY_TOKEN) return teamCopy(reply);
      // The company first, read before the unsubscribe changes anything.
      const link = messageId ? await linkOf(messageId) : null;
      const done = link && messageId ? await services.dunning.unsubscribe(messageId) : false;
      if (!link || !done) return notValid(reply);
      if (done === 'never_sent') return neverSent(reply, link.company);
      const { company } = link;
      return reply.send(
        page(
          'Unsubscribed',
          `<h1>You are unsubscribed</h1><p>You won't get payment reminders from ${company} any more.</p>`,
        ),
      );
    });
  };
