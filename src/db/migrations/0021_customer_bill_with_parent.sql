ALTER TABLE "customers" ADD COLUMN "parent_external_id" text;--> statement-breakpoint
ALTER TABLE "customers" ADD COLUMN "bill_with_parent" boolean DEFAULT false NOT NULL;