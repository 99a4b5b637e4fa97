import { desc, eq } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { syncRuns } from '../schema';

/** A tenant's latest sync runs and imports, newest first. */
export async function recentSyncRuns(db: DbOrTx, tenantId: string, limit = 50) {
  return db
    .select()
    .from(syncRuns)
    .where(eq(syncRuns.tenantId, tenantId))
    .orderBy(desc(syncRuns.startedAt))
    .limit(limit);
}
