import { Resend } from 'resend';
import { type MailTransport, MailSendError, type OutboundEmail } from './mail-transport';

export interface ResendTransportOptions {
  apiKey: string;
  /** Tests and self-hosted proxies; defaults to https://api.resend.com. */
  baseUrl?: string;
  /** Attempts for transient failures within one send call, before handing back to the job queue. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

// Error names: https://resend.com/docs/api-reference/errors. Quotas reset daily/monthly: retryable, but not
// worth a few seconds' backoff inside one job.
const RETRY_NOW = new Set([
  'rate_limit_exceeded',
  'application_error',
  'internal_server_error',
  'concurrent_idempotent_requests',
]);
const RETRY_LATER = new Set(['daily_quota_exceeded', 'monthly_quota_exceeded']);

export class ResendTransport implements MailTransport {
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

  async send(msg: OutboundEmail): Promise<{ providerId: string }> {
    for (let attempt = 1; ; attempt++) {
      // POST /emails: https://resend.com/docs/api-reference/emails/send-email. resend-node resolves to
      // {data, error, headers} and never throws on HTTP errors, so the error branch is the one to classify.
      const { data, error, headers } = await this.resend.emails.send(
        {
          from: msg.from,
          to: msg.to,
          replyTo: msg.replyTo,
          subject: msg.subject,
          html: msg.html,
          text: msg.text,
          // RFC 8058 one-click unsubscribe; Gmail and Yahoo require both headers for bulk senders.
          headers: {
            'List-Unsubscribe': `<${msg.unsubscribeUrl}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          },
          tags: Object.entries(msg.tags).map(([name, value]) => ({ name, value: tagValue(value) })),
        },
        // Same key + same body within 24 h returns the original id instead of sending again.
        { idempotencyKey: msg.id },
      );
      if (data) return { providerId: data.id };

      const failure = classify(error, headers);
      if (!failure.retryable || RETRY_LATER.has(failure.code) || attempt >= this.maxAttempts) throw failure;
      await this.sleep(failure.retryAfterMs ?? this.baseDelayMs * 2 ** (attempt - 1));
    }
  }
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
