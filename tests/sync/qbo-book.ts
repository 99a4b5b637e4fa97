/**
 * A QuickBooks Online company as raw JSON rows, served over HTTP the way Intuit answers the two calls the sync
 * makes: `query` (keyset pages `WHERE Id > 'n' ORDERBY Id`, a `MetaData.LastUpdatedTime >=` filter, and — for name
 * lists such as Customer — only ACTIVE rows unless the query says `Active IN (true, false)` or `Active = false`,
 * https://developer.intuit.com/hub/blog/2017/02/08/deep-dive-sql-queries/ "SELECT * FROM Customer" retrieves all
 * active customers) and `cdc` (every changed row of each asked entity, inactive ones included, deletions as
 * `{status: "Deleted"}` tombstones), plus single reads by id (`GET …/invoice/<id>`: the pre-send re-read and pay
 * links; a row not in the book is 610 "Object Not Found"). Each write stamps MetaData.LastUpdatedTime with the book's clock and bumps
 * SyncToken, as QuickBooks does for every transaction a change touches (a payment applied to an invoice moves the
 * invoice's LastUpdatedTime too: see ../shared/vendor/qbo/query-invoice.response.json, invoices 12 and 71).
 *
 * Test scenarios build the company's history with `put`/`remove` exactly as QuickBooks would leave the rows, and
 * compare Duely with `invoiceBalances()` / `customerBalances()`: what QuickBooks shows.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Row = Record<string, unknown> & { Id: string };
export type Entity = 'Customer' | 'Invoice' | 'CreditMemo' | 'JournalEntry' | 'Payment' | 'Account';
/** Name lists answer their active rows only unless asked (Account is one, like Customer). */
const NAME_LISTS = new Set<Entity>(['Customer', 'Account']);

function cmpId(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
const cents = (n: unknown) => Math.round(Number(n ?? 0) * 100);

export class QboBook {
  private rows: Record<Entity, Map<string, Row>> = {
    Customer: new Map(),
    Invoice: new Map(),
    CreditMemo: new Map(),
    JournalEntry: new Map(),
    Payment: new Map(),
    Account: new Map(),
  };
  private tombstones: Record<Entity, Map<string, { at: number }>> = {
    Customer: new Map(),
    Invoice: new Map(),
    CreditMemo: new Map(),
    JournalEntry: new Map(),
    Payment: new Map(),
    Account: new Map(),
  };
  private updated = new Map<string, number>();
  private server: Server | null = null;
  /** Requests seen, e.g. `query SELECT * FROM Customer ...` or `cdc Customer,Invoice,...`. */
  readonly requests: string[] = [];
  /** Answers the next n requests with this status (a throttle or outage storm), then serves normally. */
  fail: { status: number; left: number } | null = null;
  /** Rows the next CDC answer carries after the current ones (an older version of a row, as a replayed read). */
  cdcExtra: Partial<Record<Entity, Record<string, unknown>[]>> = {};
  /** Called with each request's number and text before it is answered; `hold` leaves it unanswered. */
  onRequest: ((n: number, request: string) => 'hold' | undefined) | null = null;
  /**
   * How far the `time` of an answer runs ahead of the LastUpdatedTime stamps of the saves made at the same moment
   * (0: the same clock). Intuit stamps them on different servers; Duely's change-feed windows overlap by a minute.
   */
  timeLeadMs = 0;
  /** Objects per CDC answer (Intuit: 1000), cut in request order. */
  cdcLimit = 1000;

  constructor(public clock: number) {}

  tick(seconds = 1): void {
    this.clock += seconds * 1000;
  }

  /** Creates or replaces a row (a QuickBooks save): stamps LastUpdatedTime and bumps SyncToken. */
  put(entity: Entity, row: Row): Row {
    const prev = this.rows[entity].get(row.Id);
    const meta = (prev?.MetaData as Record<string, string> | undefined) ?? {
      CreateTime: new Date(this.clock).toISOString(),
    };
    const stored: Row = {
      ...row,
      SyncToken: String(prev ? Number(prev.SyncToken) + 1 : 0),
      MetaData: { CreateTime: meta.CreateTime, LastUpdatedTime: new Date(this.clock).toISOString() },
    };
    this.rows[entity].set(row.Id, stored);
    this.tombstones[entity].delete(row.Id);
    this.updated.set(`${entity}:${row.Id}`, this.clock);
    return stored;
  }

  get(entity: Entity, id: string): Row {
    const row = this.rows[entity].get(id);
    if (!row) throw new Error(`${entity} ${id} not in the book`);
    return structuredClone(row);
  }

  /** Saves a row again with some fields changed. */
  edit(entity: Entity, id: string, change: Record<string, unknown>): Row {
    return this.put(entity, { ...this.get(entity, id), ...change });
  }

  remove(entity: Entity, id: string): void {
    this.rows[entity].delete(id);
    this.tombstones[entity].set(id, { at: this.clock });
  }

  /** Open balance of every live invoice, in cents, as QuickBooks shows it. */
  invoiceBalances(): Map<string, number> {
    return new Map([...this.rows.Invoice.values()].map((i) => [i.Id, cents(i.Balance)]));
  }

  /**
   * Each customer's balance as QuickBooks' customer list shows it: open invoices less unapplied payments, the
   * remaining credit of credit memos, and what is still open of journal entries' A/R credits and debits (the entry's
   * credit or debit for the customer less the payment lines that linked it) (customers with anything on their
   * account only).
   */
  customerBalances(): Map<string, number> {
    const out = new Map<string, number>();
    const addTo = (c: string, minor: number) => out.set(c, (out.get(c) ?? 0) + minor);
    const add = (row: Row, minor: number) => addTo((row.CustomerRef as { value: string }).value, minor);
    for (const i of this.rows.Invoice.values()) add(i, cents(i.Balance));
    for (const p of this.rows.Payment.values()) add(p, -cents(p.UnappliedAmt));
    for (const m of this.rows.CreditMemo.values()) add(m, -cents(m.RemainingCredit ?? m.Balance));
    for (const [key, minor] of this.journalBalances()) addTo(key.split(':')[1] as string, minor);
    return out;
  }

  /**
   * `<entry>:<customer>` → what a journal entry leaves on the customer's A/R (credits negative), net of the payment
   * lines linking it: a line applies a credit or pays a debit (an opening balance, a charge), as the entry is either.
   */
  journalBalances(): Map<string, number> {
    const receivable = new Set(
      [...this.rows.Account.values()].filter((a) => a.AccountType === 'Accounts Receivable').map((a) => a.Id),
    );
    const out = new Map<string, number>();
    type Detail = {
      PostingType: string;
      AccountRef: { value: string };
      Entity?: { EntityRef?: { value: string } };
    };
    for (const je of this.rows.JournalEntry.values()) {
      for (const line of (je.Line as Array<{ Amount: number; JournalEntryLineDetail?: Detail }>) ?? []) {
        const d = line.JournalEntryLineDetail;
        const c = d?.Entity?.EntityRef?.value;
        if (!d || !c || !receivable.has(d.AccountRef.value)) continue;
        const key = `${je.Id}:${c}`;
        out.set(key, (out.get(key) ?? 0) + (d.PostingType === 'Credit' ? -1 : 1) * cents(line.Amount));
      }
    }
    const entries = new Map(out);
    for (const p of this.rows.Payment.values()) {
      const c = (p.CustomerRef as { value: string }).value;
      for (const line of (p.Line as Array<{
        Amount: number;
        LinkedTxn: { TxnId: string; TxnType: string }[];
      }>) ?? []) {
        const link = line.LinkedTxn.find((t) => t.TxnType === 'JournalEntry');
        const key = link && `${link.TxnId}:${c}`;
        const posted = key ? entries.get(key) : undefined;
        // A line linking a credit applies it (less credit left), one linking a debit pays it (less owed).
        if (key && posted !== undefined)
          out.set(key, (out.get(key) ?? 0) + (posted < 0 ? 1 : -1) * cents(line.Amount));
      }
    }
    return out;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      const resource = url.pathname.split('/')[4] ?? '';
      this.requests.push(
        resource === 'query'
          ? `query ${url.searchParams.get('query')}`
          : `${resource} ${url.searchParams.get('entities') ?? ''}`,
      );
      if (this.onRequest?.(this.requests.length, this.requests.at(-1) ?? '') === 'hold') return;
      if (this.fail && this.fail.left > 0) {
        this.fail.left--;
        res.writeHead(this.fail.status, { 'content-type': 'application/json', 'retry-after': '0' });
        res.end(JSON.stringify({ fault: { error: [{ code: String(this.fail.status), message: 'storm' }] } }));
        return;
      }
      const time = new Date(this.clock + this.timeLeadMs).toISOString();
      if (resource === 'query')
        return send(200, { QueryResponse: this.query(url.searchParams.get('query') ?? ''), time });
      if (resource === 'cdc') {
        const since = Date.parse(url.searchParams.get('changedSince') ?? '');
        let budget = this.cdcLimit;
        const blocks = (url.searchParams.get('entities') ?? '').split(',').map((name) => {
          const entity = name as Entity;
          const changed = [...this.rows[entity].values()]
            .filter((r) => (this.updated.get(`${entity}:${r.Id}`) ?? 0) >= since)
            .map((r) => structuredClone(r) as Record<string, unknown>);
          const gone = [...this.tombstones[entity]]
            .filter(([, t]) => t.at >= since)
            .map(([Id, t]) => ({
              domain: 'QBO',
              status: 'Deleted',
              Id,
              MetaData: { LastUpdatedTime: new Date(t.at).toISOString() },
            }));
          const all = [...changed, ...gone, ...(this.cdcExtra[entity] ?? [])].slice(0, Math.max(0, budget));
          budget -= all.length;
          delete this.cdcExtra[entity];
          return all.length === 0 ? {} : { [entity]: all, startPosition: 1, maxResults: all.length };
        });
        return send(200, { CDCResponse: [{ QueryResponse: blocks }], time });
      }
      // A single read, GET …/<entity>/<id> (the pre-send re-read, pay links): the row, or 610 when it is gone.
      const id = decodeURIComponent(url.pathname.split('/')[5] ?? '');
      const entity = (Object.keys(this.rows) as Entity[]).find((e) => e.toLowerCase() === resource);
      const row = entity && id ? this.rows[entity].get(id) : undefined;
      if (entity && row) return send(200, { [entity]: structuredClone(row), time });
      send(404, { fault: { error: [{ code: '610', message: 'Object Not Found' }] } });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private query(sql: string): Record<string, unknown> {
    const m = /^select (\*|id) from (\w+)(?: where (.+?))? orderby id maxresults (\d+)$/i.exec(sql.trim());
    if (!m) throw new Error(`book: unsupported query ${sql}`);
    const entity = m[2] as Entity;
    let activeOnly = NAME_LISTS.has(entity);
    let activeFalse = false;
    const conds: ((r: Row) => boolean)[] = [];
    for (const c of (m[3] ?? '').split(/\s+and\s+/i).filter(Boolean)) {
      const after = /^id > '(\d+)'$/i.exec(c)?.[1];
      const type = /^accounttype = '([^']+)'$/i.exec(c)?.[1];
      const since = /^metadata\.lastupdatedtime >= '([^']+)'$/i.exec(c)?.[1];
      if (type !== undefined) conds.push((r) => r.AccountType === type);
      else if (/^active in \(true, ?false\)$/i.test(c)) activeOnly = false;
      else if (/^active = false$/i.test(c)) {
        activeOnly = false;
        activeFalse = true;
      } else if (after !== undefined) conds.push((r) => cmpId(r.Id, after) > 0);
      else if (since !== undefined) {
        const at = Date.parse(since);
        conds.push((r) => (this.updated.get(`${entity}:${r.Id}`) ?? 0) >= at);
      } else throw new Error(`book: unsupported condition ${c}`);
    }
    if (activeOnly) conds.push((r) => r.Active !== false);
    if (activeFalse) conds.push((r) => r.Active === false);
    const rows = [...this.rows[entity].values()]
      .filter((r) => conds.every((f) => f(r)))
      .sort((a, b) => cmpId(a.Id, b.Id))
      .slice(0, Number(m[4]))
      .map((r) => (m[1] === '*' ? structuredClone(r) : { Id: r.Id }));
    return rows.length === 0 ? {} : { [entity]: rows, startPosition: 1, maxResults: rows.length };
  }
}
