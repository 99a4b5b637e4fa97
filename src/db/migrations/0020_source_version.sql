ALTER TABLE "credit_memos" ADD COLUMN "source_version" bigint;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "source_version" bigint;--> statement-breakpoint
ALTER TABLE "invoices" ADD COLUMN "source_version" bigint;--> statement-breakpoint
ALTER TABLE "payments" ADD COLUMN "source_version" bigint;