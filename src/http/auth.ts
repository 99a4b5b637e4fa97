/**
 * API authentication: `Authorization: Bearer duely_…` admin/API tokens. A token bound to a tenant only sees that
 * tenant; an operator token (no tenant) sees all. Sign-in sessions for the settings app come later.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { verifyApiToken } from '../auth/api-tokens';
import { getTenant, type Tenant } from '../db/queries/tenants';
import { forbidden, unauthorized } from '../errors';
import type { Services } from '../services';

export interface Principal {
  kind: 'api_token';
  tokenId: string;
  /** null: every tenant. */
  tenantId: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function registerAuth(app: FastifyInstance, services: Services): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/')) return;
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) throw unauthorized('send the admin token as "Authorization: Bearer <token>"');
    const token = await verifyApiToken(services.db, m[1]!, services.clock.now());
    if (!token) throw unauthorized('invalid or revoked token');
    req.principal = { kind: 'api_token', tokenId: token.id, tenantId: token.tenantId };
  });
}

/** Resolves the `:tenant` route parameter (id or slug) and checks the caller may see it. */
export async function tenantOf(req: FastifyRequest, services: Services): Promise<Tenant> {
  const ref = (req.params as { tenant?: string }).tenant ?? '';
  const tenant = await getTenant(services.db, ref);
  const p = req.principal;
  if (!p) throw unauthorized();
  if (p.tenantId !== null && p.tenantId !== tenant.id) throw forbidden('this token belongs to another tenant');
  return tenant;
}
