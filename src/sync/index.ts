/**
 * The sync module: a connection's sync run, CSV imports, the live re-read of invoices before a send, invoice PDFs
 * from the host, and connecting a company (OAuth callback, credential form, webhooks). Built once by the composition
 * root from its deps (ports.ts); what follows a ledger change is the caller's `onSynced`/`afterWrite`, how a sync is
 * enqueued its `EnqueueSync`, so sync never imports the job system.
 */

import type { Provider } from '../../connectors';
import type { InvoicePdf, WebhookEvent } from '../../connectors/types';
import type { ConnectionRow } from '../db/queries/connection-lookup';
import { attachCompany, connectWithCredentials, type EnqueueSync, routeWebhookEvents } from './connect-flow';
import { companyLimiter, connectionClient, limiterLookup } from './connections';
import { type CsvInput, type ImportOptions, importHistoryCsv } from './csv-import';
import { fetchInvoicePdf, invoicePdfProviders } from './invoice-pdf';
import { hasLiveRead, refreshInvoicesLive } from './live-refresh';
import type { SyncDeps } from './ports';
import { type RunSyncOptions, runSync } from './run-sync';

export type { SyncDeps } from './ports';

export function createSync(deps: SyncDeps) {
  return {
    /** Runs one connection's sync to the end (or its first error); one at a time per connection. */
    run: (opts: RunSyncOptions) => runSync(deps, opts),
    /** Imports a history CSV into a CSV tenant (created when missing). */
    importCsv: (content: CsvInput, opts: ImportOptions) => importHistoryCsv(deps.db, content, opts),
    /** Whether connections of `provider` can be read live. */
    hasLiveRead,
    /** Re-reads these invoices from the connection's ledger and writes them through the sync's page writer. */
    refreshInvoices: (
      conn: Pick<ConnectionRow, 'id' | 'tenantId' | 'provider' | 'externalId'>,
      invoiceIds: string[],
    ) => refreshInvoicesLive(deps, conn, invoiceIds),
    /** Providers whose invoices can be handed out as PDFs under this configuration. */
    invoicePdfProviders: () => invoicePdfProviders(deps.config),
    invoicePdf: (
      conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>,
      invoiceExternalId: string,
      signal?: AbortSignal,
    ): Promise<InvoicePdf> => fetchInvoicePdf(deps, conn, invoiceExternalId, signal),
    /** The process's request limiter of one company (shared by its sync, live reads, PDFs, probe and connect). */
    limiter: (conn: Pick<ConnectionRow, 'provider' | 'externalId'>) => companyLimiter(deps, conn),
    /** The process's limiters of one provider's companies (for a connect that finds the company itself). */
    limiterFor: (provider: string) => limiterLookup(deps, provider),
    /** An authenticated API client for a stored connection. */
    client: (conn: Pick<ConnectionRow, 'id' | 'provider' | 'externalId'>) => connectionClient(deps, conn),
    connect: {
      attach: (enqueueSync: EnqueueSync, opts: Parameters<typeof attachCompany>[2]) =>
        attachCompany(deps, enqueueSync, opts),
      withCredentials: (enqueueSync: EnqueueSync, opts: Parameters<typeof connectWithCredentials>[2]) =>
        connectWithCredentials(deps, enqueueSync, opts),
      routeWebhook: (enqueueSync: EnqueueSync, provider: Provider, events: readonly WebhookEvent[]) =>
        routeWebhookEvents(deps, enqueueSync, provider, events),
    },
  };
}

export type SyncModule = ReturnType<typeof createSync>;
