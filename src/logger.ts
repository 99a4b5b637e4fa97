import pino from 'pino';

export type Logger = pino.Logger;

/** Keys whose values never reach a log line (tokens, secrets, cookies, credentials). */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["intuit-signature"]',
  'req.headers["svix-signature"]',
  '*.access_token',
  '*.refresh_token',
  '*.accessToken',
  '*.refreshToken',
  '*.credentials',
  '*.password',
  '*.secret',
  '*.token',
  '*.APP_SECRET',
  '*.QUICKBOOKS_CLIENT_SECRET',
  '*.RESEND_API_KEY',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' } }, destination);
}
