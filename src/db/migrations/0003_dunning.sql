CREATE TABLE "contact_suppressions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid,
	"email" text,
	"kind" text NOT NULL,
	"reason" text,
	"message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "disputes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"invoice_id" uuid NOT NULL,
	"opened_on" date NOT NULL,
	"until" date,
	"reason" text,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dunning_message_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid,
	"message_id" text,
	"provider_id" text,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"detail" text,
	"svix_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dunning_message_steps" (
	"tenant_id" uuid NOT NULL,
	"message_id" text NOT NULL,
	"invoice_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"step_key" text NOT NULL,
	"tone" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dunning_messages" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"kind" text DEFAULT 'reminder' NOT NULL,
	"to" text[] NOT NULL,
	"channel" text DEFAULT 'email' NOT NULL,
	"invoice_ids" uuid[] NOT NULL,
	"step_keys" text[] NOT NULL,
	"step_key" text NOT NULL,
	"sequence_id" text,
	"tone" text,
	"template" text NOT NULL,
	"template_version" text,
	"status" text NOT NULL,
	"send_at" timestamp with time zone NOT NULL,
	"requires_approval" boolean DEFAULT false NOT NULL,
	"approval_reason" text,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"edited_subject" text,
	"edited_intro" text,
	"edited_by" text,
	"edited_at" timestamp with time zone,
	"reason" text NOT NULL,
	"status_code" text,
	"status_reason" text,
	"snapshot" jsonb NOT NULL,
	"subject" text,
	"html" text,
	"text" text,
	"provider_id" text,
	"delivery_status" text,
	"error" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dunning_messages_status_ck" CHECK ("dunning_messages"."status" in ('planned','awaiting_approval','queued','sending','sent','skipped','failed'))
);
--> statement-breakpoint
CREATE TABLE "dunning_overrides" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid,
	"invoice_id" uuid,
	"paused_until" date,
	"excluded" boolean DEFAULT false NOT NULL,
	"sequence_id" text,
	"contact_emails" text[],
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "dunning_overrides_target_ck" CHECK (("dunning_overrides"."customer_id" is null) <> ("dunning_overrides"."invoice_id" is null))
);
--> statement-breakpoint
CREATE TABLE "dunning_policies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"version" integer NOT NULL,
	"policy" jsonb NOT NULL,
	"settings" jsonb NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dunning_tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"title" text NOT NULL,
	"invoice_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"talking_points" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"due_on" date,
	"message_id" text,
	"dedupe_key" text NOT NULL,
	"done_by" text,
	"done_at" timestamp with time zone,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "promises_to_pay" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"customer_id" uuid NOT NULL,
	"invoice_ids" uuid[] NOT NULL,
	"promised_date" date NOT NULL,
	"amount_minor" bigint,
	"grace_days" integer DEFAULT 2 NOT NULL,
	"note" text,
	"cancelled_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "contact_suppressions" ADD CONSTRAINT "contact_suppressions_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "contact_suppressions" ADD CONSTRAINT "contact_suppressions_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "disputes" ADD CONSTRAINT "disputes_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_message_events" ADD CONSTRAINT "dunning_message_events_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_message_events" ADD CONSTRAINT "dunning_message_events_message_id_dunning_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."dunning_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_message_steps" ADD CONSTRAINT "dunning_message_steps_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_message_steps" ADD CONSTRAINT "dunning_message_steps_message_id_dunning_messages_id_fk" FOREIGN KEY ("message_id") REFERENCES "public"."dunning_messages"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_message_steps" ADD CONSTRAINT "dunning_message_steps_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_message_steps" ADD CONSTRAINT "dunning_message_steps_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD CONSTRAINT "dunning_messages_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD CONSTRAINT "dunning_messages_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_overrides" ADD CONSTRAINT "dunning_overrides_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_overrides" ADD CONSTRAINT "dunning_overrides_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_overrides" ADD CONSTRAINT "dunning_overrides_invoice_id_invoices_id_fk" FOREIGN KEY ("invoice_id") REFERENCES "public"."invoices"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_policies" ADD CONSTRAINT "dunning_policies_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_tasks" ADD CONSTRAINT "dunning_tasks_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dunning_tasks" ADD CONSTRAINT "dunning_tasks_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises_to_pay" ADD CONSTRAINT "promises_to_pay_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "promises_to_pay" ADD CONSTRAINT "promises_to_pay_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "contact_suppressions_tenant_customer_idx" ON "contact_suppressions" USING btree ("tenant_id","customer_id");--> statement-breakpoint
CREATE INDEX "contact_suppressions_tenant_email_idx" ON "contact_suppressions" USING btree ("tenant_id","email");--> statement-breakpoint
CREATE INDEX "disputes_tenant_invoice_idx" ON "disputes" USING btree ("tenant_id","invoice_id");--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_message_events_svix_uq" ON "dunning_message_events" USING btree ("svix_id");--> statement-breakpoint
CREATE INDEX "dunning_message_events_message_idx" ON "dunning_message_events" USING btree ("message_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_message_steps_invoice_step_uq" ON "dunning_message_steps" USING btree ("tenant_id","invoice_id","step_key");--> statement-breakpoint
CREATE INDEX "dunning_message_steps_message_idx" ON "dunning_message_steps" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "dunning_message_steps_customer_idx" ON "dunning_message_steps" USING btree ("customer_id");--> statement-breakpoint
CREATE INDEX "dunning_messages_tenant_status_send_idx" ON "dunning_messages" USING btree ("tenant_id","status","send_at");--> statement-breakpoint
CREATE INDEX "dunning_messages_customer_idx" ON "dunning_messages" USING btree ("customer_id","created_at");--> statement-breakpoint
CREATE INDEX "dunning_messages_provider_idx" ON "dunning_messages" USING btree ("provider_id");--> statement-breakpoint
CREATE INDEX "dunning_messages_tenant_created_idx" ON "dunning_messages" USING btree ("tenant_id","created_at" desc);--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_overrides_customer_uq" ON "dunning_overrides" USING btree ("tenant_id","customer_id") WHERE "dunning_overrides"."customer_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_overrides_invoice_uq" ON "dunning_overrides" USING btree ("tenant_id","invoice_id") WHERE "dunning_overrides"."invoice_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_policies_tenant_version_uq" ON "dunning_policies" USING btree ("tenant_id","version");--> statement-breakpoint
CREATE UNIQUE INDEX "dunning_tasks_dedupe_uq" ON "dunning_tasks" USING btree ("tenant_id","dedupe_key");--> statement-breakpoint
CREATE INDEX "dunning_tasks_tenant_status_due_idx" ON "dunning_tasks" USING btree ("tenant_id","status","due_on");--> statement-breakpoint
CREATE INDEX "promises_to_pay_tenant_date_idx" ON "promises_to_pay" USING btree ("tenant_id","promised_date");