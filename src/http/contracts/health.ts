import { z } from 'zod';

/** GET /health: liveness and readiness (200 ok, 503 degraded). */
const database = z.object({
  ok: z.boolean(),
  kind: z.enum(['pglite', 'postgres']),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
});
const queue = z.object({ ok: z.boolean(), started: z.boolean(), error: z.string().optional() });
export const healthBody = z.object({
  status: z.enum(['ok', 'degraded']),
  role: z.enum(['web', 'worker', 'all']),
  now: z.string(),
  database,
  queue,
});
export const health = { response: { 200: healthBody, 503: healthBody } } as const;
