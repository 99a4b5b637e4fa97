CREATE TABLE "rate_budgets" (
	"key" text PRIMARY KEY NOT NULL,
	"starts" double precision[] DEFAULT '{}'::double precision[] NOT NULL,
	"paused_until" timestamp with time zone
);
