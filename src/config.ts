/**
 * The only module that reads the environment. One zod schema, parsed once at start; an invalid value stops the
 * process with a message naming the variable. Dev defaults need nothing: the app secret is generated on first
 * start and kept in DATA_DIR.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { connectorConfigShape, registeredConnectors } from '../connectors';

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

const optionalUrl = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .pipe(z.url().optional())
  .optional();

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

/** The core settings; each connector's own (e.g. its app credentials) come from its configSchema, merged below. */
export const coreEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
  ),
  DATA_DIR: z.string().trim().min(1).default('./.duely'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  PUBLIC_URL: optionalUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  APP_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  DUELY_NOW: optionalString.pipe(
    z
      .string()
      .regex(isoDate, 'must be a date YYYY-MM-DD')
      .refine((v) => {
        const d = new Date(`${v}T00:00:00Z`);
        return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
      }, 'must be a real calendar date')
      .optional(),
  ),
  DUELY_ROLE: z.enum(['web', 'worker', 'all']).default('all'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  RESEND_API_KEY: optionalString,
  RESEND_BASE_URL: optionalUrl,
  RESEND_WEBHOOK_SECRET: optionalString,
  /**
   * Recipients one tenant's emails may reach in any 24 hours (every address of every message counts); over it,
   * messages wait. Bounds what a tenant can make Duely send, whatever its ledger or manual recipients say.
   */
  MAIL_DAILY_CAP: z.coerce.number().int().min(1).default(1000),
  /**
   * Send due messages through Resend's POST /emails/batch (up to 100 per request: 200 emails/s at the default 2
   * requests/s instead of 2) with the batch stored before the call and the same key on every retry
   * (src/dunning/send-batch.ts). Off by default: one request per message.
   */
  MAIL_BATCH: z
    .string()
    .trim()
    .default('false')
    .transform((v) => ['true', 'on', '1'].includes(v.toLowerCase())),
  MAIL_FROM: optionalString.refine(
    (v) => v === undefined || !/[\p{Cc}\u2028\u2029]/u.test(v),
    'must be one line (no control characters)',
  ),
  /** Largest request body any route but the CSV upload accepts (bytes); larger bodies get 413. */
  HTTP_BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024)
    .default(256 * 1024),
  /**
   * Largest CSV upload (`POST …/imports`, raw or multipart), in MB (10^6 bytes). The upload is spooled to a
   * temporary file and imported from it as a stream, so this bounds disk use and import time, not memory.
   */
  IMPORT_MAX_MB: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Time a client gets to send one whole request, headers and body (ms); a slower socket is closed (408). */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  /**
   * Which proxies may set X-Forwarded-For/-Proto/-Host (fastify trustProxy). Off by default: a client's own
   * X-Forwarded-* headers then change nothing (client address for rate limits, protocol and host for the
   * same-origin check). `true` trusts every hop, a number that many hops, otherwise a comma-separated list of
   * addresses/CIDRs (e.g. `127.0.0.1,10.0.0.0/8`).
   */
  TRUST_PROXY: z
    .string()
    .trim()
    .default('false')
    .transform((v): boolean | number | string[] => {
      const lower = v.toLowerCase();
      if (lower === '' || lower === 'false' || lower === 'off') return false;
      if (lower === 'true' || lower === 'on') return true;
      if (/^\d{1,2}$/.test(lower)) return Number(lower);
      return v
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
    }),
  /** Requests a minute per client address to the sign-in and connect pages (429 beyond). */
  RATE_LIMIT_SIGN_IN: z.coerce.number().int().min(1).default(30),
  /** 401s to requests with a token or session cookie per address in 15 minutes, before its credentialed requests get 429. */
  RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().min(1).default(30),
  /** Webhook requests a minute per client address. */
  RATE_LIMIT_WEBHOOKS: z.coerce.number().int().min(1).default(600),
  /** Where the settings app is built to and served from (default dist/web in the checkout). */
  WEB_DIST_DIR: optionalString,
  FRAME_ANCESTORS: z
    .string()
    .default(() => ["'self'", ...registeredConnectors.flatMap((c) => c.frameAncestors ?? [])].join(' '))
    .transform((v) => v.trim()),
});

/** Core settings plus every registered connector's (connectors/<provider>/config.ts). */
export const envSchema = coreEnvSchema.extend(connectorConfigShape());

export type Env = z.infer<typeof envSchema>;

export interface Config extends Omit<Env, 'APP_SECRET' | 'PUBLIC_URL'> {
  /** Resolved absolute DATA_DIR. */
  DATA_DIR: string;
  /** Always set: from the environment, or generated and kept in DATA_DIR/secret.key. */
  APP_SECRET: string;
  PUBLIC_URL: string;
  /** True when the secret came from DATA_DIR rather than the environment. */
  secretGenerated: boolean;
}

export class ConfigError extends Error {
  constructor(readonly issues: { variable: string; message: string }[]) {
    super(`Invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment (process.env by default). Throws ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((i) => ({ variable: String(i.path[0] ?? '?'), message: i.message })),
    );
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.DATA_DIR);
  let secret = e.APP_SECRET;
  let secretGenerated = false;
  if (!secret) {
    secret = readOrCreateSecret(dataDir);
    secretGenerated = true;
  }
  return {
    ...e,
    DATA_DIR: dataDir,
    APP_SECRET: secret,
    secretGenerated,
    PUBLIC_URL: (e.PUBLIC_URL ?? `http://${hostForUrl(e.HOST)}:${e.PORT}`).replace(/\/$/, ''),
  };
}

function hostForUrl(host: string): string {
  return host === '0.0.0.0' || host === '::' ? 'localhost' : host;
}

/** The dev default: a random secret, created once with owner-only permissions and reused on every start. */
function readOrCreateSecret(dataDir: string): string {
  const file = path.join(dataDir, 'secret.key');
  if (existsSync(file)) {
    const value = readFileSync(file, 'utf8').trim();
    if (value.length >= 32) return value;
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'w' });
  chmodSync(file, 0o600);
  return value;
}
