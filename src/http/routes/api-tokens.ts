/**
 * API tokens, listed and revoked (issuing stays with `duely token`, which prints the secret once on the operator's
 * terminal): GET /api/v1/tokens and DELETE /api/v1/tokens/:id. The operator sees and revokes every token; a
 * tenant's session or token only the tokens bound to that tenant. Neither answer ever contains a token or its hash.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { listApiTokens, revokeApiToken } from '../../auth/api-tokens';
import { notFound } from '../../errors';
import type { Services } from '../../services';
import { principalOf } from '../auth';
import { parseInput } from '../validate';

export const apiTokenRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    app.get('/tokens', async (req) => {
      const { tenantId } = principalOf(req);
      return { items: await listApiTokens(services.db, tenantId) };
    });

    app.delete('/tokens/:id', async (req) => {
      const { tenantId } = principalOf(req);
      const { id } = parseInput(z.object({ id: z.uuid() }), req.params, 'path');
      const token = await revokeApiToken(services.db, id, tenantId, services.clock.now());
      if (!token) throw notFound(`token ${id}`);
      req.log.info({ tokenId: id }, 'API token revoked');
      return token;
    });
  };
