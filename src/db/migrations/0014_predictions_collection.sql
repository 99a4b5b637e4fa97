ALTER TABLE "customer_risk" ADD COLUMN "p_late" double precision;--> statement-breakpoint
ALTER TABLE "customer_risk" ADD COLUMN "p_severe" double precision;--> statement-breakpoint
ALTER TABLE "customer_risk" ADD COLUMN "expected_days_late" double precision;--> statement-breakpoint
ALTER TABLE "invoice_predictions" ADD COLUMN "p_collect30" double precision;--> statement-breakpoint
ALTER TABLE "invoice_predictions" ADD COLUMN "p_collect90" double precision;--> statement-breakpoint
ALTER TABLE "invoice_predictions" ADD COLUMN "risk" double precision;