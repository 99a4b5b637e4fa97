/**
 * The people of a tenant: who they are (email, name), what they may do (role) and whether they can sign in
 * (status). Emails are compared case-insensitively and stored as given, trimmed. A tenant always keeps one active
 * admin: the last one cannot be demoted, disabled or removed.
 */
import { and, asc, count, eq, ne, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/client';
import { type UserRole, type UserStatus, users } from '../db/schema';
import { AppError, notFound } from '../errors';

export type User = typeof users.$inferSelect;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();
const sameEmail = (email: string) => sql`lower(${users.email}) = ${normalizeEmail(email)}`;

/** How the audit trail names a person: "Name <email>", or the email alone. */
export function auditName(user: Pick<User, 'name' | 'email'>): string {
  return user.name ? `${user.name} <${user.email}>` : user.email;
}

export async function listUsers(db: DbOrTx, tenantId: string): Promise<User[]> {
  return db
    .select()
    .from(users)
    .where(eq(users.tenantId, tenantId))
    .orderBy(asc(users.createdAt), asc(users.email));
}

export async function findUser(db: DbOrTx, tenantId: string, id: string): Promise<User | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.id, id)));
  return row ?? null;
}

export async function findUserByEmail(db: DbOrTx, tenantId: string, email: string): Promise<User | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), sameEmail(email)));
  return row ?? null;
}

/** Every tenant's user with this email who may sign in (invited or active), for "email me a sign-in link". */
export async function usersWhoMaySignIn(db: DbOrTx, email: string): Promise<User[]> {
  return db
    .select()
    .from(users)
    .where(and(sameEmail(email), ne(users.status, 'disabled')));
}

export async function countUsers(db: DbOrTx, tenantId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(users).where(eq(users.tenantId, tenantId));
  return row?.n ?? 0;
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
  const [row] = await db
    .insert(users)
    .values({
      tenantId: input.tenantId,
      email: input.email.trim(),
      name: input.name?.trim() || null,
      role: input.role,
      status: input.status,
      invitedBy: input.invitedBy ?? null,
      intuitSub: input.intuitSub ?? null,
    })
    .onConflictDoNothing()
    .returning();
  if (!row) throw new AppError('user_exists', `${input.email.trim()} is already a user of this company`, 409);
  return row;
}

/** Refuses a change that would leave the tenant without an active admin. */
async function keepAnAdmin(db: DbOrTx, tenantId: string, changing: User): Promise<void> {
  if (changing.role !== 'admin' || changing.status !== 'active') return;
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(
      and(
        eq(users.tenantId, tenantId),
        eq(users.role, 'admin'),
        eq(users.status, 'active'),
        ne(users.id, changing.id),
      ),
    );
  if ((row?.n ?? 0) === 0) {
    throw new AppError('last_admin', 'This is the only active admin: make someone else an admin first', 409);
  }
}

export async function updateUser(
  db: DbOrTx,
  tenantId: string,
  id: string,
  patch: { name?: string | null; role?: UserRole; status?: 'active' | 'disabled' },
  now: Date,
): Promise<User> {
  const user = await findUser(db, tenantId, id);
  if (!user) throw notFound(`user ${id}`);
  const demoted = patch.role !== undefined && patch.role !== 'admin';
  const disabled = patch.status === 'disabled';
  if (demoted || disabled) await keepAnAdmin(db, tenantId, user);
  const [row] = await db
    .update(users)
    .set({
      ...(patch.name !== undefined ? { name: patch.name?.trim() || null } : {}),
      ...(patch.role !== undefined ? { role: patch.role } : {}),
      // Re-enabling someone who never signed in puts them back to "invited".
      ...(patch.status !== undefined
        ? { status: patch.status === 'active' && !user.lastSignInAt ? 'invited' : patch.status }
        : {}),
      updatedAt: now,
    })
    .where(eq(users.id, id))
    .returning();
  return row!;
}

/** Deletes the user; their sessions and unused links go with them (cascade). */
export async function removeUser(db: DbOrTx, tenantId: string, id: string): Promise<User> {
  const user = await findUser(db, tenantId, id);
  if (!user) throw notFound(`user ${id}`);
  await keepAnAdmin(db, tenantId, user);
  await db.delete(users).where(eq(users.id, id));
  return user;
}

/** A successful sign-in: an invited user becomes active. */
export async function markSignedIn(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.update(users).set({ status: 'active', lastSignInAt: now, updatedAt: now }).where(eq(users.id, id));
}

/**
 * The user a Sign in with Intuit becomes: the one with this Intuit subject, else the one with this email (who then
 * gets the subject), else a new user — the tenant's admin when it has nobody yet (the install), otherwise a viewer
 * until an admin gives them more. Null when that user was disabled.
 */
export async function userForIntuitSignIn(
  db: DbOrTx,
  tenantId: string,
  person: { sub: string; email: string | null; name: string | null },
  now: Date,
): Promise<User | null> {
  const [bySub] = await db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.intuitSub, person.sub)));
  const existing = bySub ?? (person.email ? await findUserByEmail(db, tenantId, person.email) : null);
  if (existing) {
    if (existing.status === 'disabled') return null;
    const [row] = await db
      .update(users)
      .set({
        intuitSub: person.sub,
        name: existing.name ?? person.name,
        status: 'active',
        lastSignInAt: now,
        updatedAt: now,
      })
      .where(eq(users.id, existing.id))
      .returning();
    return row!;
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
  return { ...created, status: 'active', lastSignInAt: now };
}
