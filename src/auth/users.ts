/**
 * The people of a tenant: who they are (email, name), what they may do (role) and whether they can sign in
 * (status). Emails are compared case-insensitively and stored as given, trimmed. A tenant always keeps one active
 * admin: the last one cannot be demoted, disabled or removed.
 */

import type { Db, DbOrTx } from '../db/client';
import { endAccessOfUser } from '../db/queries/sessions';
import {
  countOtherActiveAdmins,
  countUsers,
  deleteUser,
  deleteUserRemoval,
  deleteUserRemovals,
  findUser,
  findUserByEmail,
  findUserByIntuitSub,
  insertUser,
  insertUserRemoval,
  lockActiveAdmins,
  markSignedIn,
  setUser,
  type User,
  wasRemoved,
} from '../db/queries/users';
import type { UserRole, UserStatus } from '../db/schema';
import { AppError, notFound } from '../errors';

export {
  countUsers,
  findUser,
  findUserByEmail,
  listUserRemovals,
  listUsers,
  markSignedIn,
  normalizeEmail,
  type User,
  type UserRemoval,
  usersWhoMaySignIn,
} from '../db/queries/users';

/** How the audit trail names a person: "Name <email>", or the email alone. */
export function auditName(user: Pick<User, 'name' | 'email'>): string {
  return user.name ? `${user.name} <${user.email}>` : user.email;
}

export async function createUser(
  db: DbOrTx,
  input: {
    tenantId: string;
    email: string;
    name?: string | null;
    role: UserRole;
    status: UserStatus;
    invitedBy?: string | null;
    intuitSub?: string | null;
  },
): Promise<User> {
  const row = await insertUser(db, {
    tenantId: input.tenantId,
    email: input.email.trim(),
    name: input.name?.trim() || null,
    role: input.role,
    status: input.status,
    invitedBy: input.invitedBy ?? null,
    intuitSub: input.intuitSub ?? null,
  });
  if (!row) throw new AppError('user_exists', `${input.email.trim()} is already a user of this company`, 409);
  return row;
}

/**
 * Refuses a change that would leave the tenant without an active admin. Call it in the transaction that makes the
 * change: it locks the tenant's active admins, so two admins demoting (disabling, removing) each other at once
 * cannot both pass the check (tests/security/last-admin-race.test.ts).
 */
async function keepAnAdmin(tx: DbOrTx, tenantId: string, changing: User): Promise<void> {
  if (changing.role !== 'admin' || changing.status !== 'active') return;
  await lockActiveAdmins(tx, tenantId);
  if ((await countOtherActiveAdmins(tx, tenantId, changing.id)) === 0) {
    throw new AppError('last_admin', 'This is the only active admin: make someone else an admin first', 409);
  }
}

export async function updateUser(
  db: Db,
  tenantId: string,
  id: string,
  patch: { name?: string | null; role?: UserRole; status?: 'active' | 'disabled' },
  now: Date,
): Promise<User> {
  return db.transaction(async (tx) => {
    const user = await findUser(tx, tenantId, id);
    if (!user) throw notFound(`user ${id}`);
    const demoted = patch.role !== undefined && patch.role !== 'admin';
    const disabled = patch.status === 'disabled';
    if (demoted || disabled) await keepAnAdmin(tx, tenantId, user);
    // Disabling ends their sessions and unused links for good (re-enabling later must not revive them).
    if (disabled) await endAccessOfUser(tx, id, now);
    const row = await setUser(tx, id, {
      ...(patch.name !== undefined ? { name: patch.name?.trim() || null } : {}),
      ...(patch.role !== undefined ? { role: patch.role } : {}),
      // Re-enabling someone who never signed in puts them back to "invited".
      ...(patch.status !== undefined
        ? { status: patch.status === 'active' && !user.lastSignInAt ? 'invited' : patch.status }
        : {}),
      updatedAt: now,
    });
    return row!;
  });
}

/**
 * Deletes the user; their sessions and unused links go with them (cascade). The removal is remembered by their
 * Intuit subject and email: they may still be a user of the company's books at Intuit, and Sign in with Intuit would
 * otherwise create them again as a viewer (userForIntuitSignIn). An invitation of the address lifts it
 * (forgetRemoval).
 */
export async function removeUser(
  db: Db,
  tenantId: string,
  id: string,
  by: { name: string; now: Date },
): Promise<User> {
  return db.transaction(async (tx) => {
    const user = await findUser(tx, tenantId, id);
    if (!user) throw notFound(`user ${id}`);
    await keepAnAdmin(tx, tenantId, user);
    await deleteUser(tx, id);
    const email = isPlaceholderEmail(user.email) ? null : user.email;
    if (email || user.intuitSub) {
      await insertUserRemoval(tx, {
        tenantId,
        email,
        intuitSub: user.intuitSub,
        name: user.name,
        removedBy: by.name,
        removedAt: by.now,
      });
    }
    return user;
  });
}

/** An admin invited this address: a removal of it (and of the Intuit account it was removed with) no longer holds. */
export async function forgetRemoval(db: DbOrTx, tenantId: string, email: string): Promise<void> {
  await deleteUserRemovals(db, tenantId, email);
}

/**
 * An admin lets a removed person back without inviting an address ("Allow again"): the removal is forgotten, so
 * their next Sign in with Intuit creates them again as a viewer. The only way back for a person removed with an
 * Intuit account and no email (an invitation lifts removals by address).
 */
export async function allowAgain(db: DbOrTx, tenantId: string, id: string) {
  const row = await deleteUserRemoval(db, tenantId, id);
  if (!row) throw notFound(`removed person ${id}`);
  return row;
}

/** A Sign in with Intuit resolved: the person, or why they are kept out (turned off, or removed by an admin). */
export type IntuitSignIn = { user: User } | { refused: 'disabled' | 'removed' };

/**
 * The user a Sign in with Intuit becomes: the one with this Intuit subject, else the one with this email (who then
 * gets the subject), else a new user — the tenant's admin when it has nobody yet (the install), otherwise a viewer
 * until an admin gives them more. Refused when that user was disabled, or when nobody matched and an admin removed
 * a person with this Intuit subject or this verified email (until an admin invites the address again).
 *
 * Only an email Intuit says is verified counts: anyone can type someone else's address into an Intuit profile, and
 * matched by it, any user of the company's ledger would become that person (an admin) and take over their Intuit
 * link. An unverified address is neither matched nor stored (the placeholder instead, which the person replaces
 * through the emailed verification of POST /api/v1/session/email).
 */
export async function userForIntuitSignIn(
  db: DbOrTx,
  tenantId: string,
  intuitUser: { sub: string; email: string | null; emailVerified: boolean; name: string | null },
  now: Date,
): Promise<IntuitSignIn> {
  const person = { ...intuitUser, email: intuitUser.emailVerified ? intuitUser.email : null };
  const bySub = await findUserByIntuitSub(db, tenantId, person.sub);
  const existing = bySub ?? (person.email ? await findUserByEmail(db, tenantId, person.email) : null);
  if (existing) {
    if (existing.status === 'disabled') return { refused: 'disabled' };
    const row = await setUser(db, existing.id, {
      intuitSub: person.sub,
      name: existing.name ?? person.name,
      status: 'active',
      lastSignInAt: now,
      updatedAt: now,
    });
    return { user: row! };
  }
  // An unverified address is nobody's (see above), so it neither matches nor is matched by a removal.
  if (await wasRemoved(db, tenantId, { intuitSub: person.sub, email: person.email })) {
    return { refused: 'removed' };
  }
  const first = (await countUsers(db, tenantId)) === 0;
  const created = await createUser(db, {
    tenantId,
    email: person.email ?? `intuit-${person.sub}@users.invalid`,
    name: person.name,
    role: first ? 'admin' : 'viewer',
    status: 'active',
    intuitSub: person.sub,
    invitedBy: first ? 'the Intuit install' : 'Sign in with Intuit',
  });
  await markSignedIn(db, created.id, now);
  return { user: { ...created, status: 'active', lastSignInAt: now } };
}

/** The placeholder address of a connect's first admin until they give theirs (`.invalid` never receives mail). */
export const connectAdminEmail = (provider: string, externalId: string) =>
  `${provider}-${externalId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}@users.invalid`;

/**
 * The first admin of a tenant a signed-out OAuth connect just created, for a provider that names no person (no
 * OpenID identity): the browser that completed the consent becomes that tenant's admin, under a placeholder
 * address until they enter theirs. Null when the tenant already has anyone — then the connect re-attached a company
 * Duely knows, and a browser that proved only a role in the provider's account must not enter its team's data.
 */
export async function firstAdminOfConnectedTenant(
  db: DbOrTx,
  tenantId: string,
  company: { provider: string; externalId: string },
  now: Date,
): Promise<User | null> {
  if ((await countUsers(db, tenantId)) > 0) return null;
  const created = await insertUser(db, {
    tenantId,
    email: connectAdminEmail(company.provider, company.externalId),
    name: null,
    role: 'admin',
    status: 'active',
    invitedBy: `the ${company.provider} connect`,
    intuitSub: null,
  });
  if (!created) return null;
  await markSignedIn(db, created.id, now);
  return { ...created, lastSignInAt: now };
}

/** Whether a user's address is a connect's placeholder (never mailed; the person is asked for theirs). */
export const isPlaceholderEmail = (email: string) => email.toLowerCase().endsWith('@users.invalid');

/** Sets a user's verified email (the link sent to it was opened). Null when another user of the tenant has it. */
export async function setVerifiedEmail(
  db: DbOrTx,
  tenantId: string,
  id: string,
  email: string,
  now: Date,
): Promise<User | null> {
  const other = await findUserByEmail(db, tenantId, email);
  if (other && other.id !== id) return null;
  const user = await findUser(db, tenantId, id);
  if (!user) return null;
  const row = await setUser(db, id, { email: email.trim(), updatedAt: now });
  return row ?? null;
}
