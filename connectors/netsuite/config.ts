/**
 * NetSuite configuration (the variables named in issue 12) and account-id helpers.
 *
 * The app merges `netsuiteConfigSchema` into its one environment schema (src/config.ts); this connector never reads
 * `process.env` itself. Endpoint overrides may contain `{host}`, replaced by the account id in host form, so one
 * override serves every account (e.g. `http://127.0.0.1:4010/{host}` for the local sandbox).
 *
 * Account ids come in two spellings (vendor protocol.json `accountIdForms`; LedgerSync client.rb):
 *  - host form, in every URL: lower case, `_` -> `-`          1234567_SB1 -> 1234567-sb1
 *  - realm form, in the TBA `realm` and the API's `company`:  upper case, `-` -> `_`  -> 1234567_SB1
 */
import { z } from 'zod';
import { ConnectorError } from '../errors';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** A URL, possibly with `{host}` placeholders (checked as a URL once the placeholder is filled). */
const optionalUrlTemplate = optionalString.refine(
  (v) => v === undefined || URL.canParse(v.replaceAll('{host}', 'host')),
  'must be a URL (it may contain {host})',
);

/** PEM private key; `\n` escapes are accepted so the key fits in one environment line. */
const optionalPem = optionalString
  .transform((v) => v?.replaceAll('\\n', '\n'))
  .refine(
    (v) => v === undefined || /-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(v),
    'must be a PEM private key (-----BEGIN PRIVATE KEY-----)',
  );

/** A RESTlet's script and deployment: `customscript…`/`customdeploy…` ids, or internal ids (digits). */
export interface RestletRef {
  script: string;
  deploy: string;
}

/** `script=…&deploy=…` (either order, nothing else) → the two ids; null when it is anything else. */
export function parseRestletRef(value: string): RestletRef | null {
  const params = new URLSearchParams(value.trim());
  const keys = [...params.keys()];
  if (keys.length !== 2 || new Set(keys).size !== 2) return null;
  const script = params.get('script');
  const deploy = params.get('deploy');
  if (!script || !deploy) return null;
  if (!/^(customscript[a-z0-9_]{1,80}|\d{1,12})$/.test(script)) return null;
  if (!/^(customdeploy[a-z0-9_]{1,80}|\d{1,12})$/.test(deploy)) return null;
  return { script, deploy };
}

export const netsuiteConfigSchema = z.object({
  /** Duely's integration record (Token-Based Authentication). */
  NETSUITE_CONSUMER_KEY: optionalString,
  NETSUITE_CONSUMER_SECRET: optionalString,
  /** OAuth 2.0 client of the same (or another) integration record. */
  NETSUITE_CLIENT_ID: optionalString,
  NETSUITE_CLIENT_SECRET: optionalString,
  /** Private key of the certificate mapped for the client-credentials (M2M) grant. */
  NETSUITE_M2M_PRIVATE_KEY: optionalPem,
  /** Base of `/services/rest/...` (default https://{host}.suitetalk.api.netsuite.com). */
  NETSUITE_REST_URL: optionalUrlTemplate,
  NETSUITE_AUTHORIZE_URL: optionalUrlTemplate,
  NETSUITE_TOKEN_URL: optionalUrlTemplate,
  NETSUITE_REVOKE_URL: optionalUrlTemplate,
  /** Base of the account's RESTlets (default https://{host}.restlets.api.netsuite.com). */
  NETSUITE_RESTLET_URL: optionalUrlTemplate,
  /**
   * The invoice-PDF RESTlet deployed in the customer's account (connectors/netsuite/suitescript/duely_invoice_pdf.js):
   * `script=customscript_duely_pdf&deploy=customdeploy_duely_pdf` (script ids or internal ids). Unset: NetSuite
   * reminders carry no PDF link. Parsed strictly: exactly those two parameters, plain ids.
   */
  NETSUITE_PDF_RESTLET: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const parsed = parseRestletRef(v);
    if (!parsed) {
      ctx.addIssue({
        code: 'custom',
        message:
          'must be script=<script id>&deploy=<deployment id> (e.g. script=customscript_duely_pdf&deploy=customdeploy_duely_pdf, or internal ids)',
      });
      return z.NEVER;
    }
    return parsed;
  }),
  /** Signs the optional ping a SuiteScript sends to POST /webhooks/netsuite (unset: pings are refused). */
  NETSUITE_PING_SECRET: optionalString,
  /** Requests in flight per account (NetSuite's pool is shared with the customer's other integrations). */
  NETSUITE_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(3),
  /** Minutes between incremental polls (NetSuite has no webhooks). */
  NETSUITE_POLL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
  /**
   * Custom body field holding the invoice's customer-facing pay link (payment-link SuiteApps store it on the invoice,
   * e.g. custbody_duely_paylink). Interpolated into SuiteQL, so only a plain field id is accepted. Unset: not read.
   */
  NETSUITE_PAY_LINK_FIELD: optionalString.refine(
    (v) => v === undefined || /^custbody[a-z0-9_]{1,90}$/.test(v),
    'must be a custom body field id (custbody followed by letters, digits or _)',
  ),
});

export type NetsuiteConfig = z.infer<typeof netsuiteConfigSchema>;

/** Parses the NetSuite subset of an environment (tests, the CLI); the app merges the schema instead. */
export function parseNetsuiteConfig(env: Record<string, string | undefined>): NetsuiteConfig {
  return netsuiteConfigSchema.parse(env);
}

/** Defaults (Oracle help: section_158081944642 authorize, section_160855590788 token, section_162755359851). */
export const NETSUITE_DEFAULT_URLS = {
  rest: 'https://{host}.suitetalk.api.netsuite.com',
  authorize: 'https://{host}.app.netsuite.com/app/login/oauth2/authorize.nl',
  /** Used when the account is not known yet: NetSuite routes the user to their account. */
  authorizeAnyAccount: 'https://system.netsuite.com/app/login/oauth2/authorize.nl',
  token: 'https://{host}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token',
  revoke: 'https://{host}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/revoke',
  restlets: 'https://{host}.restlets.api.netsuite.com',
} as const;

/** Base of the account's RESTlets (`/app/site/hosting/restlet.nl` is under it). */
export function restletBaseUrl(
  config: Pick<NetsuiteConfig, 'NETSUITE_RESTLET_URL'>,
  accountId: string,
): string {
  return fillHost(config.NETSUITE_RESTLET_URL ?? NETSUITE_DEFAULT_URLS.restlets, accountId);
}

/** Production `1234567`, sandboxes `1234567_SB1`, release previews `1234567_RP`, test drives `tstdrv1236577`. */
const ACCOUNT_ID = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/;

export function isAccountId(value: string): boolean {
  return value.length <= 64 && ACCOUNT_ID.test(value.trim());
}

function checked(accountId: string): string {
  const id = accountId.trim();
  if (!isAccountId(id)) {
    throw new ConnectorError({
      code: 'validation',
      message: `Not a NetSuite account id: ${JSON.stringify(accountId)}`,
      userMessage:
        'That is not a NetSuite account id. Find it under Setup > Company > Company Information (e.g. 1234567 or 1234567_SB1).',
    });
  }
  return id;
}

/** `1234567-sb1` / `1234567_sb1` -> `1234567_SB1` (TBA realm, the callback's `company`, our external id). */
export function realmAccountId(accountId: string): string {
  return checked(accountId).toUpperCase().replaceAll('-', '_');
}

/** `1234567_SB1` -> `1234567-sb1` (the host label in every NetSuite URL). */
export function hostAccountId(accountId: string): string {
  return checked(accountId).toLowerCase().replaceAll('_', '-');
}

/** Fills `{host}` of a configured URL template. */
export function fillHost(template: string, accountId: string): string {
  return template.replaceAll('{host}', hostAccountId(accountId)).replace(/\/+$/, '');
}

export interface NetsuiteEndpoints {
  /** Base of `/services/rest/...` for the account. */
  restUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
}

/** The account's endpoints: overrides first, Oracle's per-account hosts otherwise. */
export function netsuiteEndpoints(
  config: Pick<
    NetsuiteConfig,
    'NETSUITE_REST_URL' | 'NETSUITE_AUTHORIZE_URL' | 'NETSUITE_TOKEN_URL' | 'NETSUITE_REVOKE_URL'
  >,
  accountId: string,
): NetsuiteEndpoints {
  return {
    restUrl: fillHost(config.NETSUITE_REST_URL ?? NETSUITE_DEFAULT_URLS.rest, accountId),
    authorizeUrl: fillHost(config.NETSUITE_AUTHORIZE_URL ?? NETSUITE_DEFAULT_URLS.authorize, accountId),
    tokenUrl: fillHost(config.NETSUITE_TOKEN_URL ?? NETSUITE_DEFAULT_URLS.token, accountId),
    revokeUrl: fillHost(config.NETSUITE_REVOKE_URL ?? NETSUITE_DEFAULT_URLS.revoke, accountId),
  };
}

/** Authorize URL when the admin has not told us the account: the override without `{host}`, else system.netsuite.com. */
export function anyAccountAuthorizeUrl(config: Pick<NetsuiteConfig, 'NETSUITE_AUTHORIZE_URL'>): string {
  const template = config.NETSUITE_AUTHORIZE_URL;
  if (template && !template.includes('{host}')) return template;
  return NETSUITE_DEFAULT_URLS.authorizeAnyAccount;
}

/** Which ways of connecting this configuration supports (for GET /api/v1/integrations). */
export function netsuiteMethods(config: NetsuiteConfig): Array<'tba' | 'oauth2' | 'm2m'> {
  const methods: Array<'tba' | 'oauth2' | 'm2m'> = [];
  if (config.NETSUITE_CONSUMER_KEY && config.NETSUITE_CONSUMER_SECRET) methods.push('tba');
  if (config.NETSUITE_CLIENT_ID && config.NETSUITE_CLIENT_SECRET) methods.push('oauth2');
  if (config.NETSUITE_CLIENT_ID && config.NETSUITE_M2M_PRIVATE_KEY) methods.push('m2m');
  return methods;
}
