-- A company that began with a CSV upload and connected its ledger before this version kept source 'csv': its
-- uploaded rows (the file's ids) were never reconciled by the ledger's listings and its balances counted twice, and
-- the rows kept the upload's time, so a ledger record under the same id was taken for older and turned away. As a
-- connect now does (src/sync/connect-flow.ts: setTenantSource, releaseImportedRows): its rows lose their source
-- times and versions, its connections start their next sync as a full one (a null cursor), whose listing marks the
-- upload's rows deleted, and its source becomes the provider it connected (no more CSV uploads into a synced company).
UPDATE "customers" SET "source_updated_at" = NULL, "source_version" = NULL
WHERE "tenant_id" IN (
  SELECT t."id" FROM "tenants" t
  WHERE t."source" = 'csv'
    AND EXISTS (SELECT 1 FROM "connections" c WHERE c."tenant_id" = t."id" AND c."status" <> 'disconnected')
);--> statement-breakpoint
UPDATE "invoices" SET "source_updated_at" = NULL, "source_version" = NULL
WHERE "tenant_id" IN (
  SELECT t."id" FROM "tenants" t
  WHERE t."source" = 'csv'
    AND EXISTS (SELECT 1 FROM "connections" c WHERE c."tenant_id" = t."id" AND c."status" <> 'disconnected')
);--> statement-breakpoint
UPDATE "payments" SET "source_updated_at" = NULL, "source_version" = NULL
WHERE "tenant_id" IN (
  SELECT t."id" FROM "tenants" t
  WHERE t."source" = 'csv'
    AND EXISTS (SELECT 1 FROM "connections" c WHERE c."tenant_id" = t."id" AND c."status" <> 'disconnected')
);--> statement-breakpoint
UPDATE "credit_memos" SET "source_updated_at" = NULL, "source_version" = NULL
WHERE "tenant_id" IN (
  SELECT t."id" FROM "tenants" t
  WHERE t."source" = 'csv'
    AND EXISTS (SELECT 1 FROM "connections" c WHERE c."tenant_id" = t."id" AND c."status" <> 'disconnected')
);--> statement-breakpoint
UPDATE "connections" SET "sync_cursor" = NULL
WHERE "status" <> 'disconnected'
  AND "tenant_id" IN (SELECT "id" FROM "tenants" WHERE "source" = 'csv');--> statement-breakpoint
UPDATE "tenants" SET "source" = (
  SELECT c."provider" FROM "connections" c
  WHERE c."tenant_id" = "tenants"."id" AND c."status" <> 'disconnected'
  ORDER BY c."created_at" LIMIT 1
), "updated_at" = now()
WHERE "source" = 'csv'
  AND EXISTS (SELECT 1 FROM "connections" c WHERE c."tenant_id" = "tenants"."id" AND c."status" <> 'disconnected');
