import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { MESSAGE_ID_TAG } from '../mail/transport';

/**
 * Resend delivers webhooks through Svix (Standard Webhooks):
 * https://resend.com/docs/webhooks/verify-webhooks-requests and https://docs.svix.com/receiving/verifying-payloads/how-manual
 * signed content = `${svix-id}.${svix-timestamp}.${rawBody}`, key = base64 part of "whsec_…", HMAC-SHA256,
 * header "svix-signature" = space-separated "v1,<base64>" entries (several while a secret rotates).
 */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export type HeaderBag = Record<string, string | string[] | undefined>;

export type WebhookVerification =
  | { ok: true }
  | {
      ok: false;
      reason:
        | 'missing_headers'
        | 'bad_secret'
        | 'bad_timestamp'
        | 'timestamp_out_of_window'
        | 'no_matching_signature';
    };

export function verifyResendWebhook(input: {
  /** The exact bytes received: re-serialized JSON changes whitespace and breaks the signature. */
  rawBody: string | Buffer;
  headers: HeaderBag;
  secret: string;
  now: Date;
}): WebhookVerification {
  const id = header(input.headers, 'svix-id');
  const timestamp = header(input.headers, 'svix-timestamp');
  const signatures = header(input.headers, 'svix-signature');
  if (!id || !timestamp || !signatures) return { ok: false, reason: 'missing_headers' };

  if (!/^\d+$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp' };
  // The window bounds replay of a captured request; it applies in both directions (clock skew).
  if (Math.abs(input.now.getTime() / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) {
    return { ok: false, reason: 'timestamp_out_of_window' };
  }

  const key = secretKey(input.secret);
  if (!key) return { ok: false, reason: 'bad_secret' };
  const body = typeof input.rawBody === 'string' ? input.rawBody : input.rawBody.toString('utf8');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();

  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: 'no_matching_signature' };
}

function secretKey(secret: string): Buffer | null {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return null;
  return Buffer.from(b64, 'base64');
}

function header(headers: HeaderBag, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

// Events: https://resend.com/docs/webhooks/event-types. Requests take tags as [{name,value}] but events deliver
// an object map; accept both and normalize to the map so downstream code sees one shape.
const tags = z
  .union([z.record(z.string(), z.string()), z.array(z.object({ name: z.string(), value: z.string() }))])
  .optional()
  .transform(
    (t): Record<string, string> =>
      Array.isArray(t) ? Object.fromEntries(t.map((x) => [x.name, x.value])) : (t ?? {}),
  );

const baseData = z.object({
  email_id: z.string(),
  created_at: z.string(),
  from: z.string(),
  to: z.array(z.string()),
  subject: z.string(),
  broadcast_id: z.string().optional(),
  template_id: z.string().optional(),
  tags,
});

const event = <T extends string, D extends z.ZodRawShape>(type: T, extra: D) =>
  z.object({ type: z.literal(type), created_at: z.string(), data: baseData.extend(extra) });

export const resendEventSchema = z.discriminatedUnion('type', [
  event('email.sent', {}),
  event('email.delivered', {}),
  event('email.delivery_delayed', {}),
  event('email.opened', {}),
  event('email.complained', {}),
  event('email.clicked', {
    click: z.object({
      link: z.string(),
      timestamp: z.string(),
      ipAddress: z.string().optional(),
      userAgent: z.string().optional(),
    }),
  }),
  event('email.bounced', {
    // type "Permanent" is a hard bounce (stop mailing the address); "Transient" may recover.
    bounce: z.object({ message: z.string(), type: z.string(), subType: z.string().optional() }),
  }),
  event('email.failed', { failed: z.object({ reason: z.string() }) }),
  event('email.suppressed', { suppressed: z.object({ message: z.string(), type: z.string() }) }),
]);

export type ResendEvent = z.infer<typeof resendEventSchema>;
export type ResendEventType = ResendEvent['type'];

const TRACKED = new Set<string>(resendEventSchema.options.map((o) => o.shape.type.value));

export type ParsedWebhook =
  | { ok: true; event: ResendEvent }
  | { ok: false; reason: 'invalid_json' | 'unsupported_event' | 'invalid_payload'; detail?: string };

/** Parses a verified body. Event types Duely does not track (contact.*, domain.*) come back as unsupported_event. */
export function parseResendEvent(rawBody: string | Buffer): ParsedWebhook {
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid_json' };
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !TRACKED.has(type))
    return { ok: false, reason: 'unsupported_event', detail: String(type) };
  const parsed = resendEventSchema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid_payload', detail: z.prettifyError(parsed.error) };
  return { ok: true, event: parsed.data };
}

export type DeliveryStatus =
  | 'sent'
  | 'delivered'
  | 'delayed'
  | 'opened'
  | 'clicked'
  | 'bounced'
  | 'soft_bounced'
  | 'complained'
  | 'failed'
  | 'suppressed';

export interface DeliveryUpdate {
  /** Our message id from the message_id tag; null for mail Duely did not send through the transport. */
  messageId: string | null;
  providerId: string;
  status: DeliveryStatus;
  at: string;
  /** Stop mailing this recipient: hard bounce, spam complaint, or provider suppression. */
  suppressRecipient: boolean;
  detail: string | null;
}

/** What an event means for our message row and the recipient. */
export function deliveryUpdate(event: ResendEvent): DeliveryUpdate {
  const base = {
    messageId: event.data.tags[MESSAGE_ID_TAG] ?? null,
    providerId: event.data.email_id,
    at: event.created_at,
  };
  switch (event.type) {
    case 'email.sent':
      return { ...base, status: 'sent', suppressRecipient: false, detail: null };
    case 'email.delivered':
      return { ...base, status: 'delivered', suppressRecipient: false, detail: null };
    case 'email.delivery_delayed':
      return { ...base, status: 'delayed', suppressRecipient: false, detail: null };
    case 'email.opened':
      return { ...base, status: 'opened', suppressRecipient: false, detail: null };
    case 'email.clicked':
      return { ...base, status: 'clicked', suppressRecipient: false, detail: event.data.click.link };
    case 'email.bounced': {
      // Permanent = the address does not exist or refuses mail; Transient (mailbox full, …) may recover.
      const hard = event.data.bounce.type === 'Permanent';
      return {
        ...base,
        status: hard ? 'bounced' : 'soft_bounced',
        suppressRecipient: hard,
        detail: event.data.bounce.message,
      };
    }
    case 'email.complained':
      // A spam complaint is the strongest opt-out there is.
      return { ...base, status: 'complained', suppressRecipient: true, detail: null };
    case 'email.failed':
      return { ...base, status: 'failed', suppressRecipient: false, detail: event.data.failed.reason };
    case 'email.suppressed':
      return {
        ...base,
        status: 'suppressed',
        suppressRecipient: true,
        detail: event.data.suppressed.message,
      };
  }
}
