DROP INDEX "payment_allocations_payment_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "payment_allocations_payment_line_uq" ON "payment_allocations" USING btree ("payment_id","line_no");