/**
 * The optional signed ping (issue 12: NetSuite has no webhooks; a SuiteScript user-event script may tell Duely that
 * something changed so the next poll runs now instead of in up to NETSUITE_POLL_MINUTES). It carries ids only; the
 * app answers a valid ping by enqueueing an incremental sync of the account, never by trusting the body's data.
 *
 *   POST /webhooks/netsuite
 *   x-duely-timestamp: <unix seconds>
 *   x-duely-signature: v1=<base64 HMAC-SHA256(secret, "<timestamp>.<raw body>")>   (several, space-separated, on rotation)
 *   {"account":"1234567_SB1","events":[{"type":"invoice","id":"5001","operation":"edit","at":"2026-04-15T09:30:00Z"}]}
 *
 * The timestamp is signed and must be within 5 minutes, so a captured ping cannot be replayed later.
 *
 * Each account signs with its own secret, `accountPingSecret(NETSUITE_PING_SECRET, account)` (an HMAC of the
 * account id under the installation's secret; its admins read it on Connections): `verifyAccountPing` takes the
 * account named in the body, derives that account's secret and checks the signature with it, so one company's
 * SuiteScript cannot start polls of another company's account, and the installation's secret never leaves the server.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ConnectorError } from '../errors';
import type { WebhookEvent, WebhookHeaders } from '../types';
import { realmAccountId } from './config';

export const PING_TOLERANCE_S = 300;

const header = (headers: WebhookHeaders, name: string): string | null => {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return (Array.isArray(v) ? v[0] : v) ?? null;
};

export function signPing(rawBody: string, secret: string, timestamp: number): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('base64')}`;
}

export function verifyPing(
  rawBody: Buffer | string,
  headers: WebhookHeaders,
  secret: string,
  now: () => number = Date.now,
): boolean {
  const timestamp = Number(header(headers, 'x-duely-timestamp'));
  const signatures = (header(headers, 'x-duely-signature') ?? '').split(' ').filter(Boolean);
  if (!secret || !Number.isInteger(timestamp) || signatures.length === 0) return false;
  if (Math.abs(now() / 1000 - timestamp) > PING_TOLERANCE_S) return false;
  const expected = Buffer.from(signPing(rawBody.toString(), secret, timestamp));
  return signatures.some((s) => {
    const given = Buffer.from(s);
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** The secret account `account` (either spelling: 1234567-sb1 or 1234567_SB1) signs its pings with. */
export function accountPingSecret(installationSecret: string, account: string): string {
  return createHmac('sha256', installationSecret)
    .update(`duely netsuite ping v1:${realmAccountId(account)}`)
    .digest('base64url');
}

/**
 * verifyPing with the secret of the account the body names (read only to choose the key; the signature covers the
 * body, so the account cannot be swapped). A body without a readable account is refused.
 */
export function verifyAccountPing(
  rawBody: Buffer | string,
  headers: WebhookHeaders,
  installationSecret: string,
  now: () => number = Date.now,
): boolean {
  if (!installationSecret) return false;
  let account: unknown;
  try {
    account = (JSON.parse(rawBody.toString()) as { account?: unknown } | null)?.account;
  } catch {
    return false;
  }
  if (typeof account !== 'string' || account.length === 0 || account.length > 64) return false;
  let secret: string;
  try {
    secret = accountPingSecret(installationSecret, account);
  } catch {
    return false;
  }
  return verifyPing(rawBody, headers, secret, now);
}

const Ping = z.object({
  account: z.string(),
  events: z
    .array(
      z.object({
        type: z.string().min(1).max(64),
        id: z.string().regex(/^\d{1,18}$/),
        operation: z.string().max(32).default('edit'),
        at: z.string().optional(),
      }),
    )
    .max(1000),
});

export function parsePing(rawBody: Buffer | string): WebhookEvent[] {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString());
  } catch (e) {
    throw new ConnectorError({ code: 'validation', message: 'NetSuite ping is not JSON', cause: e });
  }
  const parsed = Ping.safeParse(json);
  if (!parsed.success) {
    throw new ConnectorError({
      code: 'validation',
      message: `NetSuite ping: ${z.prettifyError(parsed.error)}`,
    });
  }
  const externalId = realmAccountId(parsed.data.account);
  return parsed.data.events.map((e) => {
    const ms = e.at ? Date.parse(e.at) : Number.NaN;
    return {
      externalId,
      entity: e.type,
      id: e.id,
      operation: e.operation,
      lastUpdated: Number.isNaN(ms) ? (e.at ?? null) : new Date(ms).toISOString(),
    };
  });
}
