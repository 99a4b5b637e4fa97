/**
 * Research tool (issue 18, not part of `npm run bench`): which product statements need which ledger index. On an
 * n-invoice PGlite tenant (the lists/analytics benches' synthetic ledger) it captures every statement the product's
 * reads make — the invoice list with every sort and filter, the customer list, customer pages, analytics, the
 * dashboard, risk scoring, the dunning plan — EXPLAINs each distinct one (EXPLAIN ANALYZE, min of 3, for reads),
 * then for each candidate index drops it inside a rolled-back transaction and EXPLAINs again the statements whose
 * plan used it. Prints, per index, its users with cost and time before → after and the index the plan falls back
 * to; writes every plan summary to out.json. An index no plan uses changes no plan when dropped.
 * `tsx bench/index-usage.ts [n=100000] [out.json]`
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { issueApiToken } from '../src/auth/api-tokens';
import { fixedClock } from '../src/clock';
import { loadConfig } from '../src/config';
import { findTenant } from '../src/db/queries/tenants';
import { buildApp } from '../src/http/app';
import { createLogger } from '../src/logger';
import { createServices } from '../src/services';
import { importHistoryCsv } from '../src/sync/csv-import';
import { createBenchDb } from './bench-db';
import { generateLedgerCsv } from './ledger-csv';

const n = Number(process.argv[2] ?? 100_000);
const outFile = process.argv[3] ?? 'index-usage.json';
const CANDIDATES = [
  'invoices_tenant_status_due_idx',
  'invoices_tenant_issue_idx',
  'invoices_tenant_due_id_idx',
  'invoices_tenant_balance_idx',
  'invoices_tenant_total_idx',
  'invoices_customer_status_idx',
  'payments_customer_date_idx',
  'payment_allocations_invoice_idx',
  'customers_tenant_name_icu_idx',
];

type Captured = { sql: string; params: unknown[]; source: string };

async function main() {
  const { handle, dataDir, dispose } = await createBenchDb('pglite');
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    DATA_DIR: dataDir,
    APP_SECRET: randomBytes(32).toString('hex'),
  });
  const services = await createServices(config, {
    dbh: handle,
    clock: fixedClock('2013-07-01'),
    logger: createLogger('silent'),
    queue: false,
  });
  const pg = handle.pglite!;
  try {
    await importHistoryCsv(services.db, Buffer.from(generateLedgerCsv(n)), {
      tenantName: 'bench',
      now: new Date('2013-07-01'),
    });
    const tenant = (await findTenant(services.db, 'bench'))!;
    const captured: Captured[] = [];
    let source = '';
    const origQuery = pg.query.bind(pg);
    const wrapQuery = (q: typeof origQuery) => (sqlText: string, params?: unknown[], opts?: unknown) => {
      captured.push({ sql: sqlText, params: params ?? [], source });
      return q(sqlText, params as never, opts as never);
    };
    (pg as unknown as { query: unknown }).query = wrapQuery(origQuery);
    const origTx = pg.transaction.bind(pg);
    (pg as unknown as { transaction: unknown }).transaction = (fn: (tx: unknown) => Promise<unknown>) =>
      origTx(async (tx) => {
        const tq = tx.query.bind(tx);
        (tx as unknown as { query: unknown }).query = wrapQuery(tq as never);
        return fn(tx);
      });

    source = 'risk.score';
    const t0 = performance.now();
    await services.risk.score(tenant.id, new Date('2013-07-01'));
    console.error(`scored in ${Math.round(performance.now() - t0)} ms`);

    const { token } = await issueApiToken(services.db, 'bench');
    const app = await buildApp(services);
    const headers = { authorization: `Bearer ${token}` };
    const api = (r: string) => `/api/v1/tenants/bench/${r}`;
    const get = async (r: string) => {
      source = `GET ${r}`;
      const res = await app.inject({ method: 'GET', url: api(r), headers });
      if (res.statusCode !== 200) console.error(`${res.statusCode} GET ${r}: ${res.body.slice(0, 200)}`);
      return res;
    };
    const post = async (r: string, body: unknown = {}) => {
      source = `POST ${r}`;
      const res = await app.inject({ method: 'POST', url: api(r), headers, payload: body as never });
      if (res.statusCode >= 300) console.error(`${res.statusCode} POST ${r}: ${res.body.slice(0, 200)}`);
      return res;
    };
    const customers = (await get('customers?limit=100')).json().items as { externalId: string }[];
    const some = customers.slice(0, 3).map((c) => c.externalId);
    const invoicesPage = (await get('invoices?sort=-balance&limit=50')).json();
    await get(`invoices?sort=-balance&limit=50&cursor=${invoicesPage.nextCursor}`);
    const sorts = [
      'dueDate',
      '-dueDate',
      'balance',
      'total',
      '-total',
      'issueDate',
      '-issueDate',
      'number',
      'customer',
      'paidDate',
      'status',
      '-daysOverdue',
      'risk',
      '-risk',
      'predictedPayDate',
      '-lastReminder',
      'nextReminder',
    ];
    for (const s of sorts) {
      const p = (await get(`invoices?sort=${s}&limit=50`)).json();
      if (p.nextCursor) await get(`invoices?sort=${s}&limit=50&cursor=${p.nextCursor}`);
    }
    for (const st of ['open', 'paid', 'all']) {
      await get(`invoices?status=${st}&limit=50`);
      await get(`invoices?status=${st}&sort=-balance&limit=50`);
    }
    for (const b of ['current', '1-30', '31-60', '61-90', '90+'])
      await get(`invoices?aging=${encodeURIComponent(b)}&sort=-daysOverdue&limit=50`);
    await get('invoices?overdue=true&limit=50');
    await get('invoices?q=C42&limit=50');
    await get('invoices?issuedFrom=2013-04-01&issuedTo=2013-06-30&limit=50');
    await get('invoices?dueFrom=2013-07-01&dueTo=2013-07-31&limit=50');
    await get('invoices?paidFrom=2013-06-01&paidTo=2013-06-30&limit=50');
    await get('invoices?expectedFrom=2013-07-01&expectedTo=2013-07-07&limit=50');
    await get('invoices?risk=high&limit=50');
    await get('invoices?minBalanceMinor=100000&limit=50');
    await get('invoices?disputed=true&limit=50');
    await get('invoices?status=open&format=csv');
    for (const c of some) {
      await get(`invoices?customer=${c}&limit=50`);
      await get(`invoices?customer=${c}&status=open&limit=50`);
      await get(`customers/${c}`);
      await get(`customers/${c}/risk`);
    }
    for (const s of [
      'name',
      'externalId',
      '-openInvoices',
      '-balance',
      '-overdue',
      '-daysOverdue',
      '-risk',
      '-lastContact',
      'nextAction',
    ]) {
      await get(`customers?sort=${s}&limit=100`);
    }
    await get('customers?q=C1&limit=100');
    await get('customers?overdue=true&limit=100');
    await get('customers?sort=-risk&minRisk=0&limit=5');
    for (const p of [30, 90, 180, 365]) await get(`analytics?period=${p}`);
    await get('sync-runs');
    await get('dunning/today');
    await get('customer-risk');
    await get('predictions?limit=50');
    const inv = invoicesPage.items?.[0];
    if (inv) await get(`invoices/${inv.externalId}/prediction`);
    await post('dunning/plan');
    await get('dunning/today');
    await get('invoices?sort=-lastReminder&limit=50');
    await get('invoices?sort=nextReminder&limit=50');
    await get('customers?sort=nextAction&limit=100');
    source = '';

    // Unique statements touching the ledger tables.
    const uniq = new Map<string, Captured>();
    for (const c of captured) {
      if (!/\b(invoices|payments|payment_allocations|customers|credit_memos)\b/.test(c.sql)) continue;
      if (!uniq.has(c.sql)) uniq.set(c.sql, c);
    }
    console.error(`${captured.length} statements captured, ${uniq.size} unique on ledger tables`);
    (pg as unknown as { query: unknown }).query = origQuery;

    const indexNames = (node: unknown, into: Set<string>) => {
      if (Array.isArray(node)) for (const x of node) indexNames(x, into);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === 'Index Name') into.add(String(v));
          else indexNames(v, into);
        }
      }
      return into;
    };
    const explainAll = async (analyze: boolean) => {
      const out: {
        sql: string;
        source: string;
        indexes: string[];
        cost: number;
        ms?: number;
        error?: string;
      }[] = [];
      for (const c of uniq.values()) {
        const isRead = /^\s*(select|with)\b/i.test(c.sql) && !/\b(insert|update|delete)\b/i.test(c.sql);
        try {
          await pg.query('savepoint s');
          const r = await pg.query<{ 'QUERY PLAN': unknown }>(
            `explain (format json${analyze && isRead ? ', analyze, timing off' : ''}) ${c.sql}`,
            c.params as never,
          );
          const plan = (
            r.rows[0]!['QUERY PLAN'] as { Plan: { 'Total Cost': number }; 'Execution Time'?: number }[]
          )[0]!;
          let ms = plan['Execution Time'];
          if (analyze && isRead) {
            // min of 3
            for (let k = 0; k < 2; k++) {
              const r2 = await pg.query<{ 'QUERY PLAN': unknown }>(
                `explain (format json, analyze, timing off) ${c.sql}`,
                c.params as never,
              );
              const p2 = (r2.rows[0]!['QUERY PLAN'] as { 'Execution Time': number }[])[0]!;
              ms = Math.min(ms ?? Infinity, p2['Execution Time']);
            }
          }
          await pg.query('release savepoint s');
          out.push({
            sql: c.sql,
            source: c.source,
            indexes: [...indexNames(plan, new Set())],
            cost: plan.Plan['Total Cost'],
            ms,
          });
        } catch (e) {
          await pg.query('rollback to savepoint s');
          out.push({ sql: c.sql, source: c.source, indexes: [], cost: -1, error: String(e).slice(0, 200) });
        }
      }
      return out;
    };
    await pg.query('begin');
    const base = await explainAll(true);
    await pg.query('rollback');
    const dropped: Record<string, Awaited<ReturnType<typeof explainAll>>> = {};
    for (const idx of CANDIDATES) {
      await pg.query('begin');
      await pg.query(`drop index ${idx}`);
      // Only re-run (with analyze) the statements whose base plan used the index.
      const users = new Set(base.filter((b) => b.indexes.includes(idx)).map((b) => b.sql));
      const all = await explainAll(false);
      const keep = all.filter((a) => users.has(a.sql));
      // timings for the affected reads
      const saved = new Map([...uniq]);
      uniq.clear();
      for (const s of users) uniq.set(s, saved.get(s)!);
      const timed = await explainAll(true);
      uniq.clear();
      for (const [k, v] of saved) uniq.set(k, v);
      dropped[idx] = keep.map((k) => ({ ...k, ms: timed.find((t) => t.sql === k.sql)?.ms }));
      await pg.query('rollback');
    }
    writeFileSync(outFile, JSON.stringify({ n, base, dropped }, null, 1));
    // Summary
    for (const idx of CANDIDATES) {
      const users = base.filter((b) => b.indexes.includes(idx));
      console.log(`\n## ${idx}: used by ${users.length} statement(s)`);
      for (const u of users) {
        const after = dropped[idx]!.find((d) => d.sql === u.sql);
        console.log(
          `- [${u.source}] cost ${u.cost.toFixed(0)} → ${after?.cost.toFixed(0)}; ms ${u.ms?.toFixed(2)} → ${after?.ms?.toFixed(2)}; after uses ${after?.indexes.join(',') || '(seq)'}\n    ${u.sql.replace(/\s+/g, ' ').slice(0, 160)}`,
        );
      }
    }
    const errors = base.filter((b) => b.error);
    if (errors.length)
      console.log(
        `\n${errors.length} statements failed to explain`,
        errors.slice(0, 5).map((e) => e.error),
      );
    await app.close();
  } finally {
    await services.close();
    await dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
