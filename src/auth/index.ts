/**
 * The auth module: sessions and sign-in links, API tokens, people, account emails. Built once by the composition
 * root (src/services.ts) from its declared deps (ports.ts); http routes and the CLI call it through this object.
 */
import { recentSignInEmails, sendAccountEmail } from './account-mail';
import { issueApiToken, verifyApiToken } from './api-tokens';
import type { AuthDeps } from './ports';
import { SessionAuth } from './sessions';
import { StateSigner } from './signed-state';

export type { AuthDeps } from './ports';

export function createAuth(deps: AuthDeps) {
  const sessions = new SessionAuth(deps.db, deps.config.APP_SECRET);
  return {
    /** Sign-in links, sessions and CSRF tokens (one instance: its keys are derived once). */
    sessions,
    /** A signer for OAuth `state` round trips of `purpose`. */
    stateSigner: (purpose: string) => new StateSigner(deps.config.APP_SECRET, purpose),
    issueApiToken: (label: string, tenantId: string | null = null) => issueApiToken(deps.db, label, tenantId),
    verifyApiToken: (token: string, now: Date) => verifyApiToken(deps.db, token, now),
    recentSignInEmails: (to: string, now: Date) => recentSignInEmails(deps, to, now),
    sendAccountEmail: (input: Parameters<typeof sendAccountEmail>[1]) => sendAccountEmail(deps, input),
  };
}

export type AuthModule = ReturnType<typeof createAuth>;
