/**
 * Invitations and emailed sign-in links. A row is written first (account_emails), then handed to the same mail
 * transport the reminders use (Resend when RESEND_API_KEY and MAIL_FROM are set, with the row id as idempotency
 * key); without a provider the row is the local outbox. A failed send is recorded and reported, never retried
 * blind: the person can ask for another link.
 */
import type { SignInLinkProps } from '../../emails/sign-in-link';
import { countAccountEmailsSince, insertAccountEmail, markAccountEmail } from '../db/queries/account-emails';
import { tenantNames } from '../db/queries/tenants';
import type { AuthDeps } from './ports';
import type { SessionAuth } from './sessions';
import { isPlaceholderEmail, usersWhoMaySignIn } from './users';

export type AccountEmailStatus = 'outbox' | 'sent' | 'failed';

/** At most this many sign-in emails to one address per window, whatever is asked (no mail bombing through us). */
export const SIGN_IN_EMAILS_PER_WINDOW = 3;
export const SIGN_IN_EMAIL_WINDOW_MS = 15 * 60_000;

/**
 * Sign-in emails (links, address confirmations) to `to` in the window. Invitations are bounded on their own
 * (recentInvitations): counted here, a company inviting an address every few minutes kept its owner from ever
 * getting a sign-in link.
 */
export async function recentSignInEmails(
  deps: AuthDeps,
  to: string,
  now: Date,
  /** Only the emails sent for this tenant's people: a bound a tenant's person is told of (429) counts no others. */
  tenantId?: string,
): Promise<number> {
  return countAccountEmailsSince(deps.db, new Date(now.getTime() - SIGN_IN_EMAIL_WINDOW_MS), {
    to,
    kind: 'sign_in',
    tenantId,
  });
}

/**
 * Invitations one tenant sent to `to` in the window (at most SIGN_IN_EMAILS_PER_WINDOW). Per tenant: counting
 * every company's mail would tell an admin whether the address is someone's at another company.
 */
export async function recentInvitations(
  deps: AuthDeps,
  tenantId: string,
  to: string,
  now: Date,
): Promise<number> {
  return countAccountEmailsSince(deps.db, new Date(now.getTime() - SIGN_IN_EMAIL_WINDOW_MS), {
    to,
    kind: 'invitation',
    tenantId,
  });
}

export async function sendAccountEmail(
  deps: AuthDeps,
  input: { tenantId: string | null; userId: string | null; to: string; props: SignInLinkProps; now: Date },
): Promise<{ id: string; status: AccountEmailStatus }> {
  // React Email loads with the first email, not at startup (web role RSS).
  const { renderSignInLink } = await import('../../emails/sign-in-link');
  const rendered = await renderSignInLink(input.props);
  const id = await insertAccountEmail(deps.db, {
    tenantId: input.tenantId,
    userId: input.userId,
    kind: input.props.kind,
    toAddress: input.to,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    status: 'outbox',
    createdAt: input.now,
  });
  const transport = deps.mailer;
  const from = deps.config.MAIL_FROM;
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
    await markAccountEmail(deps.db, id, { status: 'sent', providerId });
    return { id, status: 'sent' };
  } catch (err) {
    deps.logger.warn({ err, emailId: id }, 'account email not sent');
    await markAccountEmail(deps.db, id, {
      status: 'failed',
      error: (err as Error).message.slice(0, 500),
    });
    return { id, status: 'failed' };
  }
}

/**
 * "Email me a sign-in link" (POST /login/email): one link per company `email` may sign in to, in one email; nothing
 * for a stranger, a placeholder address or an address over its bound. The route answers before calling this (and
 * the same way whoever asked), so the time of the answer does not tell who is a user.
 */
export async function emailSignInLinks(
  deps: AuthDeps,
  sessions: Pick<SessionAuth, 'issueLoginToken'>,
  email: string,
  now: Date,
): Promise<void> {
  // Bounded per address, so nobody can make Duely flood an inbox.
  if ((await recentSignInEmails(deps, email, now)) >= SIGN_IN_EMAILS_PER_WINDOW) {
    deps.logger.warn('sign-in email throttled');
    return;
  }
  // A connect's placeholder address (…@users.invalid) is never mailed.
  const people = isPlaceholderEmail(email) ? [] : await usersWhoMaySignIn(deps.db, email);
  if (people.length === 0) return;
  const names = await tenantNames(deps.db, [...new Set(people.map((p) => p.tenantId))]);
  const companies = [];
  for (const person of people) {
    const token = await sessions.issueLoginToken({
      tenantId: person.tenantId,
      userId: person.id,
      label: 'emailed sign-in link',
      now,
    });
    companies.push({
      name: names.get(person.tenantId) ?? 'your company',
      url: `${deps.config.PUBLIC_URL}/login?token=${token}`,
      role: person.role,
    });
  }
  await sendAccountEmail(deps, {
    tenantId: people.length === 1 ? people[0]!.tenantId : null,
    userId: people.length === 1 ? people[0]!.id : null,
    to: email,
    now,
    props: { kind: 'sign_in', name: people[0]!.name, companies, validFor: '15 minutes' },
  });
}
