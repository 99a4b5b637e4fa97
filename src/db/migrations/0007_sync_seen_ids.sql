CREATE TABLE "sync_seen_ids" (
	"connection_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"external_id" text NOT NULL,
	CONSTRAINT "sync_seen_ids_connection_id_kind_external_id_pk" PRIMARY KEY("connection_id","kind","external_id")
);
--> statement-breakpoint
ALTER TABLE "sync_seen_ids" ADD CONSTRAINT "sync_seen_ids_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;