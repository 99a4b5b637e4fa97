/** Risk: predictions, customer risk, the model registry, scoring, and the tenant settings the model and emails read. */
import { z } from 'zod';
import type { customerRisk, invoicePredictions } from '../../db/schema';
import { paymentDetailsSchema } from '../../dunning/payment-details';
import { senderSettingsSchema } from '../../dunning/sender-settings';
import { covers, day, errorResponses, instant, riskBand, tenantParams, uuid } from './common';

const predictionFields = {
  pLate: z.number(),
  riskBand,
  predictedPayDate: day,
  payDateP10: day,
  payDateP90: day,
  expectedDaysLate: z.number(),
  /** P(paid within 30 / 90 days of the scoring day), given unpaid then (null: the model has no such estimate). */
  pCollect30: z.number().nullable(),
  pCollect90: z.number().nullable(),
  /** What the band is read from: P(late) before the due date, P(not paid within 90 days) once overdue. */
  risk: z.number().nullable(),
  reasons: z.array(z.string()),
  modelVersion: z.string(),
};

/** A typical new invoice's P(late), P(more than 30 days late), days late of its pay date (null: scored before). */
/**
 * What the score (0–100) is the worse of: the payment habit (a typical new invoice's lateness) and the open debt's
 * collection risk (the share of the open balance not expected within 90 days), with the doubtful debt in words.
 * Null in rows scored before these were stored (habit) or for a customer with nothing open (open debt).
 */
const customerRiskParts = {
  habitScore: z.number().int().nullable(),
  openDebtScore: z.number().int().nullable(),
  openDebtReason: z.string().nullable(),
};
const customerRiskInputs = {
  pLate: z.number().nullable(),
  pSevere: z.number().nullable(),
  expectedDaysLate: z.number().nullable(),
};

export const predictionRow = z.object({
  invoiceId: uuid,
  invoiceExternalId: z.string(),
  number: z.string().nullable(),
  customerId: uuid,
  customerExternalId: z.string(),
  customerName: z.string(),
  dueDate: day,
  balanceMinor: z.number(),
  currency: z.string(),
  ...predictionFields,
  asOf: instant,
});
export const listPredictions = {
  params: tenantParams,
  querystring: z.strictObject({
    band: riskBand.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
    offset: z.coerce.number().int().min(0).default(0),
  }),
  response: {
    200: z.object({ items: z.array(predictionRow), limit: z.number().int(), offset: z.number().int() }),
    ...errorResponses,
  },
} as const;

const predictionRecord = covers<typeof invoicePredictions.$inferSelect>()(
  z.object({
    invoiceId: uuid,
    tenantId: uuid,
    customerId: uuid,
    ...predictionFields,
    asOf: instant,
    scoredAt: instant,
  }),
);
export const invoicePrediction = {
  params: tenantParams.extend({ invoice: z.string().min(1).max(200) }),
  response: { 200: predictionRecord.extend({ invoiceExternalId: z.string() }), ...errorResponses },
} as const;

const customerRiskRecord = covers<typeof customerRisk.$inferSelect>()(
  z.object({
    customerId: uuid,
    tenantId: uuid,
    score: z.number().int(),
    ...customerRiskParts,
    ...customerRiskInputs,
    trend30: z.number().int().nullable(),
    trend90: z.number().int().nullable(),
    slowingAlert: z.boolean(),
    message: z.string().nullable(),
    modelVersion: z.string(),
    asOf: instant,
    scoredAt: instant,
  }),
);

/** A customer's risk; not scored yet is the same shape with nulls (`scored: false`). */
export const customerRiskView = z.object({
  customerExternalId: z.string(),
  customerId: uuid,
  tenantId: uuid,
  scored: z.boolean(),
  score: z.number().int().nullable(),
  ...customerRiskParts,
  ...customerRiskInputs,
  trend30: z.number().int().nullable(),
  trend90: z.number().int().nullable(),
  slowingAlert: z.boolean(),
  message: z.string().nullable(),
  modelVersion: z.string().nullable(),
  asOf: instant.nullable(),
  scoredAt: instant.nullable(),
  band: riskBand.nullable(),
  /** Scores at the scoring day and 30/90 days before it (where known). */
  history: z.array(z.object({ day, score: z.number() })),
  reasons: z.array(z.string()),
});
export const getCustomerRisk = {
  params: tenantParams.extend({ customer: z.string().min(1).max(200) }),
  response: { 200: customerRiskView, ...errorResponses },
} as const;

export const listCustomerRisk = {
  params: tenantParams,
  response: {
    200: z.object({
      items: z.array(customerRiskRecord.extend({ customerExternalId: z.string(), customerName: z.string() })),
    }),
    ...errorResponses,
  },
} as const;

/** A model's validation figures, training metadata and thresholds: documents written by the trainer. */
const document = z.record(z.string(), z.unknown());
const bandCounts = z.object({ low: z.number().int(), medium: z.number().int(), high: z.number().int() });
const modelChange = z.object({
  at: z.string(),
  from: z.string(),
  to: z.string(),
  before: bandCounts,
  after: bandCounts,
});
export const models = {
  params: tenantParams,
  response: {
    200: z.object({
      active: z.object({
        version: z.string(),
        createdAt: z.string(),
        /** 'heuristic': scores come from the customer-history rule of thumb; `validation` is then the shipped model's. */
        scoring: z.enum(['model', 'heuristic']),
        validation: document.nullable(),
        thresholds: z.object({ late: z.number(), medium: z.number() }),
        training: document,
      }),
      /**
       * The last time scoring switched models, and the open invoices by risk band under the previous model's last run
       * and the new one's first (each model sets its own band cuts); null: the tenant has been scored by one model.
       */
      change: modelChange.nullable(),
      versions: z.array(
        z.object({
          version: z.string(),
          status: z.enum(['active', 'retired', 'rejected']),
          reason: z.string(),
          comparison: document,
          createdAt: instant,
          promotedAt: instant.nullable(),
        }),
      ),
    }),
    ...errorResponses,
  },
} as const;

export const score = {
  params: tenantParams,
  body: z.object({}).nullish().meta({ description: 'no fields' }),
  response: { 202: z.object({ queued: z.boolean(), jobId: z.string().nullable() }), ...errorResponses },
} as const;

const sender = z.object({
  companyName: z.string(),
  replyTo: z.string(),
  address: z.array(z.string()),
  phone: z.string().optional(),
});

/**
 * The settings as they take effect (the sender is the one emails use, defaults included). Other keys of the
 * tenant's settings document pass through as they are.
 */
export const settingsView = z
  .object({
    timezone: z.string(),
    locale: z.string(),
    currency: z.string(),
    sensitivity: z.number().optional(),
    paymentDetails: z.object({ url: z.string().optional(), instructions: z.string().optional() }).optional(),
    sendingEnabled: z.boolean(),
    sendingPaused: z.boolean(),
    sequencesReviewed: z.boolean(),
    sender,
    senderCustomised: z.boolean(),
    /** The From header of sent emails (MAIL_FROM), or null when messages stay in the outbox. */
    mailFrom: z.string().nullable(),
  })
  .catchall(z.unknown());

export const settingsPatch = z
  .object({
    /** Moves the late/not-late threshold: +1 flags more invoices as risky, -1 fewer (log-odds). */
    sensitivity: z.number().min(-3).max(3),
    timezone: z
      .string()
      .max(64, { message: 'not an IANA time zone', abort: true })
      .refine((tz) => {
        try {
          new Intl.DateTimeFormat('en', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      }, 'not an IANA time zone'),
    /** A BCP 47 tag the emails' number and date formats take: anything else would fail every render of the tenant. */
    locale: z
      .string()
      .min(2, { message: 'not a locale (e.g. en-US)', abort: true })
      .max(35, { message: 'not a locale (e.g. en-US)', abort: true })
      .refine((locale) => {
        try {
          new Intl.NumberFormat(locale);
          new Intl.DateTimeFormat(locale);
          return true;
        } catch {
          return false;
        }
      }, 'not a locale (e.g. en-US)'),
    /** The sender block of dunning emails; null goes back to the defaults (tenant name, MAIL_FROM's address). */
    sender: senderSettingsSchema.nullable(),
    /** Go-live (src/dunning/go-live.ts): off for a new company; nothing is sent until it is on. */
    sendingEnabled: z.boolean(),
    /** "Pause all sending": stops everything at once; resuming re-plans what waited. */
    sendingPaused: z.boolean(),
    /** First-run checklist: the team has read the reminder sequences. */
    sequencesReviewed: z.boolean(),
    /** "How to pay" in every reminder when an invoice has no pay link; null removes it. */
    paymentDetails: paymentDetailsSchema.nullable(),
  })
  .partial()
  .strict();

export const getSettings = {
  params: tenantParams,
  response: { 200: settingsView, ...errorResponses },
} as const;
export const patchSettings = {
  params: tenantParams,
  body: settingsPatch,
  response: { 200: settingsView, ...errorResponses },
} as const;
