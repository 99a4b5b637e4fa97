import { createHash } from 'node:crypto';
import { type CreateEmailOptions, Resend } from 'resend';
import {
  type BatchMailTransport,
  headerProblem,
  MailSendError,
  MESSAGE_ID_TAG,
  type OutboundEmail,
} from './mail-transport';

export interface ResendTransportOptions {
  apiKey: string;
  /** Tests and self-hosted proxies; defaults to https://api.resend.com. */
  baseUrl?: string;
  /** Attempts for transient failures within one call, before handing back to the job queue. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** POST /emails/batch takes at most 100 emails (https://resend.com/docs/api-reference/emails/send-batch-emails). */
export const RESEND_BATCH_LIMIT = 100;

// Error names: https://resend.com/docs/api-reference/errors. Quotas reset daily/monthly: retryable, but not
// worth a few seconds' backoff inside one job.
const RETRY_NOW = new Set([
  'rate_limit_exceeded',
  'application_error',
  'internal_server_error',
  'concurrent_idempotent_requests',
]);
const RETRY_LATER = new Set(['daily_quota_exceeded', 'monthly_quota_exceeded']);

type SdkResult<T> = {
  data: T | null;
  error: { name: string; message: string; statusCode: number | null } | null;
  headers: Record<string, string> | null;
};

export class ResendTransport implements BatchMailTransport {
  readonly maxBatchSize = RESEND_BATCH_LIMIT;
  private readonly resend: Resend;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(opts: ResendTransportOptions) {
    this.resend = new Resend(opts.apiKey, opts.baseUrl ? { baseUrl: opts.baseUrl } : undefined);
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** POST /emails: https://resend.com/docs/api-reference/emails/send-email */
  async send(msg: OutboundEmail): Promise<{ providerId: string }> {
    refuseUnsafeHeaders(msg);
    // Same key + same body within 24 h returns the original id instead of sending again.
    const data = await this.withRetry(() =>
      this.resend.emails.send(toResend(msg), { idempotencyKey: msg.id }),
    );
    return { providerId: data.id };
  }

  /**
   * POST /emails/batch, strict validation (all or nothing), one idempotency key per chunk derived from its message
   * ids, so a retried chunk with the same messages gets the same provider ids back. Results keep input order.
   */
  async sendBatch(msgs: OutboundEmail[]): Promise<{ providerId: string }[]> {
    for (const msg of msgs) refuseUnsafeHeaders(msg);
    const out: { providerId: string }[] = [];
    for (let i = 0; i < msgs.length; i += RESEND_BATCH_LIMIT) {
      const chunk = msgs.slice(i, i + RESEND_BATCH_LIMIT);
      const key = `batch_${createHash('sha256')
        .update(chunk.map((m) => m.id).join('\n'))
        .digest('hex')
        .slice(0, 48)}`;
      const data = await this.withRetry(() =>
        this.resend.batch.send(chunk.map(toResend), { idempotencyKey: key }),
      );
      if (data.data.length !== chunk.length) {
        throw new MailSendError(
          `batch returned ${data.data.length} ids for ${chunk.length} emails`,
          'application_error',
          null,
          false,
        );
      }
      for (const { id } of data.data) out.push({ providerId: id });
    }
    return out;
  }

  // resend-node resolves to {data, error, headers} and never throws on HTTP errors: the error branch is classified.
  private async withRetry<T>(call: () => Promise<SdkResult<T>>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const { data, error, headers } = await call();
      if (data) return data;
      const failure = classify(error, headers);
      if (!failure.retryable || RETRY_LATER.has(failure.code) || attempt >= this.maxAttempts) throw failure;
      await this.sleep(failure.retryAfterMs ?? this.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}

/** Never hands the provider a header that stored data could have split (not retryable: the data must change). */
function refuseUnsafeHeaders(msg: OutboundEmail): void {
  const problem = headerProblem(msg);
  if (problem) throw new MailSendError(`message ${msg.id} refused: ${problem}`, 'unsafe_header', null, false);
}

function toResend(msg: OutboundEmail): CreateEmailOptions {
  return {
    from: msg.from,
    to: msg.to,
    replyTo: msg.replyTo,
    subject: msg.subject,
    html: msg.html,
    text: msg.text,
    // RFC 8058 one-click unsubscribe; Gmail and Yahoo require both headers from bulk senders.
    headers: msg.unsubscribeUrl
      ? {
          'List-Unsubscribe': `<${msg.unsubscribeUrl}>`,
          'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        }
      : undefined,
    tags: Object.entries({ ...msg.tags, [MESSAGE_ID_TAG]: msg.id }).map(([name, value]) => ({
      name,
      value: tagValue(value),
    })),
  };
}

function classify(
  error: { name: string; message: string; statusCode: number | null } | null,
  headers: Record<string, string> | null,
): MailSendError {
  const code = error?.name ?? 'application_error';
  const status = error?.statusCode ?? null;
  // The SDK reports network failures as application_error with a null status; other null-status errors are its
  // own input validation, which no retry fixes.
  const retryable =
    RETRY_NOW.has(code) || RETRY_LATER.has(code) || (status !== null && (status === 429 || status >= 500));
  return new MailSendError(
    error?.message ?? 'unknown Resend error',
    code,
    status,
    retryable,
    retryAfter(headers),
  );
}

/** Resend sends retry-after in seconds on 429 (https://resend.com/docs/api-reference/rate-limit). */
function retryAfter(headers: Record<string, string> | null): number | undefined {
  const seconds = Number(headers?.['retry-after']);
  return headers?.['retry-after'] && Number.isFinite(seconds) ? Math.max(0, seconds * 1000) : undefined;
}

/** Resend tag values allow only ASCII letters, numbers, underscores and dashes (max 256). */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256);
}
