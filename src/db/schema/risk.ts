import { sql } from 'drizzle-orm';
import {
  boolean,
  customType,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt, instant } from './columns';
import { customers, invoices } from './ledger';
import { tenants } from './tenants';

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

export type ModelStatus = 'active' | 'retired' | 'rejected';

/**
 * The model registry: every version ever trained for a tenant, with its metrics and the decision taken on it.
 * The shipped default model lives in models/ and is not stored here; a tenant without an active row uses it.
 */
export const modelVersions = pgTable(
  'model_versions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    version: text('version').notNull(),
    status: text('status').$type<ModelStatus>().notNull(),
    manifest: jsonb('manifest').$type<Record<string, unknown>>().notNull(),
    onnx: bytea('onnx').notNull(),
    /** Comparison on the tenant's most recent slice: challenger vs current model vs heuristic. */
    comparison: jsonb('comparison').$type<Record<string, unknown>>().notNull(),
    reason: text('reason').notNull(),
    createdAt: createdAt(),
    promotedAt: instant('promoted_at'),
  },
  (t) => [
    uniqueIndex('model_versions_version_uq').on(t.tenantId, t.version),
    index('model_versions_tenant_status_idx').on(t.tenantId, t.status),
  ],
);

/** The latest prediction of each open invoice, and which model version made it. */
export const invoicePredictions = pgTable(
  'invoice_predictions',
  {
    invoiceId: uuid('invoice_id')
      .primaryKey()
      .references(() => invoices.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    customerId: uuid('customer_id')
      .notNull()
      .references(() => customers.id, { onDelete: 'cascade' }),
    pLate: doublePrecision('p_late').notNull(),
    predictedPayDate: date('predicted_pay_date', { mode: 'string' }).notNull(),
    payDateP10: date('pay_date_p10', { mode: 'string' }).notNull(),
    payDateP90: date('pay_date_p90', { mode: 'string' }).notNull(),
    expectedDaysLate: doublePrecision('expected_days_late').notNull(),
    /**
     * P(paid within 30 / 90 days of the as-of day), given unpaid then: for an overdue invoice, the chance it is
     * still collected (null from a model without collection heads).
     */
    pCollect30: doublePrecision('p_collect30'),
    pCollect90: doublePrecision('p_collect90'),
    /** What the band was read from: P(late) before the due date, P(not paid within 90 days) once overdue. */
    risk: doublePrecision('risk'),
    riskBand: text('risk_band').$type<'low' | 'medium' | 'high'>().notNull(),
    reasons: jsonb('reasons').$type<string[]>().notNull(),
    modelVersion: text('model_version').notNull(),
    asOf: instant('as_of').notNull(),
    scoredAt: instant('scored_at').notNull().defaultNow(),
  },
  (t) => [index('invoice_predictions_tenant_band_idx').on(t.tenantId, t.riskBand)],
);

/** Per-customer risk score (0–100: 100 × E[min(days late, 90)] / 90), its inputs, trend and slowing-payer alert. */
export const customerRisk = pgTable(
  'customer_risk',
  {
    customerId: uuid('customer_id')
      .primaryKey()
      .references(() => customers.id, { onDelete: 'cascade' }),
    tenantId: uuid('tenant_id')
      .notNull()
      .references(() => tenants.id, { onDelete: 'cascade' }),
    /** The account's score: the worse of habit_score and open_debt_score (scored before migration 0030: the habit). */
    score: integer('score').notNull(),
    /** 0–100: 100 × E[min(days late, 90)] / 90 of a typical new invoice (null: scored before migration 0030). */
    habitScore: integer('habit_score'),
    /**
     * 0–100: the share of the open balance not expected to be collected within 90 days (amount-weighted
     * 1 − P(collected within 90 days)); null when nothing is open.
     */
    openDebtScore: integer('open_debt_score'),
    /** "$4,611 overdue 680+ days, <1% chance of collection within 90 days"; null when no overdue debt is doubtful. */
    openDebtReason: text('open_debt_reason'),
    /** A typical new invoice's P(late), P(more than 30 days late) and days late of its predicted pay date. */
    pLate: doublePrecision('p_late'),
    pSevere: doublePrecision('p_severe'),
    expectedDaysLate: doublePrecision('expected_days_late'),
    trend30: integer('trend30'),
    trend90: integer('trend90'),
    slowingAlert: boolean('slowing_alert').notNull().default(false),
    message: text('message'),
    modelVersion: text('model_version').notNull(),
    asOf: instant('as_of').notNull(),
    scoredAt: instant('scored_at').notNull().defaultNow(),
  },
  (t) => [index('customer_risk_tenant_score_idx').on(t.tenantId, sql`${t.score} desc`)],
);
