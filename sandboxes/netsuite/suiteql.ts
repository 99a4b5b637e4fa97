/**
 * Answers the SuiteQL the NetSuite connector sends (connectors/netsuite/queries.ts and the probe), from a
 * NetsuiteCompany. Not a SQL engine: it recognises the connector's query shapes and their conditions, and answers
 * anything else with NetSuite's 400 so a changed query shows up in tests instead of silently matching nothing.
 * Rows are printed as NetSuite prints them: strings only, NULL columns absent.
 */
import { isReceivable, type NetsuiteCompany, type Txn } from './company';

export type Row = Record<string, string>;

export class SuiteqlError extends Error {}

const CURRENCY_ID: Record<string, string> = { USD: '1', CAD: '2', EUR: '3', JPY: '4' };

function clockCondition(q: string, column: string): string | null {
  const m = new RegExp(`${column.replace('.', '\\.')} >= TO_TIMESTAMP\\('([^']+)'`).exec(q);
  return m?.[1] ?? null;
}
function afterId(q: string, alias: string): number | null {
  const m = new RegExp(`${alias}\\.id > (\\d+)`).exec(q);
  return m ? Number(m[1]) : null;
}
function upToId(q: string, alias: string): number | null {
  const m = new RegExp(`${alias}\\.id <= (\\d+)`).exec(q);
  return m ? Number(m[1]) : null;
}
function idList(q: string, alias: string): Set<number> | null {
  const m = new RegExp(`${alias}\\.id IN \\((\\d+(?:, \\d+)*)\\)`).exec(q);
  return m ? new Set((m[1] ?? '').split(', ').map(Number)) : null;
}

function txnRow(c: NetsuiteCompany, t: Txn, payLinkField: string | null): Row {
  const sign = t.type === 'CustCred' ? '-' : '';
  const unpaid = c.unpaid(t);
  const row: Row = {
    id: String(t.id),
    type: t.type,
    tranid: t.tranid,
    trandate: t.trandate,
    entity: String(t.entity),
    currency: t.currency,
    foreigntotal: t.totalMinor === 0 ? '0' : sign + c.money(t.totalMinor, t.currency),
    foreignamountunpaid:
      t.type === 'CustPymt' ? '0' : unpaid === 0 ? '0' : sign + c.money(unpaid, t.currency),
    voided: t.voided ? 'T' : 'F',
    status: t.voided
      ? 'V'
      : t.approval === 'pending'
        ? 'E'
        : t.approval === 'rejected'
          ? 'D'
          : unpaid === 0
            ? 'B'
            : 'A',
    subsidiary: String(t.subsidiary),
    lastmodified: t.lastmodified,
  };
  if (c.nullUnpaid.has(t.id)) delete row.foreignamountunpaid;
  if (t.type === 'CustPymt') row.foreignpaymentamountunused = c.money(c.unused(t), t.currency);
  if (t.duedate) row.duedate = t.duedate;
  if (t.closedate && t.type === 'CustInvc' && unpaid === 0) row.closedate = t.closedate;
  if (t.type === 'CustInvc') row.email = (c.customers.get(t.entity)?.email ?? '') || 'ap@example.com';
  const payLink = payLinkField ? t.custom[payLinkField] : undefined;
  if (payLink) row.paylink = payLink;
  return row;
}

/** All rows of a query (paging is applied by the caller). */
export function runSuiteql(c: NetsuiteCompany, raw: string): Row[] {
  const q = raw.replace(/\s+/g, ' ').trim();
  if (/FROM DUAL$/i.test(q) && q.includes('SYSDATE')) return [{ now: c.sysdate }];
  if (q.startsWith('SELECT s.id, s.name, s.parent') && q.includes('FROM subsidiary s')) {
    return c.subsidiaries.map((s) => ({
      id: String(s.id),
      name: s.name,
      ...(s.parent === null ? {} : { parent: String(s.parent) }),
      currency: s.currency,
    }));
  }
  // The newest transaction change (a full sync's hand-over to polling; the clock's fallback).
  if (/^SELECT TO_CHAR\(MAX\(t\.lastmodifieddate\), '[^']+'\) AS now FROM transaction t$/.test(q)) {
    const newest = [...c.txns.values()].reduce<string | null>(
      (max, t) => (max === null || t.lastmodified > max ? t.lastmodified : max),
      null,
    );
    return [newest === null ? {} : { now: newest }];
  }
  // The open-balance checksum per bucket of customers (sums printed in minor units: a checksum, not money).
  const sums =
    /^SELECT MOD\(t\.entity, (\d+)\) AS bucket, COUNT\(\*\) AS n, SUM\(t\.foreignamountunpaid\) AS unpaid, SUM\(t\.foreignamountunpaid \* t\.entity\) AS weighted FROM transaction t WHERE t\.type = 'CustInvc' AND t\.voided = 'F' AND t\.foreignamountunpaid <> 0 GROUP BY MOD\(t\.entity, \1\) ORDER BY bucket$/.exec(
      q,
    );
  if (sums) {
    const mod = Number(sums[1]);
    const buckets = new Map<number, { n: number; unpaid: number; weighted: number }>();
    for (const t of c.txns.values()) {
      const unpaid = c.unpaid(t);
      if (t.type !== 'CustInvc' || t.voided || unpaid === 0 || c.nullUnpaid.has(t.id)) continue;
      const b = buckets.get(t.entity % mod) ?? { n: 0, unpaid: 0, weighted: 0 };
      buckets.set(t.entity % mod, {
        n: b.n + 1,
        unpaid: b.unpaid + unpaid,
        weighted: b.weighted + unpaid * t.entity,
      });
    }
    return [...buckets]
      .sort(([a], [b]) => a - b)
      .map(([bucket, b]) => ({
        bucket: String(bucket),
        n: String(b.n),
        unpaid: String(b.unpaid),
        weighted: String(b.weighted),
      }));
  }
  if (q === 'SELECT id FROM customer') return [...c.customers.keys()].map((id) => ({ id: String(id) }));
  const typeOnly = /^SELECT id FROM transaction WHERE type = '(\w+)'$/.exec(q);
  if (typeOnly) {
    return [...c.txns.values()].filter((t) => t.type === typeOnly[1]).map((t) => ({ id: String(t.id) }));
  }
  if (q === 'SELECT id, symbol FROM currency')
    return Object.entries(CURRENCY_ID).map(([symbol, id]) => ({ id, symbol }));
  if (q === 'SELECT recordid FROM DeletedRecord')
    return c.deleted.map((d) => ({ recordid: String(d.recordid) }));

  // The id span of a kind (COUNT/MIN/MAX) a full sync splits into ranges read at once.
  const span =
    /^SELECT COUNT\(\*\) AS n, MIN\((\w)\.id\) AS lo, MAX\(\w\.id\) AS hi FROM (customer c|transaction t WHERE t\.type = '(\w+)')/.exec(
      q,
    );
  if (span) {
    const after = afterId(q, span[1] as string) ?? -1;
    const receivableOnly = q.includes(RECEIVABLE_ENTRIES);
    const ids = (
      span[3]
        ? [...c.txns.values()]
            .filter((t) => t.type === span[3] && (!receivableOnly || onReceivable(t)))
            .map((t) => t.id)
        : [...c.customers.keys()]
    ).filter((id) => id > after);
    if (ids.length === 0) return [{ n: '0' }];
    const lo = ids.reduce((a, b) => Math.min(a, b));
    const hi = ids.reduce((a, b) => Math.max(a, b));
    return [{ n: String(ids.length), lo: String(lo), hi: String(hi) }];
  }

  if (q.includes('FROM customer c LEFT JOIN currency cur')) {
    const after = afterId(q, 'c');
    const upTo = upToId(q, 'c');
    const since = clockCondition(q, 'c.lastmodifieddate');
    const ids = idList(q, 'c');
    return [...c.customers.values()]
      .filter(
        (x) =>
          (after === null || x.id > after) &&
          (upTo === null || x.id <= upTo) &&
          (!since || x.lastmodified >= since) &&
          (!ids || ids.has(x.id)),
      )
      .sort((a, b) => a.id - b.id)
      .map((x) => ({
        id: String(x.id),
        entityid: `CUST${x.id}`,
        companyname: x.companyname,
        isperson: 'F',
        email: x.email,
        isinactive: 'F',
        currency: x.currency,
        subsidiary: String(x.subsidiary),
        lastmodified: x.lastmodified,
      }));
  }

  if (
    q.includes("FROM transaction t JOIN transactionline tl ON tl.transaction = t.id AND tl.mainline = 'T'")
  ) {
    const types: string[] = /t\.type IN \(([^)]*)\)/.exec(q)?.[1]?.match(/\w+/g) ?? [];
    const after = afterId(q, 't');
    const upTo = upToId(q, 't');
    const since = clockCondition(q, 't.lastmodifieddate');
    const ids = idList(q, 't');
    // Drift re-read: customers in these buckets, open or closed on or after a date.
    const drift = /MOD\(t\.entity, (\d+)\) IN \((\d+(?:, \d+)*)\)/.exec(q);
    const driftBuckets = drift ? new Set((drift[2] ?? '').split(', ').map(Number)) : null;
    const closedSince = /t\.closedate >= TO_DATE\('([^']+)'/.exec(q)?.[1] ?? null;
    const open = !closedSince && q.includes('t.foreignamountunpaid <> 0');
    const entities = /t\.entity IN \((\d+(?:, \d+)*)\)/.exec(q);
    const entitySet = entities ? new Set((entities[1] ?? '').split(', ').map(Number)) : null;
    const appsSince = clockCondition(q, 'p.lastmodifieddate');
    const payLinkField = /\bt\.(custbody\w+) AS paylink\b/.exec(q)?.[1] ?? null;
    if (payLinkField && !c.customBodyFields.has(payLinkField))
      throw new SuiteqlError(`Invalid search query: Unknown identifier 't.${payLinkField}'`);
    let linked: Set<number> | null = null;
    if (appsSince) {
      linked = new Set(
        c.links
          .filter((l) => {
            const p = c.txns.get(l.nextdoc);
            return (
              p &&
              (p.type === 'CustPymt' || p.type === 'CustCred' || p.type === 'DepAppl') &&
              p.lastmodified >= appsSince
            );
          })
          .map((l) => l.previousdoc),
      );
    }
    return [...c.txns.values()]
      .filter(
        (t) =>
          types.includes(t.type) &&
          (after === null || t.id > after) &&
          (upTo === null || t.id <= upTo) &&
          (!since || t.lastmodified >= since) &&
          (!ids || ids.has(t.id)) &&
          (!open || (c.unpaid(t) !== 0 && !t.voided)) &&
          (!entitySet || entitySet.has(t.entity)) &&
          (!driftBuckets ||
            (driftBuckets.has(t.entity % Number(drift?.[1])) &&
              !t.voided &&
              (c.unpaid(t) !== 0 || (t.closedate !== null && t.closedate >= (closedSince ?? ''))))) &&
          (!linked || linked.has(t.id)),
      )
      .sort((a, b) => a.id - b.id)
      .map((t) => txnRow(c, t, payLinkField));
  }

  if (
    q.startsWith(
      'SELECT l.nextdoc AS payment, l.previousdoc AS invoice, l.foreignamount FROM NextTransactionLineLink l',
    )
  ) {
    const ids = new Set((/l\.nextdoc IN \(([^)]*)\)/.exec(q)?.[1] ?? '').split(', ').map(Number));
    const previousType = /l\.previoustype = '(\w+)'/.exec(q)?.[1];
    return c.links
      .filter(
        (l) => ids.has(l.nextdoc) && (!previousType || c.txns.get(l.previousdoc)?.type === previousType),
      )
      .sort((a, b) => a.nextdoc - b.nextdoc || a.previousdoc - b.previousdoc)
      .map((l) => {
        const p = c.txns.get(l.nextdoc) as Txn;
        return {
          payment: String(l.nextdoc),
          invoice: String(l.previousdoc),
          foreignamount: c.money(l.amountMinor, p.currency),
        };
      });
  }

  if (q.includes("FROM transaction t JOIN currency cur ON cur.id = t.currency WHERE t.type = 'Journal'"))
    return journalEntries(c, q);
  if (q.startsWith('SELECT tl.transaction AS entry, tl.id AS line, tl.entity, tl.debitforeignamount')) {
    if (!q.includes("a.accttype = 'AcctRec' AND tal.posting = 'T'"))
      throw new SuiteqlError('unknown lines query');
    const ids = new Set((/tl\.transaction IN \(([^)]*)\)/.exec(q)?.[1] ?? '').split(', ').map(Number));
    const rows: Row[] = [];
    for (const id of [...ids].sort((a, b) => a - b)) {
      const j = c.txns.get(id);
      if (j?.type !== 'Journal') continue;
      for (const line of j.lines ?? []) {
        if (!isReceivable(line.account)) continue;
        const row: Row = { entry: String(j.id), line: String(line.line) };
        if (line.entity !== null) row.entity = String(line.entity);
        const amount = (minor: number) => (j.voided ? '0' : c.money(minor, j.currency));
        if (line.debitMinor > 0) {
          row.debitforeignamount = amount(line.debitMinor);
          row.foreignamountunpaid = c.money(c.journalOpen(j, line), j.currency);
        } else {
          row.creditforeignamount = amount(line.creditMinor);
          row.foreignpaymentamountunused = c.money(c.journalOpen(j, line), j.currency);
        }
        rows.push(row);
        // Multi-Book prints the line once per accounting book: a second book repeats every A/R line.
        if (c.accountingBooks > 1) rows.push({ ...row });
      }
    }
    return rows;
  }

  const deposits = /^SELECT DISTINCT t\.entity FROM transaction t WHERE t\.type IN \('DepAppl'\) AND /.exec(
    q,
  );
  if (deposits) {
    const since = clockCondition(q, 't.lastmodifieddate') ?? '';
    const entities = [...c.txns.values()]
      .filter((t) => t.type === 'DepAppl' && t.lastmodified >= since)
      .map((t) => t.entity);
    return [...new Set(entities)].sort((a, b) => a - b).map((e) => ({ entity: String(e) }));
  }

  if (q.includes('FROM DeletedRecord d WHERE')) {
    const since = clockCondition(q, 'd.deleteddate') ?? '';
    return c.deleted
      .filter((d) => d.deleteddate >= since)
      .map((d) => ({
        recordid: String(d.recordid),
        recordtypeid: d.recordtypeid,
        deleteddate: d.deleteddate,
      }));
  }
  throw new SuiteqlError(`Invalid search query: the sandbox does not know this query: ${q.slice(0, 200)}`);
}

const RECEIVABLE_ENTRIES =
  'SELECT tal.transaction FROM transactionaccountingline tal JOIN account a ON a.id = tal.account ' +
  "WHERE a.accttype = 'AcctRec' AND tal.posting = 'T'";

/** A journal entry with a line on an A/R account. */
function onReceivable(t: Txn): boolean {
  return t.type === 'Journal' && (t.lines ?? []).some((l) => isReceivable(l.account));
}

/** Journal entries (headers) by the conditions connectors/netsuite/queries.ts journalEntriesQuery writes. */
function journalEntries(c: NetsuiteCompany, q: string): Row[] {
  const after = afterId(q, 't');
  const upTo = upToId(q, 't');
  const since = clockCondition(q, 't.lastmodifieddate');
  const ids = idList(q, 't');
  const receivableOnly = q.includes(RECEIVABLE_ENTRIES);
  const linkedSince = clockCondition(q, 'p.lastmodifieddate');
  const linked = linkedSince
    ? new Set(
        c.links
          .filter(
            (l) => l.previousline !== undefined && (c.txns.get(l.nextdoc)?.lastmodified ?? '') >= linkedSince,
          )
          .map((l) => l.previousdoc),
      )
    : null;
  const openOnly = q.includes('(tl.foreignamountunpaid <> 0 OR tl.foreignpaymentamountunused <> 0)');
  const open = (t: Txn) => (t.lines ?? []).some((l) => isReceivable(l.account) && c.journalOpen(t, l) !== 0);
  return [...c.txns.values()]
    .filter(
      (t) =>
        t.type === 'Journal' &&
        (after === null || t.id > after) &&
        (upTo === null || t.id <= upTo) &&
        (!since || t.lastmodified >= since) &&
        (!ids || ids.has(t.id)) &&
        (!receivableOnly || onReceivable(t)) &&
        (!linked || linked.has(t.id)) &&
        (!openOnly || open(t)),
    )
    .sort((a, b) => a.id - b.id)
    .map((t) => ({
      id: String(t.id),
      type: 'Journal',
      tranid: t.tranid,
      trandate: t.trandate,
      currency: t.currency,
      voided: t.voided ? 'T' : 'F',
      lastmodified: t.lastmodified,
    }));
}
