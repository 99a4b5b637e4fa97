/** The customer page's invoice table offers the ledger's pay link of every open invoice that has one (issue 14). */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { InvoiceTable } from '../../src/web/components/InvoiceTable';
import type { InvoiceRow } from '../../src/web/lib/types';

const row = (over: Partial<InvoiceRow> = {}): InvoiceRow => ({
  id: 'i1',
  externalId: 'A-1',
  number: 'A-1',
  customerId: 'c1',
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

describe('pay links on the invoice table', () => {
  it('links open invoices that have one, and shows no column when none has', () => {
    const html = renderToStaticMarkup(
      <InvoiceTable
        caption="x"
        showCustomer={false}
        rows={[
          row({ payLink: 'https://connect.intuit.com/pay/A-1' }),
          row({ id: 'i2', number: 'A-2', payLink: null }),
          row({ id: 'i3', number: 'A-3', status: 'paid', balanceMinor: 0, payLink: 'https://x.example/A-3' }),
          row({ id: 'i4', number: 'A-4', payLink: 'javascript:alert(1)' }),
        ]}
      />,
    );
    expect(html).toContain('Pay link</th>');
    expect(html).toContain('href="https://connect.intuit.com/pay/A-1"');
    expect(html).not.toContain('x.example/A-3');
    expect(html).not.toContain('javascript:');
    expect(renderToStaticMarkup(<InvoiceTable caption="x" rows={[row()]} />)).not.toContain('Pay link');
  });
});
