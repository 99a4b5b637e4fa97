import { z } from 'zod';
import type { syncRuns } from '../../db/schema';
import { syncRunKinds } from '../../db/schema/tenants';
import type { ImportResult } from '../../sync/csv-import';
import { covers, errorResponses, instant, tenantParams, uuid } from './common';

/** A line of a CSV accepted with a remark, or refused (422 details). */
const csvIssue = z.object({ line: z.number().int(), column: z.string().nullable(), message: z.string() });

/** POST /api/v1/tenants/:tenant/imports (a text/csv body or a multipart `file`): what the import did. */
export const importResult = covers<ImportResult>()(
  z.object({
    tenant: z.object({ id: uuid, slug: z.string(), name: z.string() }),
    syncRunId: uuid,
    sha256: z.string(),
    rows: z.number().int(),
    customers: z.number().int(),
    invoices: z.object({
      inserted: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      open: z.number().int(),
      paid: z.number().int(),
    }),
    payments: z.object({ upserted: z.number().int(), reversed: z.number().int() }),
    creditNotes: z.number().int(),
    warnings: z.array(csvIssue),
    warningCount: z.number().int(),
    /** Every warning counted by column (its kind), however many are listed in `warnings`. */
    warningsByColumn: z.record(z.string(), z.number().int()),
    /** The file's latest invoice, payment or credit date (YYYY-MM-DD): the ledger is as of that day. */
    asOf: z.string(),
    /** Open balance per currency in minor units, as of `asOf`. */
    openBalance: z.record(z.string(), z.number().int()),
  }),
);
export const importCsv = {
  params: tenantParams,
  /** The raw CSV (text/csv) or a multipart form with a `file` field; read by the handler, not validated here. */
  body: z.unknown().meta({
    description: 'canonical invoice-history CSV: a text/csv body, or multipart/form-data with a file field',
  }),
  response: { 201: importResult, ...errorResponses },
} as const;

export const syncRunRecord = covers<typeof syncRuns.$inferSelect>()(
  z.object({
    id: uuid,
    tenantId: uuid,
    connectionId: uuid.nullable(),
    kind: z.enum(syncRunKinds),
    status: z.enum(['running', 'succeeded', 'failed']),
    source: z.record(z.string(), z.unknown()),
    progress: z.object({
      entities: z.record(
        z.string(),
        z.object({ pages: z.number(), rows: z.number(), done: z.boolean(), total: z.number().optional() }),
      ),
    }),
    stats: z.record(z.string(), z.number()),
    error: z.string().nullable(),
    startedAt: instant,
    finishedAt: instant.nullable(),
    heartbeatAt: instant.nullable(),
  }),
);
export const listSyncRuns = {
  params: tenantParams,
  response: { 200: z.object({ items: z.array(syncRunRecord) }), ...errorResponses },
} as const;
