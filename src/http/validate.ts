import type { z } from 'zod';
import { AppError } from '../errors';

/** Validates request input with zod; a failure is a 400 naming each bad field. */
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
