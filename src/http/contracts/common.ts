/**
 * Building blocks of the route contracts (src/http/contracts/*): the error body every route may answer with, the
 * wire form of instants, money and list pages. A contract is declared once, in zod; the route validates its input
 * and serialises its output through it (fastify-type-provider-zod), GET /docs/json publishes it, and the web app
 * imports its types (`import type`, through `Wire<…>`), so nothing is re-typed by hand.
 */
import { z } from 'zod';

/**
 * The error body src/http/app.ts's error handler answers with (4xx/5xx); `details` on 4xx only (e.g. each bad field).
 * `total` counts what `details` is the start of, where it may be cut (a broken CSV: the first 200 of every error). */
export const errorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      /** How many problems there are in all when `details` lists only the first (invalid_csv: every error counted). */
      total: z.number().int().optional(),
    }),
  })
  .meta({ id: 'Error' });

/** The error answers every route may give (a route adds its 2xx answers). */
export const errorResponses = { '4xx': errorBody, '5xx': errorBody } as const;

/**
 * An instant: a Date in the handler, ISO 8601 on the wire. Rows read through raw SQL may already hold text, so a
 * string passes as it is.
 */
export const instant = z.union([z.date(), z.string()]).meta({ format: 'date-time' });
/** A calendar day, YYYY-MM-DD. */
export const day = z.string().meta({ format: 'date' });
/** An amount in major units as text ("1250.00"): connectors/money.ts fromMinor. */
export const moneyText = z.string().meta({ description: 'major units as text, e.g. "1250.00"' });
export const uuid = z.uuid();

/** `:tenant` in every tenant route: the tenant's id or slug. */
export const tenantParams = z.object({ tenant: z.string().min(1).max(200) });

/** How a contract's output looks after JSON: Dates become strings. The web app reads answers through this. */
export type Wire<T> = T extends Date
  ? string
  : T extends (infer U)[]
    ? Wire<U>[]
    : T extends readonly (infer U)[]
      ? readonly Wire<U>[]
      : T extends object
        ? { [K in keyof T]: Wire<T[K]> }
        : T;

/** The wire type of a zod response schema. */
export type WireOf<S extends z.ZodType> = Wire<z.output<S>>;

/**
 * `covers<Row>()(schema)`: the schema, checked at compile time to name every field of `Row` (the query's row type)
 * — the serializer drops what a response schema does not name, so a field added to a query must be added here.
 */
export const covers =
  <Row>() =>
  <S extends z.ZodObject>(
    schema: S &
      (Exclude<keyof Row, keyof z.output<S>> extends never
        ? unknown
        : { missingFields: Exclude<keyof Row, keyof z.output<S>> }),
  ): S =>
    schema;

export const delivery = z.enum(['email', 'print']);
export const riskBand = z.enum(['low', 'medium', 'high']);

/**
 * `coversDeep<T>()(schema)`: the schema's output must be a `T` at every depth (each required field of `T`, nested
 * ones included, is named with a compatible type). For answers built from a module's own type.
 */
export const coversDeep =
  <T>() =>
  <S extends z.ZodType<T>>(schema: S): S =>
    schema;
