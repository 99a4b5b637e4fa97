CREATE TABLE "user_removals" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"email" text,
	"intuit_sub" text,
	"removed_by" text NOT NULL,
	"removed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "user_removals" ADD CONSTRAINT "user_removals_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "user_removals_tenant_email_idx" ON "user_removals" USING btree ("tenant_id","email");--> statement-breakpoint
CREATE INDEX "user_removals_tenant_sub_idx" ON "user_removals" USING btree ("tenant_id","intuit_sub");