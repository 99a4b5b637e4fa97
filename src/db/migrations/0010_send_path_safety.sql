ALTER TABLE "dunning_messages" DROP CONSTRAINT "dunning_messages_status_ck";--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD COLUMN "rendered_as_of" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD COLUMN "lease_owner" text;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD COLUMN "lease_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD COLUMN "attempt_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD COLUMN "in_doubt_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "dunning_messages" ADD CONSTRAINT "dunning_messages_status_ck" CHECK ("dunning_messages"."status" in ('planned','awaiting_approval','queued','sending','sent','skipped','failed','unconfirmed'));--> statement-breakpoint
-- Hand-written (not generated): a send holds FOR SHARE on its customer's row (and its invoices' rows) from the
-- pre-send re-check until the provider answered (src/dunning/send-message.ts). Payments and credits update the
-- invoice rows and so wait for it; these triggers make the other things that stop a reminder (a dispute, a pause or
-- exclusion, a promise to pay, an unsubscribe/bounce) take a conflicting lock on the customer row too, whatever code
-- path writes them. A write therefore either commits before the re-check (which sees it) or after the provider call.
CREATE OR REPLACE FUNCTION duely_wait_for_send() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'disputes' THEN
    PERFORM 1 FROM customers c WHERE c.id = (SELECT i.customer_id FROM invoices i WHERE i.id = NEW.invoice_id)
      FOR NO KEY UPDATE;
  ELSIF TG_TABLE_NAME = 'dunning_overrides' THEN
    PERFORM 1 FROM customers c
      WHERE c.id = coalesce(NEW.customer_id, (SELECT i.customer_id FROM invoices i WHERE i.id = NEW.invoice_id))
      FOR NO KEY UPDATE;
  ELSIF TG_TABLE_NAME = 'promises_to_pay' THEN
    PERFORM 1 FROM customers c WHERE c.id = NEW.customer_id FOR NO KEY UPDATE;
  ELSIF TG_TABLE_NAME = 'contact_suppressions' THEN
    PERFORM 1 FROM customers c
      WHERE c.tenant_id = NEW.tenant_id
        AND (c.id = NEW.customer_id
             OR (NEW.email IS NOT NULL AND lower(NEW.email) = ANY (SELECT lower(e) FROM unnest(c.emails) e)))
      ORDER BY c.id
      FOR NO KEY UPDATE;
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER disputes_wait_for_send BEFORE INSERT OR UPDATE ON disputes
  FOR EACH ROW EXECUTE FUNCTION duely_wait_for_send();--> statement-breakpoint
CREATE TRIGGER dunning_overrides_wait_for_send BEFORE INSERT OR UPDATE ON dunning_overrides
  FOR EACH ROW EXECUTE FUNCTION duely_wait_for_send();--> statement-breakpoint
CREATE TRIGGER promises_to_pay_wait_for_send BEFORE INSERT OR UPDATE ON promises_to_pay
  FOR EACH ROW EXECUTE FUNCTION duely_wait_for_send();--> statement-breakpoint
CREATE TRIGGER contact_suppressions_wait_for_send BEFORE INSERT OR UPDATE ON contact_suppressions
  FOR EACH ROW EXECUTE FUNCTION duely_wait_for_send();
