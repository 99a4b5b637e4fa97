import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { createdAt, instant } from './columns';
import { tenants } from './tenants';

/**
 * One-time sign-in links (`/login?token=…`): a signed, expiring token whose SHA-256 is stored here; the first use
 * sets `used_at` (atomically), so a link works once. A null tenant signs in the operator (every tenant).
 */
export const loginTokens = pgTable('login_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
  label: text('label').notNull(),
  expiresAt: instant('expires_at').notNull(),
  usedAt: instant('used_at'),
  createdAt: createdAt(),
});

/**
 * Browser sessions of the settings app. The cookie carries a random secret; only its SHA-256 is stored. A session
 * is bound to one tenant, or to none for the operator. Its CSRF token is an HMAC of the cookie secret (src/auth/sessions.ts),
 * so nothing else needs storing.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tokenHash: text('token_hash').notNull().unique(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    /** How the session was opened: 'login_link' (one-time admin link) or 'intuit_openid' (Sign in with Intuit). */
    method: text('method').notNull(),
    /** Who signed in, for Sign in with Intuit: the ID token's `sub`, and the userinfo email and name. */
    userSub: text('user_sub'),
    userEmail: text('user_email'),
    userName: text('user_name'),
    expiresAt: instant('expires_at').notNull(),
    lastSeenAt: instant('last_seen_at'),
    revokedAt: instant('revoked_at'),
    createdAt: createdAt(),
  },
  (t) => [index('sessions_tenant_idx').on(t.tenantId)],
);
