-- When scoring switches models (a tenant model promoted, the rule of thumb taken up, the shipped default back), the
-- open invoices by risk band under the previous model and the new one: each model sets its own band cuts, so the
-- Dashboard's high-risk count could halve with no invoice changing and nothing said why.
ALTER TABLE "tenants" ADD COLUMN "model_change" jsonb;
