/**
 * NetSuite REST error bodies -> ConnectorError. Oracle help section_156570709583: every REST error is
 * `{"type","title","status","o:errorDetails":[{"detail","o:errorCode"[,"o:errorPath"|"o:errorQueryParam"...]}]}`
 * (vendor error-401-invalid-login, error-400-invalid-content). Classification uses the HTTP status and
 * `o:errorCode` only, never the text.
 */
import { ConnectorError, type ConnectorErrorCode, codeFromStatus } from '../errors';

export interface NetsuiteErrorDetail {
  code: string;
  detail: string;
  path: string | null;
}

/** Where an admin finds why a login failed (quoted in NetSuite's own INVALID_LOGIN detail). */
export const LOGIN_AUDIT_TRAIL = 'Setup > Users/Roles > User Management > View Login Audit Trail';

const CODES: Record<string, ConnectorErrorCode> = {
  INVALID_LOGIN: 'unauthorized',
  INVALID_LOGIN_ATTEMPT: 'unauthorized',
  INSUFFICIENT_PERMISSION: 'forbidden',
  FEATURE_DISABLED: 'forbidden',
  CONCURRENCY_LIMIT_EXCEEDED: 'rate_limited',
  NONEXISTENT_ID: 'not_found',
  RECORD_NOT_FOUND: 'not_found',
  INVALID_CONTENT: 'validation',
  USER_ERROR: 'validation',
  INVALID_PARAMETER: 'validation',
  ACCOUNT_SUSPENDED: 'subscription_lapsed',
  // RESTlets (Duely's invoice-PDF script): SuiteScript errors and the script's own.
  RCRD_DSNT_EXIST: 'not_found',
  DUELY_INVOICE_NOT_FOUND: 'not_found',
  SSS_MISSING_REQD_ARGUMENT: 'validation',
  INSUFFICIENT_PERMISSION_RESTLET: 'forbidden',
};

const USER_MESSAGES: Partial<Record<ConnectorErrorCode, string>> = {
  unauthorized: `NetSuite refused the login (INVALID_LOGIN). A NetSuite administrator can see why in the Login Audit Trail (${LOGIN_AUDIT_TRAIL}): check the token belongs to Duely's integration and an active role, and that it was not revoked.`,
  forbidden:
    "NetSuite refused the request: the role of Duely's token lacks a permission (see the permission checklist on the Connections page).",
};

export function parseErrorBody(text: string): NetsuiteErrorDetail[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [];
  }
  // A RESTlet's error: {"error": {"code", "message"}} (SuiteScript's N/error, or a script error thrown on purpose).
  const restlet = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (restlet && typeof restlet === 'object' && typeof restlet.code === 'string') {
    return [
      {
        code: restlet.code,
        detail: typeof restlet.message === 'string' ? restlet.message : '',
        path: null,
      },
    ];
  }
  const list = (json as { 'o:errorDetails'?: unknown } | null)?.['o:errorDetails'];
  if (!Array.isArray(list)) return [];
  return list
    .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null)
    .map((d) => ({
      code: typeof d['o:errorCode'] === 'string' ? d['o:errorCode'] : '',
      detail: typeof d.detail === 'string' ? d.detail : '',
      path:
        typeof d['o:errorPath'] === 'string'
          ? d['o:errorPath']
          : typeof d['o:errorQueryParam'] === 'string'
            ? d['o:errorQueryParam']
            : null,
    }));
}

/**
 * The typed error for a failed answer. `query` marks a SuiteQL request: a 400 there without a more specific code
 * is a rejected query (`invalid_query`), which retrying cannot fix.
 */
export function errorFromResponse(
  status: number,
  text: string,
  options: { query?: boolean } = {},
): ConnectorError {
  const details = parseErrorBody(text);
  const first = details[0];
  const providerCode = first?.code || null;
  let code = (providerCode ? CODES[providerCode] : undefined) ?? codeFromStatus(status);
  if (status === 429) code = 'rate_limited';
  if (status === 401) code = 'unauthorized';
  if (options.query && status === 400 && (code === 'validation' || !providerCode)) code = 'invalid_query';
  const summary = first ? `${first.detail}${first.path ? ` (${first.path})` : ''}` : `HTTP ${status}`;
  return new ConnectorError({
    code,
    status,
    providerCode,
    message: `NetSuite ${status} ${providerCode ?? ''}: ${summary}`.replace(/ +/g, ' '),
    userMessage: USER_MESSAGES[code],
  });
}
