CREATE INDEX "customers_tenant_name_idx" ON "customers" USING btree ("tenant_id",lower("name"),"id");--> statement-breakpoint
CREATE INDEX "invoices_tenant_due_id_idx" ON "invoices" USING btree ("tenant_id","due_date","id");--> statement-breakpoint
CREATE INDEX "invoices_tenant_balance_idx" ON "invoices" USING btree ("tenant_id","balance_minor","id");--> statement-breakpoint
CREATE INDEX "invoices_tenant_total_idx" ON "invoices" USING btree ("tenant_id","total_minor","id");--> statement-breakpoint
CREATE INDEX "invoices_customer_status_idx" ON "invoices" USING btree ("customer_id","status","due_date");--> statement-breakpoint
CREATE INDEX "dunning_messages_customer_status_idx" ON "dunning_messages" USING btree ("customer_id","status","send_at");