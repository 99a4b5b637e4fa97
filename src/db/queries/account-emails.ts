/** Invitations and emailed sign-in links (account_emails). */
import { and, count, eq, gt } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { accountEmails } from '../schema';

export type NewAccountEmail = typeof accountEmails.$inferInsert;

export async function countAccountEmailsSince(db: DbOrTx, to: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(accountEmails)
    .where(and(eq(accountEmails.toAddress, to), gt(accountEmails.createdAt, since)));
  return row?.n ?? 0;
}

/** Invitations a tenant sent since `since` (bounds what one tenant mails: routes/users.ts). */
export async function countInvitationsSince(db: DbOrTx, tenantId: string, since: Date): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(accountEmails)
    .where(
      and(
        eq(accountEmails.tenantId, tenantId),
        eq(accountEmails.kind, 'invitation'),
        gt(accountEmails.createdAt, since),
      ),
    );
  return row?.n ?? 0;
}

export async function insertAccountEmail(db: DbOrTx, values: NewAccountEmail): Promise<string> {
  const [row] = await db.insert(accountEmails).values(values).returning({ id: accountEmails.id });
  return row!.id;
}

export async function markAccountEmail(
  db: DbOrTx,
  id: string,
  patch: { status: 'sent'; providerId: string | null } | { status: 'failed'; error: string },
): Promise<void> {
  await db.update(accountEmails).set(patch).where(eq(accountEmails.id, id));
}
