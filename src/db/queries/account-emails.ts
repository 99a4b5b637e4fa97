/** Invitations and emailed sign-in links (account_emails). */
import { and, count, eq, gt } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { accountEmails } from '../schema';

export type NewAccountEmail = typeof accountEmails.$inferInsert;

/**
 * Account emails since `since`, narrowed to an address, a kind and a tenant when given: one address's sign-in
 * emails or invitations (bounds per address), a tenant's invitations (its daily bound, routes/users.ts), one
 * person's address confirmations (their daily bound).
 */
export async function countAccountEmailsSince(
  db: DbOrTx,
  since: Date,
  only: { to?: string; kind?: 'invitation' | 'sign_in'; tenantId?: string; userId?: string } = {},
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(accountEmails)
    .where(
      and(
        gt(accountEmails.createdAt, since),
        only.to !== undefined ? eq(accountEmails.toAddress, only.to) : undefined,
        only.kind ? eq(accountEmails.kind, only.kind) : undefined,
        only.tenantId ? eq(accountEmails.tenantId, only.tenantId) : undefined,
        only.userId ? eq(accountEmails.userId, only.userId) : undefined,
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
