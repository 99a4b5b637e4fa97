/**
 * A local Resend: POST /emails with Resend's idempotency semantics (same key + same body within 24 h → the first
 * id, nothing sent again; same key + another body → 409 invalid_idempotent_request; a key older than 24 h is
 * forgotten), and faults injected per request: 429 with retry-after, 5xx (optionally after accepting), slow
 * answers, and a connection dropped before or after the email was accepted. `deliveries` is what debtors got.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'ok' }
  /** Rate limited (`rate_limit_exceeded` unless `name` says e.g. `daily_quota_exceeded`); no Retry-After when unset. */
  | { kind: '429'; retryAfterSeconds?: number; name?: string }
  /** A definite refusal answered before anything is queued: 401/403 (the API key, the sending domain), 422 (the email). */
  | { kind: 'refused'; status: number; name: string }
  | { kind: '5xx'; status?: number; accepted?: boolean }
  | { kind: 'slow'; ms: number }
  | { kind: 'drop-before' }
  | { kind: 'drop-after' }
  /** Batch only: accepted (all delivered), but the 200 lists `ids` ids (fewer or more than the emails). */
  | { kind: 'short'; ids: number }
  /**
   * A proxy or gateway in front of Resend answers `status` itself, nothing forwarded, with a JSON body not in
   * Resend's shape (no statusCode, no name).
   */
  | {
      kind: 'proxy';
      status: number;
      retryAfterSeconds?: number;
      /** The answer's JSON body (an object by default; a proxy may answer a bare string or null). */
      body?: unknown;
    };

export interface Delivery {
  id: string;
  key: string;
  messageId: string | undefined;
  to: string[];
  subject: string;
  text: string;
  /** performance.now() when the request arrived (before its answer). */
  receivedAt: number;
}

const KEY_TTL_MS = 24 * 3_600_000;

export class ResendStandIn {
  readonly deliveries: Delivery[] = [];
  readonly requests: {
    key: string;
    messageId: string | undefined;
    /** POST /emails/batch: the members' message ids in body order. */
    batch?: string[];
    receivedAt: number;
    fault: Fault['kind'];
  }[] = [];
  /** Faults for the next requests, in order; then `faultFor` (default: answer normally). */
  readonly queue: Fault[] = [];
  faultFor: (key: string) => Fault = () => ({ kind: 'ok' });
  private readonly keys = new Map<string, { hash: string; id: string; at: number; ids?: string[] }>();
  private readonly inFlight = new Set<string>();
  private server!: Server;
  private seq = 0;
  url = '';

  /** `now` is the stand-in's clock for the 24 h key window (tests pass the app's manual clock). */
  constructor(private readonly now: () => number = () => Date.now()) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  reset(): void {
    this.deliveries.length = 0;
    this.requests.length = 0;
    this.queue.length = 0;
    this.keys.clear();
    this.inFlight.clear();
    this.faultFor = () => ({ kind: 'ok' });
  }

  deliveriesOf(messageId: string): Delivery[] {
    return this.deliveries.filter((d) => d.messageId === messageId);
  }

  private handling = 0;

  /**
   * Resolves once no request is being handled: a slow request a client gave up on may still be delivering, and a
   * caller about to reset() must not see that delivery land in the next round.
   */
  async idle(): Promise<void> {
    while (this.handling > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.handling++;
    try {
      await this.handleRequest(req, res);
    } finally {
      this.handling--;
    }
  }

  private async handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (req.method === 'POST' && req.url === '/emails/batch')
      return this.handleBatch(req, res, raw, receivedAt);
    if (req.method !== 'POST' || req.url !== '/emails')
      return json(res, 404, { name: 'not_found', message: 'no' });
    const body = JSON.parse(raw) as {
      to: string[];
      subject: string;
      text: string;
      tags?: { name: string; value: string }[];
    };
    const key = String(req.headers['idempotency-key'] ?? '');
    const messageId = body.tags?.find((t) => t.name === 'message_id')?.value;
    const fault = this.queue.shift() ?? this.faultFor(key);
    this.requests.push({ key, messageId, receivedAt, fault: fault.kind });
    if (fault.kind === 'refused') {
      return json(res, fault.status, {
        statusCode: fault.status,
        name: fault.name,
        message: `stand-in: ${fault.name}`,
      });
    }
    if (fault.kind === 'proxy') {
      return json(
        res,
        fault.status,
        'body' in fault ? fault.body : { message: 'Too Many Requests', error: 'proxy' },
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      );
    }
    if (fault.kind === '429') {
      return json(
        res,
        429,
        { statusCode: 429, name: fault.name ?? 'rate_limit_exceeded', message: 'Too many requests' },
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      );
    }
    if (fault.kind === 'drop-before') {
      req.socket.destroy();
      return;
    }
    // A second request with a key still being processed: Resend answers 409 concurrent_idempotent_requests.
    if (key && this.inFlight.has(key)) {
      return json(res, 409, {
        statusCode: 409,
        name: 'concurrent_idempotent_requests',
        message: 'Same idempotency key used while original request is still in progress.',
      });
    }
    if (key) this.inFlight.add(key);
    try {
      await this.process(req, res, raw, body, key, messageId, receivedAt, fault);
    } finally {
      if (key) this.inFlight.delete(key);
    }
  }

  /**
   * POST /emails/batch as Resend documents it: strict validation (all or nothing), the Idempotency-Key on the whole
   * request (same key + same body → the first answer's ids, nothing sent again; another body → 409), `{data:[{id}]}`
   * in body order. Faults as for /emails, plus 'short' (accepted, but the answer lists a different number of ids).
   */
  private async handleBatch(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    receivedAt: number,
  ): Promise<void> {
    const body = JSON.parse(raw) as BatchBody;
    const key = String(req.headers['idempotency-key'] ?? '');
    const ids = body.map((e) => e.tags?.find((t) => t.name === 'message_id')?.value ?? '');
    const fault = this.queue.shift() ?? this.faultFor(key);
    this.requests.push({ key, messageId: undefined, batch: ids, receivedAt, fault: fault.kind });
    if (req.headers['x-batch-validation'] !== 'strict') {
      return json(res, 400, { statusCode: 400, name: 'validation_error', message: 'stand-in: strict only' });
    }
    if (fault.kind === 'refused') {
      return json(res, fault.status, {
        statusCode: fault.status,
        name: fault.name,
        message: `stand-in: ${fault.name}`,
      });
    }
    if (fault.kind === 'proxy') {
      return json(
        res,
        fault.status,
        'body' in fault ? fault.body : { message: 'Too Many Requests', error: 'proxy' },
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      );
    }
    if (fault.kind === '429') {
      return json(
        res,
        429,
        { statusCode: 429, name: fault.name ?? 'rate_limit_exceeded', message: 'Too many requests' },
        fault.retryAfterSeconds === undefined ? {} : { 'retry-after': String(fault.retryAfterSeconds) },
      );
    }
    if (fault.kind === 'drop-before') {
      req.socket.destroy();
      return;
    }
    if (key && this.inFlight.has(key)) {
      return json(res, 409, {
        statusCode: 409,
        name: 'concurrent_idempotent_requests',
        message: 'Same idempotency key used while original request is still in progress.',
      });
    }
    if (key) this.inFlight.add(key);
    try {
      if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
      if (fault.kind === '5xx' && !fault.accepted) {
        return json(res, fault.status ?? 500, {
          statusCode: fault.status ?? 500,
          name: 'internal_server_error',
          message: 'Unexpected error',
        });
      }
      if (body.length === 0 || body.length > 100) {
        return json(res, 422, { statusCode: 422, name: 'validation_error', message: '1 to 100 emails' });
      }
      const hash = createHash('sha256').update(raw).digest('hex');
      const now = this.now();
      let known = key ? this.keys.get(key) : undefined;
      if (known && now - known.at > KEY_TTL_MS) {
        this.keys.delete(key);
        known = undefined;
      }
      let out: string[];
      if (known) {
        if (known.hash !== hash) {
          return json(res, 409, {
            statusCode: 409,
            name: 'invalid_idempotent_request',
            message: 'Same idempotency key used with a different request payload.',
          });
        }
        out = known.ids ?? [known.id];
      } else {
        out = body.map(() => `re_${++this.seq}`);
        if (key) this.keys.set(key, { hash, id: out[0]!, at: now, ids: out });
        for (const [i, e] of body.entries()) {
          this.deliveries.push({
            id: out[i]!,
            key,
            messageId: ids[i] || undefined,
            to: e.to,
            subject: e.subject,
            text: e.text,
            receivedAt,
          });
        }
      }
      if (fault.kind === 'drop-after') {
        req.socket.destroy();
        return;
      }
      if (fault.kind === '5xx') {
        return json(res, fault.status ?? 500, {
          statusCode: fault.status ?? 500,
          name: 'internal_server_error',
          message: 'Unexpected error',
        });
      }
      const listed = fault.kind === 'short' ? out.slice(0, fault.ids) : out;
      while (listed.length < (fault.kind === 'short' ? fault.ids : 0))
        listed.push(`re_extra_${listed.length}`);
      return json(res, 200, { data: listed.map((id) => ({ id })) });
    } finally {
      if (key) this.inFlight.delete(key);
    }
  }

  private async process(
    req: IncomingMessage,
    res: ServerResponse,
    raw: string,
    body: { to: string[]; subject: string; text: string },
    key: string,
    messageId: string | undefined,
    receivedAt: number,
    fault: Fault,
  ): Promise<void> {
    if (fault.kind === 'slow') await new Promise((r) => setTimeout(r, fault.ms));
    if (fault.kind === '5xx' && !fault.accepted) {
      return json(res, fault.status ?? 500, {
        statusCode: fault.status ?? 500,
        name: 'internal_server_error',
        message: 'Unexpected error',
      });
    }
    // Process it: Resend's idempotency (https://resend.com/docs/dashboard/emails/idempotency-keys).
    const hash = createHash('sha256').update(raw).digest('hex');
    const now = this.now();
    let known = key ? this.keys.get(key) : undefined;
    if (known && now - known.at > KEY_TTL_MS) {
      this.keys.delete(key);
      known = undefined;
    }
    let id: string;
    if (known) {
      if (known.hash !== hash) {
        return json(res, 409, {
          statusCode: 409,
          name: 'invalid_idempotent_request',
          message: 'Same idempotency key used with a different request payload.',
        });
      }
      id = known.id;
    } else {
      id = `re_${++this.seq}`;
      if (key) this.keys.set(key, { hash, id, at: now });
      this.deliveries.push({
        id,
        key,
        messageId,
        to: body.to,
        subject: body.subject,
        text: body.text,
        receivedAt,
      });
    }
    if (fault.kind === 'drop-after') {
      req.socket.destroy();
      return;
    }
    if (fault.kind === '5xx') {
      return json(res, fault.status ?? 500, {
        statusCode: fault.status ?? 500,
        name: 'internal_server_error',
        message: 'Unexpected error',
      });
    }
    return json(res, 200, { id });
  }
}

type BatchBody = { to: string[]; subject: string; text: string; tags?: { name: string; value: string }[] }[];

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  // No keep-alive: a dropped connection is then always a fresh one, which the client never retries on its own.
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close', ...headers });
  res.end(JSON.stringify(body));
}
