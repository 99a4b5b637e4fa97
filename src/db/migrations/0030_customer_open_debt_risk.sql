ALTER TABLE "customer_risk" ADD COLUMN "habit_score" integer;--> statement-breakpoint
ALTER TABLE "customer_risk" ADD COLUMN "open_debt_score" integer;--> statement-breakpoint
ALTER TABLE "customer_risk" ADD COLUMN "open_debt_reason" text;--> statement-breakpoint
-- Rows scored before: their score was the payment habit alone.
UPDATE "customer_risk" SET "habit_score" = "score";