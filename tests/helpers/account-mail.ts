import { desc, eq } from 'drizzle-orm';
import { accountEmails } from '../../src/db/schema';
import type { Services } from '../../src/services';

/**
 * The sign-in link in the newest email to the team sent to `to` (invitation or emailed link), as the person would
 * click it, with the email's delivery status. Throws when no such email holds a link.
 */
export async function latestSignInLink(
  s: Services,
  to: string,
): Promise<{ url: URL; token: string; status: string }> {
  const [mail] = await s.db
    .select()
    .from(accountEmails)
    .where(eq(accountEmails.toAddress, to))
    .orderBy(desc(accountEmails.createdAt))
    .limit(1);
  const m = /(https?:\/\/[^\s\]]+\/login\?token=(dll_[A-Za-z0-9_.-]+))/.exec(mail?.text ?? '');
  if (!mail || !m) throw new Error(`no sign-in link emailed to ${to}`);
  return { url: new URL(m[1]!), token: m[2]!, status: mail.status };
}
