import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { type CreateEmailOptions, Resend } from 'resend';
import {
  type BatchMailTransport,
  headerProblem,
  MailSendError,
  MESSAGE_ID_TAG,
  type OutboundEmail,
  type SendAttemptOptions,
} from './transport';

export interface ResendTransportOptions {
  apiKey: string;
  /** Tests and self-hosted proxies; defaults to https://api.resend.com. */
  baseUrl?: string;
  /** sendBatch only: attempts for transient failures within one call, before handing back to the job queue. */
  maxAttempts?: number;
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** One request's bound; an answer later than this counts as "may have been accepted". */
  timeoutMs?: number;
}

/** Default bound on one request to Resend, well below the send job's lease (src/dunning/send-message.ts). */
export const RESEND_TIMEOUT_MS = 10_000;
/** A retry-after longer than this is not slept on inside a call: the message goes back to the queue for it. */
export const RETRY_AFTER_CAP_MS = 5_000;

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
/**
 * The sender's account refused the request (401 missing or restricted API key, 403 invalid API key or a sending
 * domain not verified): nothing was queued, and nothing about the email is wrong. Someone fixes the key or the
 * domain; until then every email would meet the same answer, so it waits (an hour at a time), never given up.
 */
const ACCOUNT_CODES = new Set(['missing_api_key', 'restricted_api_key', 'invalid_api_key']);
function accountStatus(e: { code: string; statusCode: number | null }): boolean {
  return e.statusCode === 401 || e.statusCode === 403 || ACCOUNT_CODES.has(e.code);
}

/**
 * Resend refused the request for now (429: a rate limit or a used-up quota), answered before anything was queued:
 * nothing reached anyone, so such a refusal is not an attempt that counts toward giving a message up.
 */
export function refusedForNow(e: { code: string; statusCode: number | null }): boolean {
  return (
    e.statusCode === 429 || e.code === 'rate_limit_exceeded' || RETRY_LATER.has(e.code) || accountStatus(e)
  );
}

/**
 * A used-up daily or monthly quota, or the sender's account refused (see ACCOUNT_CODES): no use retrying within a
 * job, it is retried an hour later at the earliest.
 */
export function retryAnHourLater(e: { code: string; statusCode: number | null }): boolean {
  return RETRY_LATER.has(e.code) || accountStatus(e);
}

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
  private readonly timeoutMs: number;

  constructor(opts: ResendTransportOptions) {
    this.resend = new Resend(opts.apiKey, opts.baseUrl ? { baseUrl: opts.baseUrl } : undefined);
    answeredStatus(this.resend);
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.timeoutMs = opts.timeoutMs ?? RESEND_TIMEOUT_MS;
  }

  /**
   * POST /emails (https://resend.com/docs/api-reference/emails/send-email), one attempt, bounded by timeoutMs.
   * Same key + same body within 24 h returns the original id instead of sending again
   * (https://resend.com/docs/dashboard/emails/idempotency-keys); the caller retries, re-checking first.
   */
  async send(msg: OutboundEmail, opts: SendAttemptOptions = {}): Promise<{ providerId: string }> {
    refuseUnsafeHeaders(msg);
    const data = await this.attempt(
      (signal) => this.resend.emails.send(toResend(msg), { idempotencyKey: msg.id, signal }),
      opts.signal,
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
      const data = await this.withRetry((signal) =>
        this.resend.batch.send(chunk.map(toResend), { idempotencyKey: key, signal }),
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

  /**
   * POST /emails/batch, one attempt, under the caller's key (src/dunning/send-batch.ts stores members and key before
   * the first call). Strict validation: Resend sends the batch only if every email is valid
   * (https://resend.com/changelog/batch-validation-modes), so an answer is all or nothing. A 200 whose ids do not
   * match the members one to one was accepted but cannot be matched by position: 'batch_length_mismatch',
   * not retryable, may have been accepted.
   */
  async sendBatchAttempt(
    msgs: OutboundEmail[],
    opts: SendAttemptOptions & { idempotencyKey: string },
  ): Promise<{ providerId: string }[]> {
    if (msgs.length === 0 || msgs.length > RESEND_BATCH_LIMIT)
      throw new MailSendError(`a batch holds 1 to ${RESEND_BATCH_LIMIT} emails`, 'batch_size', null, false);
    for (const msg of msgs) refuseUnsafeHeaders(msg);
    const data = await this.attempt(
      (signal) =>
        this.resend.batch.send(msgs.map(toResend), {
          idempotencyKey: opts.idempotencyKey,
          batchValidation: 'strict',
          signal,
        }),
      opts.signal,
    );
    const ids = Array.isArray(data?.data) ? data.data.map((d) => d?.id) : [];
    if (ids.length !== msgs.length || ids.some((id) => typeof id !== 'string' || id === '')) {
      throw new MailSendError(
        `batch answered with ${ids.length} ids for ${msgs.length} emails`,
        'batch_length_mismatch',
        200,
        false,
        undefined,
        true,
      );
    }
    return ids.map((id) => ({ providerId: id as string }));
  }

  // resend-node resolves to {data, error, headers} and never throws on HTTP errors: the error branch is classified.
  private async withRetry<T>(call: (signal: AbortSignal) => Promise<SdkResult<T>>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt(call);
      } catch (err) {
        if (!(err instanceof MailSendError)) throw err;
        const wait = err.retryAfterMs ?? this.baseDelayMs * 2 ** (attempt - 1);
        if (
          !err.retryable ||
          retryAnHourLater(err) ||
          attempt >= this.maxAttempts ||
          wait > RETRY_AFTER_CAP_MS
        )
          throw err;
        await this.sleep(wait);
      }
    }
  }

  /** One request, aborted after timeoutMs (or by the caller's signal); a timeout may still have been accepted. */
  private async attempt<T>(
    call: (signal: AbortSignal) => Promise<SdkResult<T>>,
    outer?: AbortSignal,
  ): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    let timer: NodeJS.Timeout | undefined;
    // Belt and braces: the SDK passes the signal to fetch, but the bound must hold even if a version stops doing so.
    const guard = new Promise<never>((_, reject) => {
      const abort = () =>
        reject(new MailSendError('Resend did not answer in time', 'timeout', null, true, undefined, true));
      if (signal.aborted) abort();
      signal.addEventListener('abort', abort, { once: true });
      timer = setTimeout(abort, this.timeoutMs + 1_000);
    });
    try {
      const { data, error, headers } = await Promise.race([call(signal), guard]);
      if (data) return data;
      if (signal.aborted)
        throw new MailSendError('Resend did not answer in time', 'timeout', null, true, undefined, true);
      throw classify(error, headers);
    } finally {
      clearTimeout(timer);
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

/**
 * The HTTP status of each error answer, by its error object. resend-node returns an error body that parses as JSON
 * as it is, so a proxy's or gateway's own answer (a 429 `{"message":"Too Many Requests"}`, no statusCode) lost its
 * status and read as a dropped connection: "may have been accepted", an in-doubt retry and a message that could no
 * longer be re-rendered or skipped, for a request nothing had forwarded. The SDK hands every error answer, with
 * the response's status, to its (debug) logError before returning that same object; that is where it is read.
 * tests/send-path/proxy-answers.test.ts fails if an SDK upgrade stops doing so.
 */
const statusOfAnswer = new WeakMap<object, number>();
/** The status of the error answer the current request got (set by logError, read as its fetchRequest returns). */
const answerOfRequest = new AsyncLocalStorage<{ status?: number }>();
function answeredStatus(resend: Resend): void {
  const sdk = resend as unknown as {
    logError?: (error: unknown, path: string, status?: number) => void;
    fetchRequest?: (
      path: string,
      options?: unknown,
    ) => Promise<{ data: unknown; error: unknown; headers: unknown }>;
  };
  const log = sdk.logError;
  if (typeof log !== 'function') return;
  sdk.logError = function (this: unknown, error, path, status) {
    if (error && typeof error === 'object' && typeof status === 'number') statusOfAnswer.set(error, status);
    const slot = answerOfRequest.getStore();
    if (slot && typeof status === 'number') slot.status = status;
    return log.call(this, error, path, status);
  };
  // An error answer whose JSON body is not an object (null, a bare string or number: a proxy's own words) comes
  // back as that value, or as no error and no data at all: no object to keep its status by. Each request runs with
  // its own slot, so the status logError saw is read back for it alone (requests on one transport run at once).
  const fetchRequest = sdk.fetchRequest;
  if (typeof fetchRequest !== 'function') return;
  sdk.fetchRequest = function (this: unknown, path, options) {
    const slot: { status?: number } = {};
    return answerOfRequest.run(slot, async () => {
      const r = await fetchRequest.call(this, path, options);
      if (slot.status === undefined || (r.error !== null && typeof r.error === 'object')) return r;
      const error = {
        name: 'application_error',
        message: typeof r.error === 'string' && r.error ? r.error : `HTTP ${slot.status}`,
        statusCode: slot.status,
      };
      return { ...r, data: null, error };
    });
  };
}

function classify(
  error: { name: string; message: string; statusCode: number | null } | null,
  headers: Record<string, string> | null,
): MailSendError {
  const code = error?.name ?? 'application_error';
  const status = error?.statusCode ?? (error ? statusOfAnswer.get(error) : undefined) ?? null;
  // The SDK reports network failures as application_error with a null status; other null-status errors are its
  // own input validation, which no retry fixes.
  // 401/403 is the sender's account, not the email (see ACCOUNT_CODES): retryable once someone fixes it.
  const retryable =
    RETRY_NOW.has(code) ||
    RETRY_LATER.has(code) ||
    accountStatus({ code, statusCode: status }) ||
    (status !== null && (status === 429 || status >= 500));
  // Which failures leave the email possibly accepted: the connection dropped or timed out after the body went
  // out (application_error without a status), a 5xx (the provider may have queued it before failing), a 409 on
  // the key (another request with it is in flight, or one with another body was accepted). A 429 and other 4xx
  // are answered before anything is queued.
  const mayHaveBeenAccepted =
    (code === 'application_error' && status === null) ||
    (status !== null && status >= 500) ||
    code === 'concurrent_idempotent_requests' ||
    code === 'invalid_idempotent_request';
  return new MailSendError(
    error?.message ?? 'unknown Resend error',
    code,
    status,
    retryable,
    retryAfter(headers),
    mayHaveBeenAccepted,
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

/** The process's mail transport: Resend when RESEND_API_KEY is set, else null (the local outbox). */
export function mailTransportFromConfig(config: {
  RESEND_API_KEY?: string;
  RESEND_BASE_URL?: string;
}): ResendTransport | null {
  const key = config.RESEND_API_KEY;
  return key ? new ResendTransport({ apiKey: key, baseUrl: config.RESEND_BASE_URL }) : null;
}
