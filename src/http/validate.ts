import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { AppError } from '../errors';
import { isReadableStream } from './upload-spool';

/**
 * Validates input the route contract cannot reach (a bulk action's `filter`, read as its list's query string) with
 * zod; a failure is a 400 naming each bad field, the same answer a contract's own validation gives (src/http/app.ts).
 */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: i.path.join('.') || where, message: i.message }));
  throw new AppError(
    'invalid_request',
    `Invalid ${where}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    400,
    { details: issues },
  );
}

/** What PostgreSQL cannot store in text or jsonb, and how the 400 names it. */
const NUL_MESSAGE = 'must not contain NUL characters (\\u0000)';
const SURROGATE_MESSAGE = 'must be valid Unicode text (a lone surrogate, \\ud800–\\udfff)';
function unstorable(text: string): string | null {
  if (text.includes('\u0000')) return NUL_MESSAGE;
  // A lone surrogate (JSON's "\ud800"): jsonb refuses it (a 500 deep in a query), text would keep U+FFFD instead.
  if (!text.isWellFormed()) return SURROGATE_MESSAGE;
  return null;
}

/**
 * Where the first text of a request's input that PostgreSQL cannot store is — a NUL character, or a lone
 * surrogate — as `[where, field, message]` (`['body', 'ids.0', …]`), or null. Keys count too (a bulk action's
 * `filter` and request are stored as jsonb). Raw bodies (CSV uploads, webhooks, the unsubscribe form) are Buffers or
 * strings and are not walked: their own parsers check them. Iterative, so a deeply nested body cannot exhaust the
 * stack.
 */
export function findUnstorableText(input: {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}): [where: string, field: string, message: string] | null {
  const roots: [string, unknown][] = [
    ['path', input.params],
    ['querystring', input.query],
    ['body', input.body],
  ];
  for (const [where, root] of roots) {
    // A streamed body (the CSV upload) is read by its handler, which checks what it reads.
    if (root === null || typeof root !== 'object' || Buffer.isBuffer(root) || isReadableStream(root))
      continue;
    const stack: [string[], unknown][] = [[[], root]];
    while (stack.length > 0) {
      const [path, value] = stack.pop()!;
      if (typeof value === 'string') {
        const bad = unstorable(value);
        if (bad) return [where, path.join('.') || where, bad];
      } else if (value !== null && typeof value === 'object') {
        for (const [k, v] of Object.entries(value)) {
          const bad = unstorable(k);
          if (bad) return [where, [...path, k].join('.'), bad];
          stack.push([[...path, k], v]);
        }
      }
    }
  }
  return null;
}

/**
 * Text PostgreSQL cannot store (a NUL character, a lone surrogate) is refused with a 400 naming the field, before
 * any handler runs: text and jsonb cannot hold U+0000 and jsonb no lone surrogate, so it would otherwise fail deep
 * in a query as a 500 (`q=%00` on every list, a dispute's reason, a bulk action's ids, the sign-in form's email,
 * `"\ud800"` in the settings' payment instructions or a bulk filter). A preHandler: the route's auth and tenant
 * checks (onRequest, preValidation) answer first, so a stranger still learns only 401/403/404.
 */
export function rejectNulCharacters(app: FastifyInstance): void {
  app.addHook('preHandler', async (req) => {
    const found = findUnstorableText({ params: req.params, query: req.query, body: req.body });
    if (!found) return;
    const [where, field, message] = found;
    throw new AppError('invalid_request', `Invalid ${where}: ${field}: ${message}`, 400, {
      details: [{ field, message }],
    });
  });
}
