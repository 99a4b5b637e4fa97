CREATE TABLE "ledger_tombstones" (
	"tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"external_id" text NOT NULL,
	"source_updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ledger_tombstones_tenant_id_kind_external_id_pk" PRIMARY KEY("tenant_id","kind","external_id")
);
--> statement-breakpoint
ALTER TABLE "ledger_tombstones" ADD CONSTRAINT "ledger_tombstones_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;