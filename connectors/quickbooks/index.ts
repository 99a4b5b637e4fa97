/**
 * The QuickBooks Online connector: its settings, OAuth + identity (Sign in with Intuit), token refresh and revoke
 * with the Intuit app's credentials, API client factory, sync iterators, the live read and webhooks.
 */
import type { ClientCredentials, Connector } from '../types';
import { QboClient } from './client';
import { quickbooksConfigSchema } from './config';
import { identifyQuickbooks } from './identify';
import { readQuickbooksInvoices } from './live-read';
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
import { QBO_LIMITS, RealmLimiter } from './realm-limiter';
import { type QboCursor, quickbooksPages } from './resources';
import { parseWebhook, SIGNATURE_HEADER, verifyWebhook } from './webhooks';

/** The Intuit app's credentials, or null when not configured. */
function credentials(config: QuickbooksConfig): ClientCredentials | null {
  if (!config.QUICKBOOKS_CLIENT_ID || !config.QUICKBOOKS_CLIENT_SECRET) return null;
  return { clientId: config.QUICKBOOKS_CLIENT_ID, clientSecret: config.QUICKBOOKS_CLIENT_SECRET };
}

const CONFIG_HINT = 'set QUICKBOOKS_CLIENT_ID and QUICKBOOKS_CLIENT_SECRET';

/** Credentials for a token call on a stored connection (which exists only if they were configured). */
function requiredCredentials(config: QuickbooksConfig): ClientCredentials {
  const creds = credentials(config);
  if (!creds) throw new Error(`QuickBooks is not configured: ${CONFIG_HINT}`);
  return creds;
}

export const quickbooks = {
  provider: 'quickbooks',
  displayName: 'QuickBooks Online',
  frameAncestors: ['https://*.intuit.com', 'https://*.qbo.intuit.com'],
  configSchema: quickbooksConfigSchema,
  credentials,
  configHint: CONFIG_HINT,
  connect: {
    methods: ['oauth'],
    shortName: 'QuickBooks',
    externalIdInCallback: true,
    stateCookie: 'duely_qbo_oauth',
    signIn: {
      path: '/login/intuit',
      sessionMethod: 'intuit_openid',
      buttonLabel: 'Sign in with Intuit',
      launchText: 'Sign in with your Intuit account to open Duely for this company.',
    },
    launch: true,
    // Intuit's "Disconnect URL": the user disconnected Duely from inside QuickBooks.
    disconnectedPage: {
      title: 'Duely is disconnected from QuickBooks',
      text: 'Duely no longer reads your QuickBooks company and pauses reminders for it. Connect again at any time.',
    },
  },
  refreshTokens: ({ config, refreshToken, signal }) =>
    refreshTokens({
      tokenUrl: quickbooksEndpoints(config).tokenUrl,
      ...requiredCredentials(config),
      refreshToken,
      signal,
    }),
  disconnect: ({ config, refreshToken, signal }) =>
    revokeToken({
      revokeUrl: quickbooksEndpoints(config).revokeUrl,
      ...requiredCredentials(config),
      token: refreshToken,
      signal,
    }),
  oauth: {
    scopes: QUICKBOOKS_SCOPES,
    callbackParams: QUICKBOOKS_CALLBACK_PARAMS,
    endpoints: quickbooksEndpoints,
    buildAuthorizeUrl,
    parseCallback,
    exchangeCode,
    refresh: refreshTokens,
    revoke: revokeToken,
    identify: identifyQuickbooks,
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
  /** One per realm and process, built by the composition root: Intuit's budget (10 in flight, 450 a minute). */
  createLimiter: () => new RealmLimiter(QBO_LIMITS),
  requestBudget: QBO_LIMITS,
  /** Webhooks start a sync at once; the poll is the safety net for the ones that never arrive. */
  poll: { everyMinutes: (config) => config.QUICKBOOKS_POLL_MINUTES ?? 60 },
  sync: { pages: quickbooksPages },
  read: { invoices: readQuickbooksInvoices },
  invoicePdf: fetchQuickbooksInvoicePdf,
  webhooks: {
    verify: verifyWebhook,
    parse: parseWebhook,
    secret: (config) => config.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN,
    secretName: 'QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN',
    signatureHeader: SIGNATURE_HEADER,
    contentTypes: ['application/json', 'application/cloudevents-batch+json', 'application/cloudevents+json'],
  },
} satisfies Connector<QuickbooksConfig, QboClient, QboCursor>;

export { QboClient, type QboClientOptions } from './client';
export { fetchQuickbooksInvoicePdf, type InvoicePdf, type InvoicePdfOptions } from './invoice-pdf';
export type { QuickbooksConfig, QuickbooksEnvironment } from './oauth';
export type { QboCursor, QboSyncOptions } from './resources';

import { fetchQuickbooksInvoicePdf } from './invoice-pdf';
