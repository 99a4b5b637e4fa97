/**
 * The subset of QuickBooks' query language the sandbox answers:
 * `SELECT * | Id | COUNT(*) FROM <Entity> [WHERE <cond> [AND <cond>]...] [ORDERBY Id [ASC]] [STARTPOSITION n]
 *  [MAXRESULTS m]` where a condition is `MetaData.LastUpdatedTime >|>= '<ISO>'`, `Id = '<id>'` or `Id > '<id>'`,
 * `Active IN (true, false)` or `Active = true|false`, `AccountType = '<type>'` (Account), with Intuit's limits (STARTPOSITION >= 1, MAXRESULTS <= 1000,
 * default 100). Ids compare as numbers. Name lists (Customer) answer only active rows unless the query says otherwise.
 */
export interface ParsedQuery {
  count: boolean;
  /** `SELECT Id`: rows carry only their Id. */
  idsOnly: boolean;
  entity: string;
  updatedSince: { at: number; inclusive: boolean } | null;
  id: string | null;
  afterId: string | null;
  /** `Active` condition: 'all' for `IN (true, false)`, null when the query has none. */
  active: 'all' | boolean | null;
  /** `AccountType = '<type>'`, null when the query has none. */
  accountType: string | null;
  orderById: boolean;
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
  /^\s*select\s+(\*|count\(\*\)|id)\s+from\s+(\w+)(?:\s+where\s+(.+?))?(?:\s+orderby\s+([\w.]+)(?:\s+(asc|desc))?)?(?:\s+startposition\s+(-?\d+))?(?:\s+maxresults\s+(-?\d+))?\s*$/i;
const UPDATED = /^metadata\.lastupdatedtime\s*(>=|>)\s*'([^']+)'$/i;
const BY_ID = /^id\s*(=|>)\s*'([^']+)'$/i;
const ACTIVE_ALL = /^active\s+in\s*\(\s*(true\s*,\s*false|false\s*,\s*true)\s*\)$/i;
const ACTIVE_IS = /^active\s*=\s*(true|false)$/i;
const ACCOUNT_TYPE = /^accounttype\s*=\s*'([^']+)'$/i;

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
  let afterId: string | null = null;
  let active: ParsedQuery['active'] = null;
  let accountType: string | null = null;
  for (const cond of where ? where.split(/\s+and\s+/i).map((c) => c.trim()) : []) {
    const u = UPDATED.exec(cond);
    const i = BY_ID.exec(cond);
    const is = ACTIVE_IS.exec(cond);
    const type = ACCOUNT_TYPE.exec(cond);
    if (type) accountType = type[1] ?? null;
    else if (ACTIVE_ALL.test(cond)) active = 'all';
    else if (is) active = is[1]?.toLowerCase() === 'true';
    else if (u) {
      const at = Date.parse(u[2] ?? '');
      if (Number.isNaN(at)) throw new QueryError('4000', `QueryParserError: invalid date ${u[2]}`);
      updatedSince = { at, inclusive: u[1] === '>=' };
    } else if (i?.[1] === '=') id = i[2] ?? null;
    else if (i) afterId = i[2] ?? null;
    else throw new QueryError('4000', `QueryParserError: unsupported WHERE ${cond}`);
  }
  if (m[4] !== undefined && m[4].toLowerCase() !== 'id')
    throw new QueryError('4000', `QueryParserError: unsupported ORDERBY ${m[4]}`);
  if (m[5]?.toLowerCase() === 'desc') throw new QueryError('4000', 'QueryParserError: unsupported DESC');
  const startPosition = m[6] === undefined ? 1 : Number(m[6]);
  const maxResults = m[7] === undefined ? 100 : Number(m[7]);
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
  const what = (m[1] ?? '').toLowerCase();
  return {
    count: what.startsWith('count'),
    idsOnly: what === 'id',
    entity: m[2] ?? '',
    updatedSince,
    id,
    afterId,
    active,
    accountType,
    orderById: m[4] !== undefined,
    startPosition,
    maxResults,
  };
}

/** Numeric order of digit-string Ids (as Intuit orders them). */
export function compareSandboxIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  return a < b ? -1 : a > b ? 1 : 0;
}
