/**
 * GET /api/v1/integrations: which ledgers this server can connect, for the settings app's Connections page. Any
 * signed-in principal may read it, an operator without a tenant too (a brand-new user has no company yet).
 * The shape is keyed by provider (see integrationsView in src/demo-company.ts).
 */
import type { FastifyPluginAsync } from 'fastify';
import { integrationsView } from '../../demo-company';
import type { Services } from '../../app-services';
import * as contract from '../contracts/connections';

export const integrationRoutes =
  (services: Services): FastifyPluginAsync =>
  async (app) => {
    // Needs a signed-in principal (the /api/v1 scope); an operator without a tenant may read it too.
    app.get('/integrations', { schema: contract.listIntegrations }, async () => {
      return integrationsView(services.config, services.demoCompany);
    });
  };
