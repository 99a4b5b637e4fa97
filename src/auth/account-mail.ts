/**
 * Invitations and emailed sign-in links. A row is written first (account_emails), then handed to the same mail
 * transport the reminders use (Resend when RESEND_API_KEY and MAIL_FROM are set, with the row id as idempotency
 * key); without a provider the row is the local outbox. A failed send is recorded and reported, never retried
 * blind: the person can ask for another link.
 */
import type { SignInLinkProps } from '../../emails/sign-in-link';
import { advisoryXactLock } from '../db/advisory-lock';
import type { DbOrTx } from '../db/client';
import { countAccountEmailsSince, insertAccountEmail, markAccountEmail } from '../db/queries/account-emails';
import { tenantNames } from '../db/queries/tenants';
import type { UserRole } from '../db/schema';
import { AppError } from '../errors';
import type { AuthDeps } from './ports';
import type { SessionAuth } from './sessions';
import {
  createUser,
  forgetRemoval,
  isPlaceholderEmail,
  normalizeEmail,
  type User,
  usersWhoMaySignIn,
} from './users';

export type AccountEmailStatus = 'outbox' | 'sent' | 'failed';

/** At most this many sign-in emails to one address per window, whatever is asked (no mail bombing through us). */
export const SIGN_IN_EMAILS_PER_WINDOW = 3;
export const SIGN_IN_EMAIL_WINDOW_MS = 15 * 60_000;
/** Invitations one tenant may send in 24 hours (a team is not invited a hundred at a time; a spammer would be). */
export const INVITATIONS_PER_DAY = 50;
export const INVITATION_TTL_MS = 7 * 86_400_000;
/**
 * Address confirmations ("your email") one person may have mailed in 24 hours, whatever the addresses: a typo or two
 * is normal; a person who never confirms would otherwise mail a whole list from Duely's sender.
 */
export const OWN_EMAIL_CONFIRMATIONS_PER_DAY = 5;

/**
 * Sign-in emails (links, address confirmations) to `to` in the window. Invitations are bounded on their own
 * (inviteUser): counted here, a company inviting an address every few minutes kept its owner from ever
 * getting a sign-in link.
 */
async function recentSignInEmails(
  db: DbOrTx,
  to: string,
  now: Date,
  /** Only the emails sent for this tenant's people: a bound a tenant's person is told of (429) counts no others. */
  tenantId?: string,
): Promise<number> {
  return countAccountEmailsSince(db, new Date(now.getTime() - SIGN_IN_EMAIL_WINDOW_MS), {
    to,
    kind: 'sign_in',
    tenantId,
  });
}

type AccountEmailInput = {
  tenantId: string | null;
  userId: string | null;
  to: string;
  props: SignInLinkProps;
  now: Date;
};
type RenderedAccountEmail = { subject: string; html: string; text: string };

/** Over the per-address bound on sign-in emails (SIGN_IN_EMAILS_PER_WINDOW in SIGN_IN_EMAIL_WINDOW_MS). */
const tooManyToAddress = () =>
  new AppError('rate_limited', 'Too many emails to that address: try again in 15 minutes', 429);

/** Over a person's daily bound on address confirmations (OWN_EMAIL_CONFIRMATIONS_PER_DAY). */
const tooManyConfirmations = () =>
  new AppError(
    'rate_limited',
    `You asked for ${OWN_EMAIL_CONFIRMATIONS_PER_DAY} confirmation emails in the last 24 hours: check the address, and try again tomorrow`,
    429,
  );

/** What a sign-in email counts against (sendAccountEmail): the address's bound, and the person's daily one. */
export interface AccountEmailBound {
  /** Count only the emails sent for this tenant's people against the address's bound. */
  tenantId?: string;
  /** The person asking for their own address's confirmation: at most OWN_EMAIL_CONFIRMATIONS_PER_DAY a day. */
  confirmationsOf?: string;
}

/**
 * The email rendered and its row written (the local outbox until it is handed to the provider). `bound`: a sign-in
 * email counted against the address's bound (only the emails sent for `bound.tenantId`'s people when given) and, for
 * `bound.confirmationsOf`, against that person's daily bound; the counts and the row written under the person's and
 * the address's locks (in that order), so requests arriving together cannot all pass one count; over either, a 429
 * and nothing written.
 */
async function writeAccountEmail(
  db: DbOrTx,
  input: AccountEmailInput,
  bound?: AccountEmailBound,
): Promise<{ id: string; rendered: RenderedAccountEmail }> {
  // React Email loads with the first email, not at startup (web role RSS).
  const { renderSignInLink } = await import('../../emails/sign-in-link');
  const rendered = await renderSignInLink(input.props);
  const values = {
    tenantId: input.tenantId,
    userId: input.userId,
    kind: input.props.kind,
    toAddress: input.to,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    status: 'outbox' as const,
    createdAt: input.now,
  };
  if (!bound) return { id: await insertAccountEmail(db, values), rendered };
  const id = await db.transaction(async (tx) => {
    const person = bound.confirmationsOf;
    if (person) {
      // Per person, not per address: one who never confirms would otherwise mail any number of addresses.
      await advisoryXactLock(tx, `account-mail-person:${person}`);
      const day = new Date(input.now.getTime() - 86_400_000);
      if (
        (await countAccountEmailsSince(tx, day, { kind: 'sign_in', userId: person })) >=
        OWN_EMAIL_CONFIRMATIONS_PER_DAY
      )
        throw tooManyConfirmations();
    }
    await advisoryXactLock(tx, `account-mail:${input.to}`);
    if ((await recentSignInEmails(tx, input.to, input.now, bound.tenantId)) >= SIGN_IN_EMAILS_PER_WINDOW)
      throw tooManyToAddress();
    return insertAccountEmail(tx, values);
  });
  return { id, rendered };
}

/** A written account email handed to the provider (none configured: it stays in the outbox). */
async function deliverAccountEmail(
  deps: AuthDeps,
  id: string,
  to: string,
  kind: SignInLinkProps['kind'],
  rendered: RenderedAccountEmail,
): Promise<AccountEmailStatus> {
  const transport = deps.mailer;
  const from = deps.config.MAIL_FROM;
  if (!transport || !from) return 'outbox';
  try {
    const { providerId } = await transport.send({
      id,
      from,
      to: [to],
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      tags: { kind: `account_${kind}` },
    });
    await markAccountEmail(deps.db, id, { status: 'sent', providerId });
    return 'sent';
  } catch (err) {
    deps.logger.warn({ err, emailId: id }, 'account email not sent');
    await markAccountEmail(deps.db, id, {
      status: 'failed',
      error: (err as Error).message.slice(0, 500),
    });
    return 'failed';
  }
}

export async function sendAccountEmail(
  deps: AuthDeps,
  input: AccountEmailInput,
  /** Counted against the address's sign-in bound (and a person's), atomically with its row (writeAccountEmail); 429 over it. */
  bound?: AccountEmailBound,
): Promise<{ id: string; status: AccountEmailStatus }> {
  const { id, rendered } = await writeAccountEmail(deps.db, input, bound);
  return { id, status: await deliverAccountEmail(deps, id, input.to, input.props.kind, rendered) };
}

/**
 * Invites a person to a tenant: the person (status invited), a one-time link valid 7 days, and the invitation email.
 * Invitations go out from Duely's sender with the tenant's text, so they are bounded per address as sign-in links
 * are (an admin removing and inviting again mailed an address without end) and per tenant per day. The bounds are
 * checked and the email's row written in one transaction under the tenant's invitation lock: checked first and
 * written later (after the person, the token and the render), invitations fired in parallel all counted the same
 * number and all went out (tests/security/invitation-race.test.ts). Over a bound: 429, and nobody is created.
 */
export async function inviteUser(
  deps: AuthDeps,
  sessions: Pick<SessionAuth, 'issueLoginToken'>,
  input: {
    tenant: { id: string; name: string };
    email: string;
    name?: string | null;
    role: UserRole;
    by: string;
    now: Date;
  },
): Promise<{ user: User; delivery: AccountEmailStatus }> {
  const { tenant, now, by } = input;
  const to = normalizeEmail(input.email);
  const written = await deps.db.transaction(async (tx) => {
    await advisoryXactLock(tx, `invitations:${tenant.id}`);
    const window = new Date(now.getTime() - SIGN_IN_EMAIL_WINDOW_MS);
    if (
      (await countAccountEmailsSince(tx, window, { to, kind: 'invitation', tenantId: tenant.id })) >=
      SIGN_IN_EMAILS_PER_WINDOW
    ) {
      throw tooManyToAddress();
    }
    const day = new Date(now.getTime() - 86_400_000);
    if (
      (await countAccountEmailsSince(tx, day, { kind: 'invitation', tenantId: tenant.id })) >=
      INVITATIONS_PER_DAY
    ) {
      throw new AppError(
        'rate_limited',
        `This company sent ${INVITATIONS_PER_DAY} invitations in the last 24 hours: try again tomorrow`,
        429,
      );
    }
    const user = await createUser(tx, {
      tenantId: tenant.id,
      email: input.email,
      name: input.name,
      role: input.role,
      status: 'invited',
      invitedBy: by,
    });
    // Inviting someone an admin removed is letting them back: Sign in with Intuit no longer keeps them out.
    await forgetRemoval(tx, tenant.id, input.email);
    const token = await sessions.issueLoginToken({
      tenantId: tenant.id,
      userId: user.id,
      label: `invitation by ${by}`,
      now,
      ttlMs: INVITATION_TTL_MS,
      db: tx,
    });
    const email = await writeAccountEmail(tx, {
      tenantId: tenant.id,
      userId: user.id,
      to,
      now,
      props: {
        kind: 'invitation',
        name: user.name,
        invitedBy: by,
        validFor: '7 days',
        companies: [
          { name: tenant.name, url: `${deps.config.PUBLIC_URL}/login?token=${token}`, role: user.role },
        ],
      },
    });
    return { user, ...email };
  });
  return {
    user: written.user,
    delivery: await deliverAccountEmail(deps, written.id, to, 'invitation', written.rendered),
  };
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
  if ((await recentSignInEmails(deps.db, email, now)) >= SIGN_IN_EMAILS_PER_WINDOW) {
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
  try {
    await sendAccountEmail(
      deps,
      {
        tenantId: people.length === 1 ? people[0]!.tenantId : null,
        userId: people.length === 1 ? people[0]!.id : null,
        to: email,
        now,
        props: { kind: 'sign_in', name: people[0]!.name, companies, validFor: '15 minutes' },
      },
      // Checked again with the row: another process may have mailed the address since the check above.
      {},
    );
  } catch (err) {
    if (!(err instanceof AppError && err.code === 'rate_limited')) throw err;
    deps.logger.warn('sign-in email throttled');
  }
}
