-- A CSV company that connected its ledger under stop 37 code had its file's rows renamed `csv:<id>` at the connect
-- and left open until the ledger's first full listing ended, which marked them deleted. When that sync never ended
-- (the grant revoked part way, a provider's 5xx storm, a killed worker, a disconnect), they stayed open beside the
-- ledger's rows it had written: the Dashboard, the lists and risk counted the same debts twice. A connect now marks
-- them deleted at once (src/db/queries/csv-import.ts releaseImportedRows); this does the same to the released rows
-- still open in a company whose source is its ledger: invoices, payments and credit memos `deleted` (nothing open or
-- remaining, no paid date), customers `deleted_at`, the payments' and credit memos' applications gone. The rows stay
-- (their messages and history); a CSV company's rows (source 'csv', whose own ids may begin `csv:`) are not touched.
-- A company that connected under stop 36 code (its rows kept the file's ids, not renamed) is not repaired here:
-- nothing in its rows tells the file's from the ledger's.
UPDATE "customers" SET "deleted_at" = now(), "source_updated_at" = NULL, "source_version" = NULL, "updated_at" = now()
WHERE "deleted_at" IS NULL AND "external_id" LIKE 'csv:%'
  AND "tenant_id" IN (SELECT "id" FROM "tenants" WHERE "source" <> 'csv');--> statement-breakpoint
UPDATE "invoices" SET "status" = 'deleted', "balance_minor" = 0, "paid_date" = NULL, "source_updated_at" = NULL,
  "source_version" = NULL, "updated_at" = now()
WHERE "status" <> 'deleted' AND "external_id" LIKE 'csv:%'
  AND "tenant_id" IN (SELECT "id" FROM "tenants" WHERE "source" <> 'csv');--> statement-breakpoint
UPDATE "payments" SET "status" = 'deleted', "source_updated_at" = NULL, "source_version" = NULL, "updated_at" = now()
WHERE "status" <> 'deleted' AND "external_id" LIKE 'csv:%'
  AND "tenant_id" IN (SELECT "id" FROM "tenants" WHERE "source" <> 'csv');--> statement-breakpoint
UPDATE "credit_memos" SET "status" = 'deleted', "remaining_minor" = 0, "source_updated_at" = NULL,
  "source_version" = NULL, "updated_at" = now()
WHERE "status" <> 'deleted' AND "external_id" LIKE 'csv:%'
  AND "tenant_id" IN (SELECT "id" FROM "tenants" WHERE "source" <> 'csv');--> statement-breakpoint
-- A deleted payment or credit memo of the file's applies nothing any more.
DELETE FROM "payment_allocations" a
WHERE a."tenant_id" IN (SELECT "id" FROM "tenants" WHERE "source" <> 'csv')
  AND (a."payment_id" IN (SELECT p."id" FROM "payments" p
                          WHERE p."tenant_id" = a."tenant_id" AND p."status" = 'deleted'
                            AND p."external_id" LIKE 'csv:%')
       OR a."credit_memo_id" IN (SELECT m."id" FROM "credit_memos" m
                                 WHERE m."tenant_id" = a."tenant_id" AND m."status" = 'deleted'
                                   AND m."external_id" LIKE 'csv:%'));
