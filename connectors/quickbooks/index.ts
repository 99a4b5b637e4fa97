/** The QuickBooks Online connector: OAuth spec, API client factory, sync iterators and webhooks. */
import type { Connector } from '../types';
import { QboClient } from './client';
import {
  buildAuthorizeUrl,
  exchangeCode,
  parseCallback,
  QUICKBOOKS_CALLBACK_PARAMS,
  QUICKBOOKS_SCOPES,
  type QuickbooksConfig,
  quickbooksEndpoints,
  refreshTokens,
  revokeToken,
} from './oauth';
import { type QboCursor, quickbooksPages } from './resources';
import { parseWebhook, verifyWebhook } from './webhooks';

export const quickbooks = {
  provider: 'quickbooks',
  displayName: 'QuickBooks Online',
  oauth: {
    scopes: QUICKBOOKS_SCOPES,
    callbackParams: QUICKBOOKS_CALLBACK_PARAMS,
    endpoints: quickbooksEndpoints,
    buildAuthorizeUrl,
    parseCallback,
    exchangeCode,
    refresh: refreshTokens,
    revoke: revokeToken,
  },
  createClient: ({ config, externalId, getAccessToken, onUnauthorized, logger, limiter }) =>
    new QboClient({
      apiBaseUrl: quickbooksEndpoints(config).apiBaseUrl,
      realmId: externalId,
      getAccessToken,
      onUnauthorized,
      logger,
      limiter,
    }),
  sync: { pages: quickbooksPages },
  webhooks: { verify: verifyWebhook, parse: parseWebhook },
} satisfies Connector<QuickbooksConfig, QboClient, QboCursor>;

export { QboClient, type QboClientOptions } from './client';
export type { QuickbooksConfig, QuickbooksEnvironment } from './oauth';
export type { QboCursor, QboSyncOptions } from './resources';
export { fetchQuickbooksInvoicePdf, type InvoicePdf, type InvoicePdfOptions } from './invoice-pdf';
