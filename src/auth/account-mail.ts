/**
 * Invitations and emailed sign-in links. A row is written first (account_emails), then handed to the same mail
 * transport the reminders use (Resend when RESEND_API_KEY and MAIL_FROM are set, with the row id as idempotency
 * key); without a provider the row is the local outbox. A failed send is recorded and reported, never retried
 * blind: the person can ask for another link.
 */
import { and, count, eq, gt } from 'drizzle-orm';
import { renderSignInLink, type SignInLinkProps } from '../../emails/sign-in-link';
import { accountEmails } from '../db/schema';
import { mailTransportFor } from '../dunning/send-message';
import type { Services } from '../services';

export type AccountEmailStatus = 'outbox' | 'sent' | 'failed';

/** At most this many sign-in emails to one address per window, whatever is asked (no mail bombing through us). */
export const SIGN_IN_EMAILS_PER_WINDOW = 3;
export const SIGN_IN_EMAIL_WINDOW_MS = 15 * 60_000;

export async function recentSignInEmails(services: Services, to: string, now: Date): Promise<number> {
  const [row] = await services.db
    .select({ n: count() })
    .from(accountEmails)
    .where(
      and(
        eq(accountEmails.toAddress, to),
        gt(accountEmails.createdAt, new Date(now.getTime() - SIGN_IN_EMAIL_WINDOW_MS)),
      ),
    );
  return row?.n ?? 0;
}

export async function sendAccountEmail(
  services: Services,
  input: { tenantId: string | null; userId: string | null; to: string; props: SignInLinkProps; now: Date },
): Promise<{ id: string; status: AccountEmailStatus }> {
  const rendered = await renderSignInLink(input.props);
  const [row] = await services.db
    .insert(accountEmails)
    .values({
      tenantId: input.tenantId,
      userId: input.userId,
      kind: input.props.kind,
      toAddress: input.to,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      status: 'outbox',
      createdAt: input.now,
    })
    .returning({ id: accountEmails.id });
  const id = row!.id;
  const transport = mailTransportFor(services);
  const from = services.config.MAIL_FROM;
  if (!transport || !from) return { id, status: 'outbox' };
  try {
    const { providerId } = await transport.send({
      id,
      from,
      to: [input.to],
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      tags: { kind: `account_${input.props.kind}` },
    });
    await services.db
      .update(accountEmails)
      .set({ status: 'sent', providerId })
      .where(eq(accountEmails.id, id));
    return { id, status: 'sent' };
  } catch (err) {
    services.logger.warn({ err, emailId: id }, 'account email not sent');
    await services.db
      .update(accountEmails)
      .set({ status: 'failed', error: (err as Error).message.slice(0, 500) })
      .where(eq(accountEmails.id, id));
    return { id, status: 'failed' };
  }
}
