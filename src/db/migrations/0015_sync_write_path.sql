CREATE TABLE "sync_seen_pages" (
	"connection_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"external_ids" text[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sync_seen_pages" ADD CONSTRAINT "sync_seen_pages_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_seen_pages_connection_kind_idx" ON "sync_seen_pages" USING btree ("connection_id","kind");--> statement-breakpoint
-- A listing in progress keeps what it saw: its ids move over as one array per connection and kind.
INSERT INTO "sync_seen_pages" ("connection_id", "kind", "external_ids") SELECT "connection_id", "kind", array_agg("external_id") FROM "sync_seen_ids" GROUP BY "connection_id", "kind";--> statement-breakpoint
DROP TABLE "sync_seen_ids" CASCADE;