ALTER TABLE "sessions" ADD COLUMN "user_sub" text;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "user_email" text;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "user_name" text;