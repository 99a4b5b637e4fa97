ALTER TABLE "credit_memos" ADD COLUMN "remaining_at_source" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- NetSuite journal entries' A/R lines are read from this version on, by full syncs (with their own listing) and polls.
-- A NetSuite connection already polling has never read the entries made before: its next sync starts as a full sync
-- (a null cursor), which reads every entry once.
UPDATE "connections" SET "sync_cursor" = NULL WHERE "provider" = 'netsuite' AND "sync_cursor" IS NOT NULL;
