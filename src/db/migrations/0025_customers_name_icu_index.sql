DROP INDEX "customers_tenant_name_idx";--> statement-breakpoint
CREATE INDEX "customers_tenant_name_icu_idx" ON "customers" USING btree ("tenant_id",("name" collate "und-x-icu"),"id");