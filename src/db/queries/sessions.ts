/** Sessions and one-time login links (auth/sessions.ts keeps the tokens, hashing and rules; this file the SQL). */
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { loginTokens, sessions, users } from '../schema';

export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
export type NewLoginToken = typeof loginTokens.$inferInsert;
type User = typeof users.$inferSelect;

export async function insertLoginToken(db: DbOrTx, values: NewLoginToken): Promise<void> {
  await db.insert(loginTokens).values(values);
}

/** Marks an unused, unexpired login token used; its tenant and person, or null when there is none such. */
export async function spendLoginToken(
  db: DbOrTx,
  tokenHash: string,
  now: Date,
): Promise<{ tenantId: string | null; userId: string | null } | null> {
  const [row] = await db
    .update(loginTokens)
    .set({ usedAt: now })
    .where(
      and(eq(loginTokens.tokenHash, tokenHash), isNull(loginTokens.usedAt), gt(loginTokens.expiresAt, now)),
    )
    .returning({ tenantId: loginTokens.tenantId, userId: loginTokens.userId });
  return row ?? null;
}

/** An unused, unexpired login token's tenant and person, without spending it (the GET /login page names them). */
export async function liveLoginToken(
  db: DbOrTx,
  tokenHash: string,
  now: Date,
): Promise<{ tenantId: string | null; userId: string | null } | null> {
  const [row] = await db
    .select({ tenantId: loginTokens.tenantId, userId: loginTokens.userId })
    .from(loginTokens)
    .where(
      and(eq(loginTokens.tokenHash, tokenHash), isNull(loginTokens.usedAt), gt(loginTokens.expiresAt, now)),
    )
    .limit(1);
  return row ?? null;
}

export async function insertSession(db: DbOrTx, values: NewSession): Promise<Session> {
  const [session] = await db.insert(sessions).values(values).returning();
  return session!;
}

/** The session with this token hash and its person (null: none), whatever its state. */
export async function sessionByTokenHash(
  db: DbOrTx,
  tokenHash: string,
): Promise<{ session: Session; person: User | null } | null> {
  const [found] = await db
    .select({ session: sessions, person: users })
    .from(sessions)
    .leftJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, tokenHash))
    .limit(1);
  return found ?? null;
}

/** The session with this id and its person (null: none), whatever its state. */
export async function sessionById(
  db: DbOrTx,
  id: string,
): Promise<{ session: Session; person: User | null } | null> {
  const [found] = await db
    .select({ session: sessions, person: users })
    .from(sessions)
    .leftJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, id))
    .limit(1);
  return found ?? null;
}

export async function touchSession(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.update(sessions).set({ lastSeenAt: now }).where(eq(sessions.id, id));
}

export async function revokeSession(db: DbOrTx, id: string, now: Date): Promise<void> {
  await db.update(sessions).set({ revokedAt: now }).where(eq(sessions.id, id));
}

/**
 * Revokes every live session of `session`'s person; for a session without a person, every person-less session
 * of the same tenant (or of the operator). Returns how many ended.
 */
export async function revokeSessionsLike(
  db: DbOrTx,
  session: Pick<Session, 'userId' | 'tenantId'>,
  now: Date,
): Promise<number> {
  const whose = session.userId
    ? eq(sessions.userId, session.userId)
    : and(
        isNull(sessions.userId),
        session.tenantId ? eq(sessions.tenantId, session.tenantId) : isNull(sessions.tenantId),
      );
  const rows = await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(whose, isNull(sessions.revokedAt)))
    .returning({ id: sessions.id });
  return rows.length;
}

/**
 * Ends every live session and spends every unused sign-in link of a person (who is being disabled): for good, so
 * enabling them again later brings back neither an old browser nor a link still in an inbox.
 */
export async function endAccessOfUser(db: DbOrTx, userId: string, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
  await db
    .update(loginTokens)
    .set({ usedAt: now })
    .where(and(eq(loginTokens.userId, userId), isNull(loginTokens.usedAt)));
}
