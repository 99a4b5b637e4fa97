/** Invitations and emailed sign-in links (account_emails). */
import { and, count, eq, gt } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { accountEmails } from '../schema';

export type NewAccountEmail = typeof accountEmails.$inferInsert;

/** Emails to `to` since `since`, of one kind (and from one tenant) when given. */
export async function countAccountEmailsSince(
  db: DbOrTx,
  to: string,
  since: Date,
  only: { kind?: 'invitation' | 'sign_in'; tenantId?: string } = {},
): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(accountEmails)
    .where(
      and(
        eq(accountEmails.toAddress, to),
        gt(accountEmails.createdAt, since),
        only.kind ? eq(accountEmails.kind, only.kind) : undefined,
        only.tenantId ? eq(accountEmails.tenantId, only.tenantId) : undefined,
      ),
    );
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
