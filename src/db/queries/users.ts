/** The people of a tenant (users): every statement auth/users.ts and sign-in run against the table. */
import { and, asc, count, desc, eq, ne, or, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { userRemovals, users } from '../schema';

export type User = typeof users.$inferSelect;
export type UserRemoval = typeof userRemovals.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type UserPatch = Partial<
  Pick<NewUser, 'name' | 'email' | 'role' | 'status' | 'intuitSub' | 'lastSignInAt' | 'updatedAt'>
>;

export const normalizeEmail = (email: string) => email.trim().toLowerCase();
const sameEmail = (email: string) => sql`lower(${users.email}) = ${normalizeEmail(email)}`;

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

/** A user by id whatever the tenant (a redeemed login link names its person). */
export async function userById(db: DbOrTx, id: string): Promise<User | null> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  return row ?? null;
}

export async function findUserByEmail(db: DbOrTx, tenantId: string, email: string): Promise<User | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), sameEmail(email)));
  return row ?? null;
}

export async function findUserByIntuitSub(db: DbOrTx, tenantId: string, sub: string): Promise<User | null> {
  const [row] = await db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.intuitSub, sub)));
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

/** Inserts a user; null when one with that email already exists in the tenant. */
export async function insertUser(db: DbOrTx, values: NewUser): Promise<User | null> {
  const [row] = await db.insert(users).values(values).onConflictDoNothing().returning();
  return row ?? null;
}

/**
 * Locks the tenant's active admins (in id order) until the transaction ends, so that two changes each checking
 * "someone else is still an admin" run one after the other and the second sees the first.
 */
export async function lockActiveAdmins(tx: DbOrTx, tenantId: string): Promise<void> {
  await tx
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.tenantId, tenantId), eq(users.role, 'admin'), eq(users.status, 'active')))
    .orderBy(asc(users.id))
    .for('update');
}

/** Active admins of the tenant other than `exceptId`. */
export async function countOtherActiveAdmins(
  db: DbOrTx,
  tenantId: string,
  exceptId: string,
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(
      and(
        eq(users.tenantId, tenantId),
        eq(users.role, 'admin'),
        eq(users.status, 'active'),
        ne(users.id, exceptId),
      ),
    );
  return row?.n ?? 0;
}

export async function setUser(db: DbOrTx, id: string, patch: UserPatch): Promise<User | undefined> {
  const [row] = await db.update(users).set(patch).where(eq(users.id, id)).returning();
  return row;
}

export async function deleteUser(db: DbOrTx, id: string): Promise<void> {
  await db.delete(users).where(eq(users.id, id));
}

/** A successful sign-in: an invited user becomes active. */
export async function markSignedIn(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.update(users).set({ status: 'active', lastSignInAt: now, updatedAt: now }).where(eq(users.id, id));
}

/** Remembers that an admin removed this person (by Intuit subject and/or lower-cased email). */
export async function insertUserRemoval(
  db: DbOrTx,
  values: {
    tenantId: string;
    email: string | null;
    intuitSub: string | null;
    name: string | null;
    removedBy: string;
    removedAt: Date;
  },
): Promise<void> {
  await db.insert(userRemovals).values({ ...values, email: values.email && normalizeEmail(values.email) });
}

/** Whether an admin removed the person with this Intuit subject or this (verified) email from the tenant. */
export async function wasRemoved(
  db: DbOrTx,
  tenantId: string,
  person: { intuitSub: string; email: string | null },
): Promise<boolean> {
  const by: SQL[] = [eq(userRemovals.intuitSub, person.intuitSub)];
  if (person.email) by.push(eq(userRemovals.email, normalizeEmail(person.email)));
  const [row] = await db
    .select({ id: userRemovals.id })
    .from(userRemovals)
    .where(and(eq(userRemovals.tenantId, tenantId), or(...by)))
    .limit(1);
  return row !== undefined;
}

/** Forgets the removals of this address in the tenant (an admin invited it again), Intuit subject included. */
export async function deleteUserRemovals(db: DbOrTx, tenantId: string, email: string): Promise<void> {
  await db
    .delete(userRemovals)
    .where(and(eq(userRemovals.tenantId, tenantId), eq(userRemovals.email, normalizeEmail(email))));
}

/** The tenant's remembered removals, newest first (Settings → People, "Removed"). */
export async function listUserRemovals(db: DbOrTx, tenantId: string): Promise<UserRemoval[]> {
  return db
    .select()
    .from(userRemovals)
    .where(eq(userRemovals.tenantId, tenantId))
    .orderBy(desc(userRemovals.removedAt), asc(userRemovals.id));
}

/** Forgets one removal of the tenant ("Allow again"); the row deleted, or null when the tenant has none by that id. */
export async function deleteUserRemoval(
  db: DbOrTx,
  tenantId: string,
  id: string,
): Promise<UserRemoval | null> {
  const [row] = await db
    .delete(userRemovals)
    .where(and(eq(userRemovals.tenantId, tenantId), eq(userRemovals.id, id)))
    .returning();
  return row ?? null;
}
