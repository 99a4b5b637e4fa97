import { hasControlChars, isHeaderSafeAddress } from './header-safe';

/**
 * What the sender hands to a transport: fully rendered, addressed, with a stable id. The id doubles as the
 * provider idempotency key, so a job retried after a crash cannot send the same message twice.
 */
export interface OutboundEmail {
  id: string;
  from: string;
  to: string[];
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** One-click unsubscribe endpoint (RFC 8058); also rendered in the footer. Absent on emails to the team. */
  unsubscribeUrl?: string;
  /** Shown in provider dashboards and echoed back in webhook events; the transport adds MESSAGE_ID_TAG itself. */
  tags: Record<string, string>;
}

/**
 * Why this email must not be handed to any transport, or null: a header-bound field (From, To, Reply-To, Subject,
 * the List-Unsubscribe URL) with a control character would let stored data add headers (`\r\nBcc: …`). The API
 * and the sync refuse such values already; this is the last check, right before the provider.
 */
export function headerProblem(
  msg: Pick<OutboundEmail, 'from' | 'to' | 'replyTo' | 'subject' | 'unsubscribeUrl'>,
): string | null {
  const fields: [string, string | undefined][] = [
    ['from', msg.from],
    ['replyTo', msg.replyTo],
    ['subject', msg.subject],
    ['unsubscribeUrl', msg.unsubscribeUrl],
    ...msg.to.map((t, i): [string, string] => [`to[${i}]`, t]),
  ];
  for (const [name, value] of fields) {
    if (value !== undefined && hasControlChars(value))
      return `${name} contains a line break or control character`;
  }
  const bad = msg.to.findIndex((t) => !isHeaderSafeAddress(t));
  if (bad !== -1) return `to[${bad}] is not a plain email address`;
  if (msg.replyTo !== undefined && !isHeaderSafeAddress(msg.replyTo))
    return 'replyTo is not a plain email address';
  return null;
}

/** Tag carrying OutboundEmail.id to the provider, so webhook events can be matched to our message row. */
export const MESSAGE_ID_TAG = 'message_id';

export interface SendAttemptOptions {
  /** Aborts the request: the caller's bound on one provider call (it holds the invoices' locks meanwhile). */
  signal?: AbortSignal;
}

/**
 * Resend in production; a local outbox (rows in the database) when no API key is configured. `send` is ONE
 * provider attempt: the sender re-checks the ledger before every attempt, so retrying is its job, not the
 * transport's.
 */
export interface MailTransport {
  send(msg: OutboundEmail, opts?: SendAttemptOptions): Promise<{ providerId: string }>;
}

/** A transport that can hand over many messages per request (Resend: 100 per batch, 2 requests/s by default). */
export interface BatchMailTransport extends MailTransport {
  readonly maxBatchSize: number;
  /** All or nothing; provider ids in input order. */
  sendBatch(msgs: OutboundEmail[]): Promise<{ providerId: string }[]>;
  /**
   * ONE batch request (at most maxBatchSize emails) under the caller's idempotency key, strict validation (the
   * provider accepts all or none), bounded like `send`. The caller stores the members and the key before the first
   * call and retries with exactly the same ones (src/dunning/send-batch.ts). Provider ids in input order; an answer
   * whose ids do not match the members one to one throws code 'batch_length_mismatch' (accepted, not mappable).
   */
  sendBatchAttempt(
    msgs: OutboundEmail[],
    opts: SendAttemptOptions & { idempotencyKey: string },
  ): Promise<{ providerId: string }[]>;
}

export function isBatchTransport(t: MailTransport | null | undefined): t is BatchMailTransport {
  return typeof (t as Partial<BatchMailTransport> | null | undefined)?.sendBatchAttempt === 'function';
}

/** A failed send, classified so the job layer knows whether to try again and when. */
export class MailSendError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly statusCode: number | null,
    /** Trying again later may succeed (rate limit, provider outage, quota reset). */
    readonly retryable: boolean,
    /** Earliest sensible retry, when the provider said (retry-after) or the code implies it. */
    readonly retryAfterMs?: number,
    /**
     * The provider may have accepted the email although we got no success answer (timeout, dropped connection,
     * 5xx, an idempotency conflict): the message must not be recorded failed or cancelled, and may be retried only
     * under the same key while the provider still remembers it.
     */
    readonly mayHaveBeenAccepted = false,
  ) {
    super(message);
    this.name = 'MailSendError';
  }
}
