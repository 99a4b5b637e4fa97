/**
 * What the sync module needs from outside. Infrastructure, plus the process's connection-token refresher and request
 * limiters (built once by the composition root: one instance per process, so refreshes are single-flight and a
 * company's limiter is shared by every sync, live read, invoice PDF, probe and connect of the process). What happens after the ledger
 * changed (scoring, planning) and how a sync is enqueued are ports the caller hands in: `OnSynced` (run-sync.ts)
 * and `EnqueueSync` (connect-flow.ts), implemented by the job workflow, so sync never imports src/jobs.
 */
import type { Tx } from '../db/client';
import type { Infra } from '../infra';
import type { ConnectionTokens } from './connection-tokens';
import type { ProcessLimiters } from './rate-budget';

/**
 * What a page changed that work downstream depends on: the invoices it changed, whether it changed credit on
 * account (a payment, credit memo or journal entry written or deleted) even when no invoice changed with it, and the
 * customers whose addresses it changed (reminders already waiting for them name the old ones).
 */
export interface SyncedEvent {
  tenantId: string;
  changedInvoiceIds: string[];
  creditChanged: boolean;
  /** Absent: none. */
  addressChangedCustomerIds?: string[];
}

/**
 * After a page that changed invoices, credit or a customer's addresses, inside that page's transaction (the job workflow queues scoring, or
 * planning, there, so the job exists exactly when the writes it depends on were committed).
 */
export type OnSynced = (tx: Tx, event: SyncedEvent) => Promise<void>;

/** Enqueues a sync of the connection (inside `tx` when given, so it runs only if the connect commits). */
export type EnqueueSync = (
  connectionId: string,
  reason: 'connect' | 'reconnect' | 'webhook',
  tx?: Tx,
) => Promise<unknown>;

export type SyncDeps = Pick<Infra, 'db' | 'dbh' | 'clock' | 'logger' | 'config' | 'vault'> & {
  tokens: ConnectionTokens;
  limiters: ProcessLimiters;
};
