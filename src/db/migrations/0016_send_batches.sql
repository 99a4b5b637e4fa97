CREATE TABLE "dunning_send_batches" (
	"id" text PRIMARY KEY NOT NULL,
	"idempotency_key" text NOT NULL,
	"member_ids" text[] NOT NULL,
	"payload" text NOT NULL,
	"status" text NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"call_started_at" timestamp with time zone,
	"in_doubt_since" timestamp with time zone,
	"calls" integer DEFAULT 0 NOT NULL,
	"error" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dunning_send_batches_status_ck" CHECK ("dunning_send_batches"."status" in ('open','sent','abandoned','unconfirmed'))
);
--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD COLUMN "batch_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_send_batches_key_uq" ON "dunning_send_batches" USING btree ("idempotency_key");--> statement-breakpoint
CREATE INDEX "dunning_send_batches_status_idx" ON "dunning_send_batches" USING btree ("status","lease_until");--> statement-breakpoint
CREATE INDEX "dunning_messages_batch_idx" ON "dunning_messages" USING btree ("batch_id");