ALTER TABLE "credit_memos" ADD COLUMN "journal_entry_id" text;--> statement-breakpoint
ALTER TABLE "credit_memos" ADD COLUMN "number" text;--> statement-breakpoint
CREATE INDEX "credit_memos_journal_idx" ON "credit_memos" USING btree ("tenant_id","journal_entry_id") WHERE "credit_memos"."journal_entry_id" is not null;