import type { z } from 'zod';
import { AppError } from '../errors';

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
