-- Payments stored before 0026 have no journal_applied: what they paid on a journal entry's A/R debit was dropped,
-- so such a debit still reads as owed. A QuickBooks connection whose tenant holds a journal debit row starts its next
-- sync as a full sync (a null cursor), which reads every payment again and fills journal_applied.
UPDATE "connections" SET "sync_cursor" = NULL
WHERE "provider" = 'quickbooks'
  AND "sync_cursor" IS NOT NULL
  AND EXISTS (
    SELECT 1 FROM "credit_memos" c
    WHERE c."tenant_id" = "connections"."tenant_id" AND c."journal_entry_id" IS NOT NULL AND c."total_minor" < 0
  );
