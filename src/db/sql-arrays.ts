import { type SQL, sql } from 'drizzle-orm';

/** A uuid[] literal for raw SQL: a JS array interpolated into sql`` becomes a list of parameters, not an array. */
export function uuidArray(ids: readonly string[]): SQL {
  if (ids.length === 0) return sql`'{}'::uuid[]`;
  return sql`array[${sql.join(
    ids.map((id) => sql`${id}::uuid`),
    sql`, `,
  )}]`;
}
