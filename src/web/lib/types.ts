/** Shapes of the API responses the app reads (see src/http/routes). */

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

export interface Connection {
  id: string;
  provider: string;
  externalId: string;
  status: 'active' | 'reconnect_needed' | 'disconnected';
  statusReason: string | null;
  reconnectUrl: string | null;
  lastSyncAt: string | null;
  lastRun: { status: string; finishedAt: string | null; error: string | null } | null;
  runningSync: { status: string } | null;
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
