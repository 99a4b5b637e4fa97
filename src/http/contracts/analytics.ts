import { z } from 'zod';
import type { Analytics } from '../../analytics/dashboard';
import { coversDeep, day, errorResponses, tenantParams } from './common';

const share = z.object({
  amountShare: z.number().nullable(),
  countShare: z.number().nullable(),
  cohortCount: z.number().int(),
});

export const forecastWeek = z.object({
  week: z.number().int(),
  start: day,
  end: day,
  expectedMinor: z.number(),
  cumulativeMinor: z.number(),
  /** Cumulative band (equal to cumulativeMinor for the naive forecast). */
  lowMinor: z.number(),
  highMinor: z.number(),
});

/** The dashboard as of the clock: KPIs, receivables, aging, collection rates, revenue at risk, 13-week forecast. */
export const analyticsBody = coversDeep<Analytics>()(
  z.object({
    asOf: day,
    /** A CSV company's export day (its latest date): the figures are as of the export. Null for a synced ledger. */
    exportDay: day.nullable(),
    currency: z.string(),
    periodDays: z.number().int(),
    kpis: z.object({
      dso: z.number().nullable(),
      dsoCountback: z.number().nullable(),
      dsoCountbackCapped: z.boolean(),
      cei: z.number().nullable(),
      averageDaysDelinquent: z.number().nullable(),
      /** Balance-weighted mean days past due of the overdue open invoices. */
      weightedDaysOverdue: z.number().nullable(),
    }),
    receivables: z.object({
      openMinor: z.number(),
      openCount: z.number().int(),
      currentMinor: z.number(),
      overdueMinor: z.number(),
      overdueCount: z.number().int(),
      periodStartMinor: z.number(),
      creditSalesMinor: z.number(),
      /** Unapplied payments and credit memo balances: openMinor − this = the ledger's A/R balance. */
      unappliedCreditMinor: z.number(),
    }),
    aging: z.array(
      z.object({
        key: z.enum(['current', '1-30', '31-60', '61-90', '90+']),
        label: z.string(),
        count: z.number().int(),
        amountMinor: z.number(),
      }),
    ),
    collected: z.object({ within30: share, within60: share }),
    revenueAtRisk: z.object({
      overdueMinor: z.number(),
      /** null until predictions are available. */
      highRiskMinor: z.number().nullable(),
      highRiskCount: z.number().int().nullable(),
      highRiskThreshold: z.number(),
      /** A switch of models in the last 30 days: its day, open invoices at high risk (all currencies) before/after. */
      modelChange: z
        .object({ on: day, highBefore: z.number().int(), highAfter: z.number().int() })
        .nullable(),
    }),
    forecast: z.object({
      source: z.enum(['due_date', 'predicted']),
      weeks: z.array(forecastWeek),
      /** Open balance already past due (naive) or predicted before today (predicted). */
      pastDueMinor: z.number(),
      /** Expected after the 13th week (the doubtful part included). */
      laterMinor: z.number(),
      /** Of laterMinor: past-due balance its collection chances do not expect within 90 days. */
      doubtfulMinor: z.number(),
    }),
    /** Open invoices in other currencies, left out of every figure above. */
    otherCurrencyOpenInvoices: z.number().int(),
    /** The same per currency, most open invoices first (`?currency=` shows one). */
    otherCurrencies: z.array(z.object({ currency: z.string(), openInvoices: z.number().int() })),
  }),
);

export const analytics = {
  params: tenantParams,
  querystring: z.strictObject({
    period: z.coerce.number().int().min(7).max(365).default(90),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/)
      .optional(),
    /** Force the naive due-date forecast even when predictions exist. */
    forecast: z.enum(['due_date']).optional(),
    /** csv: the same figures as rows (section, item, value), formula-safe. */
    format: z.enum(['json', 'csv']).default('json'),
  }),
  response: {
    200: analyticsBody.or(z.string().meta({ description: 'format=csv: the figures as rows' })),
    ...errorResponses,
  },
} as const;
