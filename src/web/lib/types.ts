/**
 * Shapes of the API responses the app reads: derived from the route contracts (./contracts.ts, type-only), except
 * the connection routes, which are being rewritten into generic connector routes.
 */

import type { ConnectorAvailability, QuickbooksAvailability } from '../../demo-company';
import type {
  AnalyticsAnswer,
  CustomerDetailAnswer,
  CustomerListRow,
  ForecastWeekAnswer,
  InvoiceListItem,
  PredictionRow,
  SyncRunRecord,
  TenantView,
} from './contracts';

export type Tenant = TenantView;

/**
 * An invoice as a table shows it: what the invoice list and the customer page's invoices share; the list adds the
 * customer and, once the model has scored it, the prediction.
 */
export type InvoiceRow = Pick<
  InvoiceListItem,
  | 'id'
  | 'externalId'
  | 'number'
  | 'customerId'
  | 'issueDate'
  | 'dueDate'
  | 'currency'
  | 'totalMinor'
  | 'balanceMinor'
  | 'status'
  | 'paidDate'
  | 'daysOverdue'
> &
  Partial<
    Pick<
      InvoiceListItem,
      'customerExternalId' | 'customerName' | 'pLate' | 'riskBand' | 'predictedPayDate' | 'payLink'
    >
  >;

export type Prediction = Pick<
  PredictionRow,
  'invoiceId' | 'pLate' | 'riskBand' | 'predictedPayDate' | 'payDateP10' | 'payDateP90'
>;

/** A sync run or import as the app shows it. */
export type SyncRun = Pick<
  SyncRunRecord,
  'id' | 'kind' | 'status' | 'source' | 'stats' | 'error' | 'startedAt' | 'finishedAt'
>;

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

export type CustomerRow = CustomerListRow;

type Payment = CustomerDetailAnswer['payments'][number];
/** GET …/customers/:customer, as the customer page reads it. */
export type CustomerDetail = Omit<CustomerDetailAnswer, 'payments'> & {
  payments: (Pick<Payment, 'id' | 'externalId' | 'date' | 'currency' | 'amountMinor' | 'unappliedMinor'> & {
    allocations: (Pick<Payment['allocations'][number], 'invoiceId' | 'amountMinor' | 'date'> &
      Partial<Pick<Payment['allocations'][number], 'creditMemoId'>>)[];
  })[];
};

export type Analytics = AnalyticsAnswer;
export type ForecastWeek = ForecastWeekAnswer;
