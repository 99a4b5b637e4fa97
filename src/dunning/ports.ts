/**
 * What the dunning module needs from outside, declared here (by the consumer) and wired by the composition root
 * (src/services.ts): infrastructure, the job queue (job-port.ts, implemented over pg-boss in src/jobs), the risk
 * module's customer bands, and the sync module's live ledger re-read and invoice-PDF hosts. Dunning imports none
 * of those modules: a test wires fakes for the ports it touches and no queue.
 */
import type { DbOrTx } from '../db/client';
import type { ConnectionRow } from '../db/queries/connection-lookup';
import type { Infra } from '../infra';
import type { DunningJobPort } from './job-port';
import type { RiskBand } from './policy';

export type { DunningJobPort } from './job-port';

/** Implemented by the risk module (createRisk). */
export interface RiskBands {
  /** The tenant's score → band cut, read through `db` (the planner passes its transaction). */
  bandsFor(
    tenant: { id: string; settings: Record<string, unknown> },
    db: DbOrTx,
  ): Promise<(score: number) => RiskBand>;
}

/** Implemented by the sync module (createSync): the ledger read live right before a send, and PDF hosts. */
export interface LedgerRefresh {
  /** Whether connections of `provider` can be read live. */
  hasLiveRead(provider: string): boolean;
  /**
   * Re-reads these invoices from the connection's ledger and writes their current state; returns what the ledger
   * said of each invoice it answered for (the send's final check compares it with the rows it locks).
   */
  refreshInvoices(
    conn: Pick<ConnectionRow, 'id' | 'tenantId' | 'provider' | 'externalId'>,
    invoiceIds: string[],
  ): Promise<LedgerInvoiceRead[]>;
  /** Providers whose invoices can be handed out as PDFs under this configuration (emails link only those). */
  invoicePdfProviders(): readonly string[];
}

export type DunningDeps = Pick<Infra, 'db' | 'dbh' | 'clock' | 'logger' | 'config' | 'mailer'> & {
  dunningJobs: DunningJobPort;
  risk: RiskBands;
  sync: LedgerRefresh;
  /**
   * Invoices whose host had no pay link, by id → when last asked (real time); per process, built by the root
   * (payment-details.ts re-asks after PAY_LINK_RECHECK_MS).
   */
  payLinkChecks: Map<string, number>;
};

/** What the ledger said of one invoice in a live read, moments before the send's final check. */
export interface LedgerInvoiceRead {
  invoiceId: string;
  status: 'open' | 'paid' | 'void' | 'deleted';
  balanceMinor: number;
}
