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

export interface ForecastWeek {
  week: number;
  start: string;
  end: string;
  expectedMinor: number;
  cumulativeMinor: number;
  lowMinor: number;
  highMinor: number;
}

export interface Analytics {
  asOf: string;
  currency: string;
  periodDays: number;
  kpis: {
    dso: number | null;
    dsoCountback: number | null;
    dsoCountbackCapped: boolean;
    cei: number | null;
    averageDaysDelinquent: number | null;
    weightedDaysOverdue: number | null;
  };
  receivables: {
    openMinor: number;
    openCount: number;
    currentMinor: number;
    overdueMinor: number;
    overdueCount: number;
    periodStartMinor: number;
    creditSalesMinor: number;
  };
  aging: { key: string; label: string; count: number; amountMinor: number }[];
  collected: {
    within30: { amountShare: number | null; countShare: number | null; cohortCount: number };
    within60: { amountShare: number | null; countShare: number | null; cohortCount: number };
  };
  revenueAtRisk: { overdueMinor: number; highRiskMinor: number | null; highRiskCount: number | null };
  forecast: { source: 'due_date' | 'predicted'; weeks: ForecastWeek[]; pastDueMinor: number; laterMinor: number };
  otherCurrencyOpenInvoices: number;
}
