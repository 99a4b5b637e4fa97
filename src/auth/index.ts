/**
 * The auth module: sessions and sign-in links, API tokens, people, account emails. Built once by the composition
 * root (src/services.ts) from its declared deps (ports.ts); http routes and the CLI call it through this object.
 */
import { emailSignInLinks, inviteUser, sendAccountEmail } from './account-mail';
import { type ApiTokenLookup, issueApiToken, verifyApiToken } from './api-tokens';
import type { AuthDeps } from './ports';
import { SessionAuth } from './sessions';
import { StateSigner } from './signed-state';

export type { AuthDeps } from './ports';

/** Emailed sign-in links waiting to be sent in one process, at most (more are dropped and logged). */
const MAX_QUEUED_SIGN_IN_EMAILS = 1_000;

export function createAuth(deps: AuthDeps) {
  const sessions = new SessionAuth(deps.db, deps.config.APP_SECRET);
  // Emailed sign-in links go out after the answer, one request at a time (so the per-address bound holds).
  let signInEmails: Promise<void> = Promise.resolve();
  let queuedSignInEmails = 0;
  return {
    /** Sign-in links, sessions and CSRF tokens (one instance: its keys are derived once). */
    sessions,
    /** A signer for OAuth `state` round trips of `purpose`. */
    stateSigner: (purpose: string) => new StateSigner(deps.config.APP_SECRET, purpose),
    issueApiToken: (label: string, tenantId: string | null = null) => issueApiToken(deps.db, label, tenantId),
    /** `lookup`: how the token row is read (default: the database; http passes a short memo of it). */
    verifyApiToken: (token: string, now: Date, lookup?: ApiTokenLookup) =>
      verifyApiToken(deps.db, token, now, lookup),
    sendAccountEmail: (
      input: Parameters<typeof sendAccountEmail>[1],
      bound?: Parameters<typeof sendAccountEmail>[2],
    ) => sendAccountEmail(deps, input, bound),
    /** A person invited: created, with a one-time link emailed, within the invitation bounds (else 429). */
    inviteUser: (input: Parameters<typeof inviteUser>[2]) => inviteUser(deps, sessions, input),
    /**
     * "Email me a sign-in link", started and not awaited: the caller has answered already, the same way for anyone
     * (the time of the answer must not tell who is a user). A failure is logged, never thrown.
     */
    startSignInEmail: (email: string, now: Date) => {
      // A flood from many addresses (each within its rate limit) must not grow the queue without end.
      if (queuedSignInEmails >= MAX_QUEUED_SIGN_IN_EMAILS) {
        deps.logger.warn({ queued: queuedSignInEmails }, 'sign-in email dropped: too many waiting');
        return;
      }
      queuedSignInEmails++;
      signInEmails = signInEmails
        // Never before the answer is on its way: the work yields to the reply's write first.
        .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
        .then(() => emailSignInLinks(deps, sessions, email, now))
        .catch((err: unknown) => {
          deps.logger.error({ err }, 'sign-in email failed');
        })
        .finally(() => {
          queuedSignInEmails--;
        });
    },
    /** Resolves once every started sign-in email is done (shutdown, tests). */
    signInEmailsSettled: async () => {
      let seen: Promise<void>;
      do {
        seen = signInEmails;
        await seen;
      } while (seen !== signInEmails);
    },
  };
}

export type AuthModule = ReturnType<typeof createAuth>;
