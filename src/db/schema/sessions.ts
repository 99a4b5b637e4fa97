import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { createdAt, instant, updatedAt } from './columns';
import { tenants } from './tenants';

export const userRoles = ['viewer', 'collector', 'admin'] as const;
export type UserRole = (typeof userRoles)[number];
export type UserStatus = 'invited' | 'active' | 'disabled';

/**
 * The people of a tenant, by email (unique per tenant, stored lower-case). The first comes from the install (Sign
 * in with Intuit, or the operator's link with --email), the others are invited by an admin. A removed user is
 * deleted, which ends their sessions and unused links (cascade), and leaves a userRemovals row behind.
 */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    email: text('email').notNull(),
    name: text('name'),
    role: text('role').$type<UserRole>().notNull().default('viewer'),
    status: text('status').$type<UserStatus>().notNull().default('invited'),
    /** Sign in with Intuit's subject, once this person has used it. */
    intuitSub: text('intuit_sub'),
    /** Who invited them (the audit name of the inviter). */
    invitedBy: text('invited_by'),
    lastSignInAt: instant('last_sign_in_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('users_tenant_email_uq').on(t.tenantId, sql`lower(${t.email})`)],
);

/**
 * People an admin removed from a tenant, by what Sign in with Intuit knows them by: their Intuit subject and their
 * email (stored lower-case; null for a connect's placeholder address). Sign in with Intuit creates anyone of the
 * company's users at Intuit it does not find, so without this a removed person came straight back as a viewer. An
 * invitation of the address deletes the row (auth/users.ts).
 */
export const userRemovals = pgTable(
  'user_removals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    email: text('email'),
    intuitSub: text('intuit_sub'),
    /** Their name when they were removed, for Settings → People's "Removed" list (null before migration 0031). */
    name: text('name'),
    /** The audit name of the admin who removed them. */
    removedBy: text('removed_by').notNull(),
    removedAt: instant('removed_at').notNull(),
  },
  (t) => [
    index('user_removals_tenant_email_idx').on(t.tenantId, t.email),
    index('user_removals_tenant_sub_idx').on(t.tenantId, t.intuitSub),
  ],
);

/**
 * One-time sign-in links (`/login?token=…`): a signed, expiring token whose SHA-256 is stored here; the first use
 * sets `used_at` (atomically), so a link works once. A null tenant signs in the operator (every tenant).
 */
export const loginTokens = pgTable('login_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
  /** The person the link signs in (an invitation or an emailed link); null for the operator's admin link. */
  userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
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
    /** The person signed in; null for the operator's and legacy admin-link sessions (which act as admin). */
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
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
  (t) => [index('sessions_tenant_idx').on(t.tenantId), index('sessions_user_idx').on(t.userId)],
);

/**
 * Emails to the team (invitations, sign-in links), one row each, written before sending: the local outbox when no
 * provider is configured, and the record of what Resend was given (the row id is the idempotency key). The body
 * holds a one-time sign-in link, so rows are never returned by the API.
 */
export const accountEmails = pgTable(
  'account_emails',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id').references(() => tenants.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'set null' }),
    kind: text('kind').$type<'invitation' | 'sign_in'>().notNull(),
    toAddress: text('to_address').notNull(),
    subject: text('subject').notNull(),
    html: text('html').notNull(),
    text: text('text').notNull(),
    /** 'outbox' (kept locally), 'sent' (accepted by the provider) or 'failed'. */
    status: text('status').$type<'outbox' | 'sent' | 'failed'>().notNull(),
    providerId: text('provider_id'),
    error: text('error'),
    createdAt: createdAt(),
  },
  (t) => [index('account_emails_to_created_idx').on(t.toAddress, t.createdAt)],
);
