/**
 * GET /api/v1/integrations: which ledgers this server can connect, for the settings app's Connections page. Any
 * signed-in principal may read it, an operator without a tenant too (a brand-new user has no company yet).
 *   { quickbooks: { mode: 'live' | 'demo' | 'unconfigured', connectUrl, demo: {realmId, customers, invoices}, note } }
 */
import type { FastifyPluginAsync } from 'fastify';
import { quickbooksAvailability } from '../../demo-company';
import { unauthorized } from '../../errors';
import type { Services } from '../../services';

export const integrationRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    app.get('/integrations', async (req) => {
      if (!req.principal) throw unauthorized();
      return { quickbooks: quickbooksAvailability(services.config, services.demoCompany) };
    });
  };
