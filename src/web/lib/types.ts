/**
 * Shapes of the API responses the app reads: derived from the route contracts (./contracts.ts, type-only).
 */

import type { QuickbooksAvailability } from '../../demo-company';
import type {
  AnalyticsAnswer,
  ConnectionAnswer,
  ConnectionRunAnswer,
  ConnectorAvailabilityAnswer,
  CustomerDetailAnswer,
  CustomerListRow,
  ForecastWeekAnswer,
  IntegrationsAnswer,
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
      | 'customerExternalId'
      | 'customerName'
      | 'pLate'
      | 'riskBand'
      | 'predictedPayDate'
      | 'payLink'
      | 'pCollect30'
      | 'pCollect90'
    >
  >;

export type Prediction = Pick<
  PredictionRow,
  'invoiceId' | 'pLate' | 'riskBand' | 'predictedPayDate' | 'payDateP10' | 'payDateP90'
> &
  Partial<Pick<PredictionRow, 'pCollect30' | 'pCollect90'>>;

/** A sync run or import as the app shows it. */
export type SyncRun = Pick<
  SyncRunRecord,
  'id' | 'kind' | 'status' | 'source' | 'stats' | 'error' | 'startedAt' | 'finishedAt'
>;

/** A sync run as GET …/connections shows it (progress: see SyncProgress in src/db/schema/tenants.ts). */
export type SyncRunView = ConnectionRunAnswer;

export type Connection = ConnectionAnswer;

/** GET /api/v1/integrations (src/http/routes/integrations.ts): keyed by provider. */
export type ConnectorAvailability = ConnectorAvailabilityAnswer;
/** The QuickBooks entry is always present (it carries the built-in demo company when this server runs one). */
export type Integrations = IntegrationsAnswer & {
  quickbooks: ConnectorAvailability & { demo: QuickbooksAvailability['demo'] };
};

export type CustomerRow = CustomerListRow;

type Payment = CustomerDetailAnswer['payments'][number];
/** GET …/customers/:customer, as the customer page reads it. */
export type CustomerDetail = Omit<CustomerDetailAnswer, 'payments'> & {
  payments: (Pick<Payment, 'id' | 'externalId' | 'date' | 'currency' | 'amountMinor' | 'unappliedMinor'> &
    Partial<Pick<Payment, 'journalApplied'>> & {
      allocations: (Pick<Payment['allocations'][number], 'invoiceId' | 'amountMinor' | 'date'> &
        Partial<Pick<Payment['allocations'][number], 'creditMemoId'>>)[];
    })[];
};

export type Analytics = AnalyticsAnswer;
export type ForecastWeek = ForecastWeekAnswer;
