/**
 * API tokens, listed and revoked (issuing stays with `duely token`, which prints the secret once on the operator's
 * terminal): GET /api/v1/tokens and DELETE /api/v1/tokens/:id. The operator sees and revokes every token; a
 * tenant's admin (session or token) only the tokens bound to that tenant: listing them, like revoking, is an admin's
 * (a token's label, use and reach are the company's integration set-up, not a viewer's business). Neither answer
 * ever contains a token or its hash.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { listApiTokens, revokeApiToken } from '../../auth/api-tokens';
import { notFound } from '../../errors';
import type { Services } from '../../app-services';
import { ADMIN, principalOf } from '../auth';
import * as contract from '../contracts/api-tokens';

export const apiTokenRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get('/tokens', { schema: contract.listTokens, config: ADMIN }, async (req) => {
      const { tenantId } = principalOf(req);
      return { items: await listApiTokens(services.db, tenantId) };
    });

    app.delete('/tokens/:id', { schema: contract.revokeToken }, async (req) => {
      const { tenantId } = principalOf(req);
      const { id } = req.params;
      const token = await revokeApiToken(services.db, id, tenantId, services.clock.now());
      if (!token) throw notFound(`token ${id}`);
      req.log.info({ tokenId: id }, 'API token revoked');
      return token;
    });
  };
