/**
 * The QuickBooks connector's environment variables. src/config.ts merges this schema into the app's (one parse at
 * start, errors name the variable); the connector reads the parsed values through QuickbooksConfig.
 */
import { z } from 'zod';

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

export const quickbooksConfigSchema = z.object({
  QUICKBOOKS_CLIENT_ID: optionalString,
  QUICKBOOKS_CLIENT_SECRET: optionalString,
  QUICKBOOKS_ENVIRONMENT: z.enum(['sandbox', 'production']).default('sandbox'),
  QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN: optionalString,
  /**
   * Minutes without a sync after which a connection is synced anyway (one CDC call when nothing changed): webhooks
   * can be missed (Intuit's outages, our endpoint down past Intuit's retries, an entity not subscribed), and Intuit
   * asks for a CDC call to compensate (developer.intuit.com/app/developer/qbo/docs/develop/webhooks/best-practices).
   */
  QUICKBOOKS_POLL_MINUTES: z.coerce
    .number()
    .int()
    .min(5)
    .max(24 * 60)
    .default(60),
  QUICKBOOKS_AUTHORIZE_URL: optionalUrl,
  QUICKBOOKS_TOKEN_URL: optionalUrl,
  QUICKBOOKS_REVOKE_URL: optionalUrl,
  QUICKBOOKS_API_URL: optionalUrl,
  /**
   * The built-in demo company (a generated QuickBooks sandbox company served in-process by `duely serve`):
   * `auto` (default) uses it when QUICKBOOKS_CLIENT_ID is unset; `on` uses it even when credentials are set (they
   * are then ignored); `off` never. It needs the single-process role (`all`): a separate worker process could not
   * reach a sandbox living in the web process. See quickbooksSetup() in src/demo-company.ts.
   */
  QUICKBOOKS_DEMO: z.enum(['auto', 'on', 'off']).default('auto'),
  QUICKBOOKS_USERINFO_URL: optionalUrl,
  QUICKBOOKS_JWKS_URL: optionalUrl,
});
