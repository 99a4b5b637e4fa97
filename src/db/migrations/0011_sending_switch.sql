-- Go-live switch (issue 14): tenants.settings.sendingEnabled, off for every new company (absent = off).
-- Existing companies that have already sent a reminder were live: they stay live. Every other existing company
-- never had a message leave, so it starts like a new one: sending off until the team switches it on.
UPDATE "tenants" t
SET "settings" = t."settings" || jsonb_build_object(
  'sendingEnabled',
  EXISTS (SELECT 1 FROM "dunning_messages" m WHERE m."tenant_id" = t."id" AND m."status" = 'sent')
)
WHERE NOT (t."settings" ? 'sendingEnabled');
