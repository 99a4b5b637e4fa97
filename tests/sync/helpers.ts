/** Shared set-up for sync and auth tests: a tenant with a QuickBooks connection holding sealed tokens. */
import { eq } from 'drizzle-orm';
import type { StoredTokens } from '../../src/auth/connection-tokens';
import { Vault } from '../../src/auth/vault';
import { ensureTenant } from '../../src/db/queries/tenants';
import { connections } from '../../src/db/schema';
import type { Services } from '../../src/services';

export const QB_ENV = {
  QUICKBOOKS_CLIENT_ID: 'duely-test-client',
  QUICKBOOKS_CLIENT_SECRET: 'duely-test-secret',
  QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: 'test-verifier-token',
};

export async function seedConnection(
  s: Services,
  opts: { name?: string; realmId: string; tokens: StoredTokens | null; currency?: string },
) {
  const tenant = await ensureTenant(s.db, opts.name ?? `QuickBooks ${opts.realmId}`, 'quickbooks', {
    currency: opts.currency ?? 'USD',
  });
  const vault = new Vault(s.config.APP_SECRET);
  const [conn] = await s.db
    .insert(connections)
    .values({
      tenantId: tenant.id,
      provider: 'quickbooks',
      externalId: opts.realmId,
      credentials: opts.tokens ? vault.seal(opts.tokens) : null,
      accessExpiresAt: opts.tokens ? new Date(opts.tokens.accessExpiresAt) : null,
      credentialsVersion: 1,
    })
    .returning();
  return { tenant, connection: conn! };
}

export async function readConnection(s: Services, id: string) {
  const [row] = await s.db.select().from(connections).where(eq(connections.id, id));
  return row!;
}

export function tokensAt(now: Date, accessTtlMs: number, suffix = '1'): StoredTokens {
  return {
    accessToken: `at-${suffix}`,
    refreshToken: `rt-${suffix}`,
    accessExpiresAt: new Date(now.getTime() + accessTtlMs).toISOString(),
    refreshExpiresAt: new Date(now.getTime() + 100 * 86_400_000).toISOString(),
  };
}
