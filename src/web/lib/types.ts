/** Shapes of the API responses the app reads (see src/http/routes). */

import type { ConnectorAvailability, QuickbooksAvailability } from '../../demo-company';

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  source: string;
  timezone: string;
  currency: string;
}

export interface InvoiceRow {
  id: string;
  externalId: string;
  number: string | null;
  customerId: string;
  customerExternalId?: string;
  customerName?: string;
  issueDate: string;
  dueDate: string;
  currency: string;
  totalMinor: number;
  balanceMinor: number;
  status: 'open' | 'paid' | 'void' | 'deleted';
  paidDate: string | null;
  daysOverdue: number;
  /** Present once the risk model's predictions are joined in (by the API or from /predictions). */
  pLate?: number | null;
  riskBand?: 'low' | 'medium' | 'high' | null;
  predictedPayDate?: string | null;
  /** The ledger's pay link for the debtor (QuickBooks InvoiceLink), when it has one. */
  payLink?: string | null;
}

export interface Prediction {
  invoiceId: string;
  pLate: number;
  riskBand: 'low' | 'medium' | 'high';
  predictedPayDate: string;
  payDateP10: string;
  payDateP90: string;
}

export interface SyncRun {
  id: string;
  kind: 'full' | 'incremental' | 'import';
  status: 'running' | 'succeeded' | 'failed';
  source: Record<string, unknown>;
  stats: Record<string, number>;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

/** A sync run as GET …/connections shows it (progress: see SyncProgress in src/db/schema/tenants.ts). */
export interface SyncRunView {
  id: string;
  kind: 'full' | 'incremental' | 'import';
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  /** Per entity kind: pages and rows read so far, done; `total` where the connector knows it. */
  progress: { entities: Record<string, { pages: number; rows: number; done: boolean; total?: number }> };
  stats: Record<string, number>;
  error: string | null;
}

export interface Connection {
  id: string;
  provider: string;
  externalId: string;
  status: 'active' | 'reconnect_needed' | 'disconnected';
  statusReason: string | null;
  reconnectUrl: string | null;
  lastSyncAt: string | null;
  /** When the connection's grant lapses (OAuth refresh tokens that expire); null or absent when it does not. */
  refreshExpiresAt?: string | null;
  lastRun: SyncRunView | null;
  runningSync: SyncRunView | null;
}

/** GET /api/v1/integrations (src/http/routes/integrations.ts); the server's own type, type-only. */
export type { ConnectorAvailability };

export interface Integrations {
  quickbooks: QuickbooksAvailability & Partial<ConnectorAvailability>;
  netsuite?: ConnectorAvailability;
}

export interface CustomerRow {
  id: string;
  externalId: string;
  name: string;
  emails: string[];
  openInvoices: number;
  openBalanceMinor: number;
}

export interface CustomerDetail {
  customer: { id: string; externalId: string; name: string; emails: string[]; country: string | null; timezone: string | null };
  /** The app clock's day (UTC) the figures are as of; absent from older servers. */
  asOf?: string;
  openBalance: { currency: string; balanceMinor: number }[];
  invoices: InvoiceRow[];
  payments: {
    id: string;
    externalId: string;
    date: string;
    currency: string;
    amountMinor: number;
    unappliedMinor: number;
    allocations: { invoiceId: string; amountMinor: number; date: string }[];
  }[];
}

// The dashboard's payload is the server's own type (type-only: nothing of the server reaches the bundle).
export type { Analytics } from '../../analytics/dashboard';
export type { ForecastWeek } from '../../analytics/forecast';
