/** The settings app's logic outside the browser: formatting, routing, the API client, table columns, nav. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { pickTenant } from '../../src/web/App';
import { hasRisk, InvoiceTable } from '../../src/web/components/InvoiceTable';
import { Api, ApiError, apiPath, type SessionInfo } from '../../src/web/lib/api';
import {
  displayZone,
  formatDate,
  formatInstant,
  formatKpi,
  formatMoney,
  formatShare,
  setDisplayZone,
} from '../../src/web/lib/format';
import { matchRoute } from '../../src/web/lib/router';
import type { Connection, InvoiceRow, Tenant } from '../../src/web/lib/types';
import { navEntries } from '../../src/web/nav';
import { predictionText } from '../../src/web/pages/Calls';
import { describeRun, noRunsText, runsShown } from '../../src/web/pages/Connections';
import { ImportProblems, importProblems, importSummary } from '../../src/web/pages/connections/csv-upload';
import {
  DELINQUENCY_ABOUT,
  delinquencyHint,
  Kpi,
  revenueAtRiskHint,
  revenueAtRiskLinks,
} from '../../src/web/pages/Dashboard';
import { filtersFromSearch, withPredictions } from '../../src/web/pages/Invoices';

describe('format', () => {
  it('money from minor units, by currency exponent, without float sums', () => {
    expect(formatMoney(123450, 'USD')).toBe('$1,234.50');
    expect(formatMoney(5, 'USD')).toBe('$0.05');
    expect(formatMoney(-5, 'USD')).toBe('-$0.05');
    expect(formatMoney(1234, 'JPY')).toBe('¥1,234');
    expect(formatMoney(900719925474099, 'USD')).toBe('$9,007,199,254,740.99');
    expect(formatMoney(2_350_000, 'USD', 'en-US', true)).toBe('$23.5K');
  });

  it('calendar dates without a time-zone shift, and empty values as a dash', () => {
    expect(formatDate('2013-07-01')).toBe('Jul 1, 2013');
    expect(formatDate(null)).toBe('—');
    expect(formatShare(0.1613)).toBe('16.1%');
    expect(formatShare(null)).toBe('—');
    expect(formatKpi(148.6, 'days')).toBe('148.6 days');
    expect(formatKpi(null, '%')).toBe('—');
  });

  it('times in one zone, the company’s, whatever the viewer’s (issue 16: one zone, always labelled)', () => {
    const viewer = Intl.DateTimeFormat().resolvedOptions().timeZone;
    try {
      setDisplayZone('America/New_York');
      expect(displayZone()).toBe('America/New_York');
      expect(formatInstant('2013-07-01T14:05:00Z')).toBe('Jul 1, 2013, 10:05 AM');
      setDisplayZone('Asia/Tokyo');
      expect(formatInstant('2013-07-01T14:05:00Z')).toBe('Jul 1, 2013, 11:05 PM');
      // No company (or a zone this browser does not know): the viewer's, which the label then names.
      setDisplayZone('Not/A_Zone');
      expect(displayZone()).toBe(viewer);
      setDisplayZone(null);
      expect(displayZone()).toBe(viewer);
    } finally {
      setDisplayZone(null);
    }
  });
});

describe('router', () => {
  it('matches patterns with params, ignoring a trailing slash', () => {
    expect(matchRoute(navEntries, '/')).toMatchObject({ name: 'dashboard' });
    expect(matchRoute(navEntries, '/invoices/')).toMatchObject({ name: 'invoices' });
    expect(matchRoute(navEntries, '/customers/AC%20ME')).toEqual({
      name: 'customer',
      params: { customer: 'AC ME' },
    });
    expect(matchRoute(navEntries, '/nope')).toBeNull();
  });

  it('has one route per pattern; the dunning pages (built, see dunning-browser.test.ts) sit before Settings', () => {
    const patterns = navEntries.map((e) => e.pattern);
    expect(new Set(patterns).size).toBe(patterns.length);
    for (const e of navEntries) expect(typeof e.component).toBe('function');
    const names = navEntries.map((e) => e.name);
    expect(names.slice(-5)).toEqual(['sequences', 'approvals', 'calls', 'messages', 'settings']);
  });
});

describe('API client', () => {
  const ok = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it('sends the CSRF token on state-changing requests only', async () => {
    const fetchMock = vi.fn(async (..._args: Parameters<typeof fetch>) => ok({ ok: true }));
    const api = new Api(fetchMock as unknown as typeof fetch);
    fetchMock.mockResolvedValueOnce(
      ok({ kind: 'session', operator: true, tenant: null, csrfToken: 'csrf-1' } satisfies SessionInfo),
    );
    await api.session();
    await api.get('/api/v1/tenants');
    await api.post('/api/v1/session/logout');
    const headersOf = (i: number) =>
      (fetchMock.mock.calls[i]![1] as RequestInit).headers as Record<string, string>;
    expect(headersOf(1)['x-csrf-token']).toBeUndefined();
    expect(headersOf(2)['x-csrf-token']).toBe('csrf-1');
    expect((fetchMock.mock.calls[2]![1] as RequestInit).credentials).toBe('same-origin');
  });

  it("turns error bodies into ApiError with the server's message", async () => {
    const api = new Api((async () =>
      ok({ error: { code: 'forbidden', message: 'no' } }, 403)) as typeof fetch);
    const err = await api.get('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: 'forbidden', message: 'no' });
    const html = new Api(
      (async () => new Response('<html>bad gateway</html>', { status: 502 })) as typeof fetch,
    );
    await expect(html.get('/x')).rejects.toMatchObject({ status: 502, message: 'Request failed (502)' });
  });

  it('builds tenant paths and drops empty filters', () => {
    expect(
      apiPath('acme corp', 'invoices', { status: 'open', overdue: '', customer: undefined, limit: 50 }),
    ).toBe('/api/v1/tenants/acme%20corp/invoices?status=open&limit=50');
  });
});

const row = (over: Partial<InvoiceRow> = {}): InvoiceRow => ({
  id: 'i1',
  externalId: 'INV1',
  number: 'INV1',
  customerId: 'c1',
  customerName: 'Acme',
  issueDate: '2013-05-01',
  dueDate: '2013-05-31',
  currency: 'USD',
  totalMinor: 10000,
  balanceMinor: 10000,
  status: 'open',
  paidDate: null,
  daysOverdue: 31,
  ...over,
});

describe('invoice table', () => {
  it('shows risk columns only when rows carry predictions', () => {
    const plain = renderToStaticMarkup(<InvoiceTable rows={[row()]} caption="x" />);
    expect(plain).not.toContain('Predicted payment');
    expect(plain).toContain('$100.00');
    expect(plain).toContain('overdue');
    const scored = withPredictions(
      [row(), row({ id: 'i2', status: 'paid', daysOverdue: 0 })],
      new Map([
        [
          'i1',
          {
            invoiceId: 'i1',
            pLate: 0.82,
            riskBand: 'high',
            predictedPayDate: '2013-07-20',
            payDateP10: '',
            payDateP90: '',
          },
        ],
        [
          'i2',
          {
            invoiceId: 'i2',
            pLate: 0.1,
            riskBand: 'low',
            predictedPayDate: '2013-07-02',
            payDateP10: '',
            payDateP90: '',
          },
        ],
      ]),
    );
    expect(hasRisk(scored)).toBe(true);
    expect(scored[1]!.riskBand).toBeUndefined(); // paid invoices are not scored
    const html = renderToStaticMarkup(<InvoiceTable rows={scored} caption="x" />);
    expect(html).toContain('Predicted payment');
    // Without collection chances (an older prediction) the badge still gives P(late).
    expect(html).toContain('high · 82% late');
    expect(html).toContain('Jul 20, 2013');
    // Overdue with collection chances: late is certain, so the badge gives P(paid within 90 days), the tooltip both.
    const overdueTable = (
      riskBand: 'high' | 'medium' | 'low',
      predictedPayDate: string,
      pCollect30: number,
      pCollect90: number,
    ) =>
      renderToStaticMarkup(
        <InvoiceTable
          rows={withPredictions(
            [row()],
            new Map([
              [
                'i1',
                {
                  invoiceId: 'i1',
                  pLate: 1,
                  riskBand,
                  predictedPayDate,
                  payDateP10: '',
                  payDateP90: '',
                  pCollect30,
                  pCollect90,
                },
              ],
            ]),
          )}
          caption="x"
        />,
      );
    const late = overdueTable('high', '2013-10-20', 0.12, 0.4);
    expect(late).toContain('high · 40% paid in 90 d');
    expect(late).toContain(
      'title="Still unpaid 31 days after the due date: 12% chance it is paid within 30 days, 40% within 90 days"',
    );
    expect(late).not.toContain('100%');
    // Less than even odds within 90 days: no pay date a controller could plan on.
    expect(late).toContain('not expected within 90 days');
    expect(late).not.toContain('Oct 20, 2013');
    const soon = overdueTable('medium', '2013-07-20', 0.5, 0.8);
    expect(soon).toContain('Jul 20, 2013');
    expect(soon).not.toContain('not expected within 90 days');
  });

  it('says what a call needs of each prediction: collection chances once overdue, P(late) before', () => {
    const p = { pLate: 1, predictedPayDate: '2015-06-01', pCollect30: 0.01, pCollect90: 0.03 };
    expect(predictionText({ ...p, daysOverdue: 400 })).toBe(
      '1% chance paid within 30 days, 3% within 90, not expected within 90 days',
    );
    expect(predictionText({ ...p, pLate: 0.35, daysOverdue: 0, predictedPayDate: '2013-07-20' })).toBe(
      '35% likely late, expected Jul 20, 2013',
    );
    // A task opened before the collection chances were gathered still reads.
    expect(predictionText({ pLate: 0.8, predictedPayDate: '2013-07-20', daysOverdue: 0 })).toBe(
      '80% likely late, expected Jul 20, 2013',
    );
  });

  it('reads filters from the URL and ignores unknown values', () => {
    expect(filtersFromSearch(new URLSearchParams('status=open&overdue=true&customer=ACME'))).toEqual({
      status: 'open',
      overdue: 'true',
      customer: 'ACME',
    });
    expect(filtersFromSearch(new URLSearchParams('status=all&overdue=maybe'))).toEqual({
      status: '',
      overdue: '',
      customer: '',
    });
    // No status in the URL: open invoices.
    expect(filtersFromSearch(new URLSearchParams('')).status).toBe('open');
  });
});

describe('tenant choice and sync runs', () => {
  const tenants: Tenant[] = [
    { id: 't1', slug: 'acme', name: 'Acme', source: 'csv', timezone: 'UTC', currency: 'USD' },
    { id: 't2', slug: 'beta', name: 'Beta', source: 'quickbooks', timezone: 'UTC', currency: 'EUR' },
  ];
  const operator: SessionInfo = { kind: 'session', operator: true, tenant: null, csrfToken: 'x' };

  it('a tenant session always shows its tenant; the operator gets the remembered or first one', () => {
    const bound: SessionInfo = {
      ...operator,
      operator: false,
      tenant: { id: 't2', slug: 'beta', name: 'Beta', timezone: 'UTC' },
    };
    expect(pickTenant(bound, tenants, 'acme')?.slug).toBe('beta');
    expect(pickTenant(operator, tenants, 'beta')?.slug).toBe('beta');
    expect(pickTenant(operator, tenants, 'gone')?.slug).toBe('acme');
    expect(pickTenant(operator, [], null)).toBeNull();
  });

  it('an upload says what the ledger amounts to, as of the file’s latest date', () => {
    const r = {
      rows: 1234,
      customers: 120,
      invoices: { inserted: 10, updated: 1224, open: 45, paid: 1189 },
      asOf: '2014-03-31',
      openBalance: { USD: 1_234_567, EUR: 10_000 },
    };
    expect(importSummary(r)).toBe(
      'Ledger as of Mar 31, 2014: 120 customers, 45 open invoices, €100.00 + $12,345.67 open. ' +
        'Imported 1,234 invoices: 10 new, 1,224 updated, 1,189 paid.',
    );
    const one = {
      ...r,
      rows: 1,
      customers: 1,
      invoices: { inserted: 1, updated: 0, open: 0, paid: 1 },
      openBalance: {},
    };
    expect(importSummary(one)).toBe(
      'Ledger as of Mar 31, 2014: 1 customer, 0 open invoices, nothing open. Imported 1 invoice: 1 new, 0 updated, 1 paid.',
    );
  });

  it('a refused upload says how many problems the file has and how many more there are than listed', () => {
    const details = Array.from({ length: 200 }, (_, i) => ({
      line: i + 3,
      column: 'amount',
      message: `"x${i}" is not a decimal amount in USD`,
    }));
    const message = 'The file was not imported: 301 errors; the first 200 are listed (line 3, …)';
    const many = importProblems(new ApiError(422, 'invalid_csv', message, details, 301));
    expect(many.total).toBe(301);
    expect(many.list).toHaveLength(20);
    const html = renderToStaticMarkup(<ImportProblems {...many} />);
    expect(html).toContain('The file was not imported: 301 problems. The first 20:');
    expect(html).toContain('Line 3, amount: &quot;x0&quot; is not a decimal amount in USD');
    expect(html).not.toContain('x20');
    expect(html).toContain('… and 281 more.');
    // The server's prose ("the first 200 are listed") is not shown next to a list of 20.
    expect(html).not.toContain('200');

    // All of them listed: no "more"; one problem in the singular.
    const one = importProblems(new ApiError(422, 'invalid_csv', message, details.slice(0, 1), 1));
    const oneHtml = renderToStaticMarkup(<ImportProblems {...one} />);
    expect(oneHtml).toContain('The file was not imported: 1 problem.');
    expect(oneHtml).not.toContain('more');
    // An older server without `total`: what it listed is all the page knows.
    expect(importProblems(new ApiError(422, 'invalid_csv', message, details.slice(0, 3))).total).toBe(3);
    // A refusal without problems (409 for a synced company, 413): none, the banner carries the message.
    expect(importProblems(new ApiError(409, 'conflict', 'synced'))).toEqual({ list: [], total: 0 });
  });

  it('revenue at risk: the high-risk figure, over all open invoices, never reads as a part of the overdue total', () => {
    // The demo company: $215,893.81 overdue, $238,503.89 of open invoices at high risk (some not yet due).
    const risk = {
      overdueMinor: 21_589_381,
      highRiskMinor: 23_850_389,
      highRiskCount: 140,
      highRiskThreshold: 0.5,
      modelChange: null,
    };
    const hint = revenueAtRiskHint(risk, 262, 'USD');
    expect(hint).toBe('262 overdue invoices · 140 open invoices at high risk (due or not), $238,503.89');
    expect(hint).not.toContain('Overdue · high risk');
    expect(revenueAtRiskHint({ ...risk, highRiskMinor: null, highRiskCount: null }, 1, 'USD')).toBe(
      '1 overdue invoice',
    );
    // After the first tenant model took over, the count halved with nothing said: the hint names the change.
    const changed = { ...risk, modelChange: { on: '2026-12-07', highBefore: 277, highAfter: 141 } };
    expect(revenueAtRiskHint(changed, 262, 'USD')).toBe(
      `${hint} · the model changed on ${formatDate('2026-12-07')}: 277 → 141 at high risk in all currencies, from its own risk bands (Settings › Payment-delay model)`,
    );
  });

  it('revenue at risk: one list for the overdue figure, one for the high-risk invoices its hint counts', () => {
    const risk = {
      overdueMinor: 100,
      highRiskMinor: 200,
      highRiskCount: 3,
      highRiskThreshold: 0.5,
      modelChange: null,
    };
    const links = revenueAtRiskLinks(risk, 'USD', '2026-12-06');
    expect(links).toEqual([
      { href: '/invoices?status=open&overdue=true&currency=USD&sort=-daysOverdue', what: 'overdue invoices' },
      {
        href: '/invoices?status=open&currency=USD&risk=high&issuedTo=2026-12-06&sort=-balance',
        what: 'high-risk invoices',
      },
    ]);
    // Without risk scores there is no high-risk figure, and no list of it.
    expect(
      revenueAtRiskLinks({ ...risk, highRiskMinor: null, highRiskCount: null }, 'USD', '2026-12-06'),
    ).toHaveLength(1);
    const html = renderToStaticMarkup(
      <Kpi testId="k" label="Revenue at risk" value="$1.00" hint="h" links={links} />,
    ).replace(/<[^>]+>/g, '|');
    expect(html).toContain('Show overdue invoices');
    expect(html).toContain('Show high-risk invoices');
  });

  it('average days delinquent says in one sentence what it is, beside the overdue invoices’ own average', () => {
    const html = renderToStaticMarkup(
      <Kpi
        testId="k"
        label="Average days delinquent"
        value="30.7 days"
        hint={delinquencyHint(161)}
        about={DELINQUENCY_ABOUT}
        href="/x"
      />,
    );
    expect(html).toContain('days of sales the overdue balance adds to DSO');
    expect(html).toContain('Overdue invoices average 161.0 days late');
    expect(html).toContain('Show invoices');
  });

  it('the average-days-delinquent hint: no "average — late" when nothing is overdue, and old debt also in years', () => {
    expect(delinquencyHint(null)).toBe('No overdue invoices');
    expect(delinquencyHint(12.34)).toBe('Overdue invoices average 12.3 days late');
    // An old export imported today: every open invoice is years overdue.
    expect(delinquencyHint(4896.5)).toBe('Overdue invoices average 4896.5 days late (about 13 years)');
  });

  it('describes imports and syncs', () => {
    const base = { id: 'r', status: 'succeeded' as const, error: null, startedAt: '', finishedAt: null };
    expect(
      describeRun({ ...base, kind: 'import', source: { fileName: 'a.csv' }, stats: { rows: 1200 } }),
    ).toBe('a.csv · 1,200 rows');
    expect(
      describeRun({ ...base, kind: 'incremental', source: {}, stats: { invoices: 3, payments: 0 } }),
    ).toBe('QuickBooks sync of changes · 3 invoices read');
  });

  it('lists a running sync the runs list does not have yet, with what it read so far, not "nothing synced yet"', () => {
    const running = {
      id: 'run-2',
      kind: 'full' as const,
      status: 'running' as const,
      startedAt: '2026-12-07T06:00:00.000Z',
      finishedAt: null,
      progress: {
        entities: {
          customers: { pages: 1, rows: 150, done: true },
          invoices: { pages: 2, rows: 1200, done: false },
        },
      },
      stats: {},
      error: null,
    };
    const conn = {
      id: 'c1',
      provider: 'quickbooks',
      status: 'active',
      lastRun: null,
      lastSyncAt: null,
      runningSync: running,
    } as unknown as Connection;
    const shown = runsShown([], [conn]);
    expect(shown.map((r) => [r.id, r.status])).toEqual([['run-2', 'running']]);
    expect(describeRun(shown[0]!)).toBe(
      'QuickBooks full sync · in progress: 150 customers, 1,200 invoices read so far',
    );
    // Once the list has it, it is listed once.
    const stored = { ...shown[0]!, stats: {} };
    expect(runsShown([stored], [conn])).toHaveLength(1);
    expect(describeRun(stored)).toBe('QuickBooks full sync · in progress');
    // Connected, the first sync queued but not started: about to start, not "nothing synced".
    expect(noRunsText([{ ...conn, runningSync: null }])).toBe(
      'A sync is about to start: it is listed here as soon as it runs.',
    );
    expect(noRunsText([])).toBe('Nothing imported or synced yet.');
  });

  it('says what a sync read in records a controller knows, never its pages or internal counters', () => {
    const base = { id: 'r', status: 'succeeded' as const, error: null, startedAt: '', finishedAt: null };
    // The demo's first sync, as stored: pages first, credit memos fifth (the first four used to be shown).
    const stats = {
      pages: 18,
      invoices: 4999,
      payments: 5087,
      customers: 150,
      creditMemos: 118,
      allocations: 5200,
      allocationsSkipped: 2,
      placeholders: 1,
      stale: 3,
      deletions: 0,
    };
    const line = describeRun({ ...base, kind: 'full', source: { provider: 'quickbooks' }, stats });
    expect(line).toBe(
      'QuickBooks full sync · 150 customers, 4,999 invoices, 118 credit memos, 5,087 payments read',
    );
    expect(line).not.toMatch(/pages|allocation|placeholder|stale/);
    expect(
      describeRun({ ...base, kind: 'incremental', source: { provider: 'netsuite' }, stats: { pages: 1 } }),
    ).toBe('NetSuite sync of changes · nothing new');
    expect(
      describeRun({
        ...base,
        kind: 'incremental',
        source: {},
        stats: { pages: 2, invoices: 1, deletions: 2 },
      }),
    ).toBe('QuickBooks sync of changes · 1 invoice read, 2 deleted in the ledger');
  });
});
