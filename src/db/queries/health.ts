import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';

/** Readiness: the database answers a trivial query (throws when it does not). */
export async function pingDatabase(db: DbOrTx): Promise<void> {
  await db.execute(sql`select 1`);
}
