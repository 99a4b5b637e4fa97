import pino from 'pino';

export type Logger = pino.Logger;

/**
 * Keys whose values never reach a log line (tokens, secrets, cookies, credentials), at every level. Headers are
 * redacted wherever an object carries them one or two levels down: the request (`req.headers`) and libraries
 * that log their options at trace (@fastify/multipart logs `busboyOptions.headers`).
 */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["intuit-signature"]',
  'req.headers["svix-signature"]',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["x-csrf-token"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["set-cookie"]',
  '*.headers["x-csrf-token"]',
  '*.headers["intuit-signature"]',
  '*.headers["svix-signature"]',
  '*.*.headers.authorization',
  '*.*.headers.cookie',
  '*.*.headers["set-cookie"]',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.accessToken',
  '*.refreshToken',
  '*.idToken',
  '*.credentials',
  '*.password',
  '*.secret',
  '*.token',
  '*.APP_SECRET',
  '*.QUICKBOOKS_CLIENT_SECRET',
  '*.QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN',
  '*.RESEND_API_KEY',
  '*.RESEND_WEBHOOK_SECRET',
];

/** Query parameters that carry a secret: sign-in links, OAuth codes and state, ID tokens, signatures. */
const SECRET_PARAM = /token|code|state|secret|password|signature|sig|nonce|key|assertion|auth/i;
/**
 * Paths whose next segment is a bearer secret: the unsubscribe link (/u/<signed tag>) and the debtor's invoice PDF
 * link (/invoice-pdf/<signed link>, which opens the invoice to whoever has it for 90 days).
 */
const SECRET_PATH_PREFIXES = ['/u/', '/invoice-pdf/'];
const REDACTED = '[redacted]';

/**
 * A URL fit for a log line: the value of every secret-looking query parameter and the signed part of an unsubscribe
 * or invoice PDF link replaced by [redacted]. Anything unparseable is reduced to its path.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  let path = q === -1 ? url : url.slice(0, q);
  for (const prefix of SECRET_PATH_PREFIXES) {
    if (path.startsWith(prefix) && path.length > prefix.length) path = `${prefix}${REDACTED}`;
  }
  if (q === -1) return path;
  try {
    const params = new URLSearchParams(url.slice(q + 1));
    const parts: string[] = [];
    for (const [name, value] of params) {
      const safe = SECRET_PARAM.test(name) ? REDACTED : value;
      parts.push(`${encodeURIComponent(name)}=${safe === REDACTED ? safe : encodeURIComponent(safe)}`);
    }
    return parts.length > 0 ? `${path}?${parts.join('&')}` : path;
  } catch {
    return path;
  }
}

interface LoggedRequest {
  method?: string;
  url?: string;
  host?: string;
  hostname?: string;
  ip?: string;
  socket?: { remotePort?: number };
}

/**
 * The request as it appears in log lines (fastify's "incoming request"): method, URL with secrets redacted, host
 * and peer. Never the headers, so cookies and bearer tokens cannot reach a log through it.
 */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: typeof req.url === 'string' ? redactUrl(req.url) : undefined,
    host: req.host ?? req.hostname,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: redactPaths, censor: REDACTED },
      serializers: { req: serializeRequest },
    },
    destination,
  );
}
