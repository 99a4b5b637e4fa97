/**
 * The subset of QuickBooks' query language the sandbox answers:
 * `SELECT * | COUNT(*) FROM <Entity> [WHERE MetaData.LastUpdatedTime >|>= '<ISO>' | Id = '<id>'] [ORDERBY ...]
 *  [STARTPOSITION n] [MAXRESULTS m]` with Intuit's limits (STARTPOSITION >= 1, MAXRESULTS <= 1000, default 100).
 */
export interface ParsedQuery {
  count: boolean;
  entity: string;
  updatedSince: { at: number; inclusive: boolean } | null;
  id: string | null;
  startPosition: number;
  maxResults: number;
}

export class QueryError extends Error {
  constructor(
    readonly code: '4000' | '4001',
    message: string,
  ) {
    super(message);
  }
}

const QUERY =
  /^\s*select\s+(\*|count\(\*\))\s+from\s+(\w+)(?:\s+where\s+(.+?))?(?:\s+orderby\s+[\w.]+(?:\s+(?:asc|desc))?)?(?:\s+startposition\s+(-?\d+))?(?:\s+maxresults\s+(-?\d+))?\s*$/i;
const UPDATED = /^metadata\.lastupdatedtime\s*(>=|>)\s*'([^']+)'$/i;
const BY_ID = /^id\s*=\s*'([^']+)'$/i;

/** Longer than any query the connector sends; bounds the work of the pattern below. */
const MAX_QUERY_LENGTH = 4000;

export function parseQuery(sql: string): ParsedQuery {
  if (sql.length > MAX_QUERY_LENGTH)
    throw new QueryError('4000', `QueryParserError: query longer than ${MAX_QUERY_LENGTH} characters`);
  const m = QUERY.exec(sql);
  if (!m) throw new QueryError('4000', `QueryParserError: Encountered unsupported query "${sql}"`);
  const where = m[3]?.trim() ?? null;
  let updatedSince: ParsedQuery['updatedSince'] = null;
  let id: string | null = null;
  if (where) {
    const u = UPDATED.exec(where);
    const i = BY_ID.exec(where);
    if (u) {
      const at = Date.parse(u[2] ?? '');
      if (Number.isNaN(at)) throw new QueryError('4000', `QueryParserError: invalid date ${u[2]}`);
      updatedSince = { at, inclusive: u[1] === '>=' };
    } else if (i) id = i[1] ?? null;
    else throw new QueryError('4000', `QueryParserError: unsupported WHERE ${where}`);
  }
  const startPosition = m[4] === undefined ? 1 : Number(m[4]);
  const maxResults = m[5] === undefined ? 100 : Number(m[5]);
  if (startPosition < 1)
    throw new QueryError(
      '4001',
      `QueryValidationError: value ${startPosition} is too small. Min allowed value is 1`,
    );
  if (maxResults > 1000)
    throw new QueryError(
      '4001',
      `QueryValidationError: value ${maxResults} is too large. Max allowed value is 1000`,
    );
  if (maxResults < 1)
    throw new QueryError(
      '4001',
      `QueryValidationError: value ${maxResults} is too small. Min allowed value is 1`,
    );
  return { count: m[1] !== '*', entity: m[2] ?? '', updatedSince, id, startPosition, maxResults };
}
