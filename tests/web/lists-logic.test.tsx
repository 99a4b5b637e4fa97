import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { bulkSummary, bulkTarget, paramsFrom, SortHeader, sortCaption } from '../../src/web/components/list';
import { canWork } from '../../src/web/lib/api';
import { historyText, openItemText } from '../../src/web/pages/Calls';
import { CUSTOMER_SORT_LABELS, dunningState, ledgerIdNote } from '../../src/web/pages/Customers';
import { drill } from '../../src/web/pages/Dashboard';
import { INVOICE_SORT_LABELS } from '../../src/web/pages/Invoices';

describe('list helpers', () => {
  it('reads only the known parameters from the URL, with defaults', () => {
    expect(
      paramsFrom(new URLSearchParams('q=acme&sort=-balance&evil=1'), ['q', 'sort', 'status'], {
        status: 'open',
      }),
    ).toEqual({
      q: 'acme',
      sort: '-balance',
      status: 'open',
    });
  });

  it('a header sorts ascending first (or descending when asked), then the other way, and says which', () => {
    const html = (sort: string, firstDesc = false) =>
      renderToStaticMarkup(
        <table>
          <thead>
            <tr>
              <SortHeader
                label="Open"
                sortKey="balance"
                sort={sort}
                onSort={() => {}}
                firstDesc={firstDesc}
              />
            </tr>
          </thead>
        </table>,
      );
    expect(html('dueDate')).toContain('aria-sort="none"');
    expect(html('balance')).toContain('aria-sort="ascending"');
    expect(html('-balance')).toContain('aria-sort="descending"');
  });

  it('a bulk request names the ids, or the filter (without sort or cursor) for "all matching"', () => {
    const params = { q: 'acme', sort: '-balance', status: 'open' };
    expect(bulkTarget({ ids: new Set(['a', 'b']), allMatching: false }, params)).toEqual({ ids: ['a', 'b'] });
    expect(bulkTarget({ ids: new Set(['a']), allMatching: true }, params)).toEqual({
      filter: { q: 'acme', status: 'open' },
    });
  });

  it('summarises a bulk result with the reasons rows were left alone', () => {
    expect(bulkSummary({ requested: 3, applied: 3, notApplied: [] }, 'approved')).toBe('3 approved.');
    expect(
      bulkSummary(
        {
          requested: 4,
          applied: 1,
          notApplied: [
            { id: 'a', reason: 'is sent, not awaiting approval' },
            { id: 'b', reason: 'is sent, not awaiting approval' },
            { id: 'c', reason: 'not found' },
          ],
        },
        'approved',
      ),
    ).toBe('1 approved; 3 left as they were (2 is sent, not awaiting approval; 1 not found).');
  });

  it('viewers may not work receivables; a missing role (older server) is an admin', () => {
    const base = { kind: 'session' as const, operator: false, tenant: null, csrfToken: null };
    expect(canWork({ ...base, role: 'viewer' })).toBe(false);
    expect(canWork({ ...base, role: 'collector' })).toBe(true);
    expect(canWork(base)).toBe(true);
  });
});

describe('page texts', () => {
  it('payment history reads early or late in whole days', () => {
    expect(historyText(-11)).toBe(', on average 11 days early');
    expect(historyText(4.6)).toBe(', on average 5 days late');
    expect(historyText(1)).toBe(', on average 1 day late');
    expect(historyText(0.2)).toBe(', on time on average');
    expect(historyText(null)).toBe('');
  });

  it("a call's open item says 1 day overdue, not '1 days overdue'", () => {
    const item = { number: 'INV287', openMinor: 188_439, currency: 'USD', dueDate: '2013-06-30' };
    expect(openItemText({ ...item, daysOverdue: 1 })).toBe('INV287: $1,884.39, 1 day overdue');
    expect(openItemText({ ...item, daysOverdue: 13 })).toBe('INV287: $1,884.39, 13 days overdue');
    expect(openItemText({ ...item, daysOverdue: 0 })).toBe('INV287: $1,884.39, due Jun 30, 2013');
  });

  it("a customer's reminders state", () => {
    expect(dunningState({ excluded: true, pausedUntil: null }, '2013-07-01')).toBe('Excluded');
    expect(dunningState({ excluded: false, pausedUntil: '2013-07-09' }, '2013-07-01')).toBe(
      'Paused until Jul 9, 2013',
    );
    expect(dunningState({ excluded: false, pausedUntil: '2013-06-09' }, '2013-07-01')).toBe('');
  });

  it('dashboard drill-downs open the invoice list filtered the way the figure counts', () => {
    expect(drill.aging('USD', '90+', '2013-07-01')).toBe(
      '/invoices?status=open&currency=USD&aging=90%2B&issuedTo=2013-07-01&sort=-balance',
    );
    expect(drill.open('USD', '2013-07-01')).toBe('/invoices?status=open&currency=USD&issuedTo=2013-07-01');
    expect(drill.week('USD', 'predicted', '2013-07-01', '2013-07-07', '2013-07-01')).toContain(
      'expectedFrom=2013-07-01&expectedTo=2013-07-07',
    );
    expect(drill.week('USD', 'due_date', '2013-07-01', '2013-07-07', '2013-07-01')).toContain(
      'dueFrom=2013-07-01&dueTo=2013-07-07',
    );
  });
});

describe('customer name cell', () => {
  it('shows the ledger id next to the name only when it says something the name does not', () => {
    // A CSV ledger names customers by their id: "Adam Adam" said nothing twice.
    expect(ledgerIdNote({ name: 'Adam', externalId: 'Adam' })).toBeNull();
    expect(ledgerIdNote({ name: ' 3993-QUNVJ', externalId: '3993-QUNVJ' })).toBeNull();
    expect(ledgerIdNote({ name: 'Acme Supplies', externalId: '58' })).toBe('58');
  });
});

describe('hidden table captions', () => {
  it('name the sort by the column a reader hears, never the API field ("sorted by daysOverdue")', () => {
    expect(sortCaption('Invoices', '-daysOverdue', INVOICE_SORT_LABELS)).toBe(
      'Invoices, sorted by Days late, descending',
    );
    expect(sortCaption('Customers', 'daysOverdue', CUSTOMER_SORT_LABELS)).toBe(
      'Customers, sorted by Oldest overdue, ascending',
    );
    expect(sortCaption('Customers', '-nextAction', CUSTOMER_SORT_LABELS)).toBe(
      'Customers, sorted by Next reminder (UTC), descending',
    );
    // A sort no column shows (from a shared link) is spelt out in words.
    expect(sortCaption('Invoices', 'predictedPayDate', INVOICE_SORT_LABELS)).toBe(
      'Invoices, sorted by predicted pay date, ascending',
    );
  });
});
