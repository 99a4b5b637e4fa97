/**
 * The lists (invoices, customers, messages, tasks) as a finance team uses them: search by number, name or email;
 * sort on a column either way; keyset pages that together are exactly the sorted set; `total` and totals of the
 * filtered set; `format=csv` with every matching row, formula-safe.
 */
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db/client';
import { planTenant } from '../../src/dunning/engine';
import type { Services } from '../../src/services';
import { suiteSetup } from '../dunning-engine/fixtures';
import { parseCsv } from '../helpers/csv';
import { allPages } from './pages';

let s: Services;
let app: FastifyInstance;
let auth: { authorization: string };
let tenant: string;

const suite = suiteSetup();
beforeAll(async () => {
  ({ s, app, tenantId: tenant, auth } = suite);
  // Real names (the CSV ledger names customers by id), one of them hostile to spreadsheets; FUT has no address.
  await s.db.execute(sql`update customers set name = case external_id
      when 'RELY' then 'Reliable Widgets' when 'SLOW' then 'Slowpoke Supplies' when 'MID' then 'Middling Co'
      else '=HYPERLINK("http://evil.example","Futura")' end where tenant_id = ${tenant}::uuid`);
  await s.db.execute(
    sql`update customers set emails = '{}' where external_id = 'FUT' and tenant_id = ${tenant}::uuid`,
  );
  await planTenant(s, tenant);
}, 120_000);

const get = (path: string) => app.inject({ url: `/api/v1/tenants/${tenant}/${path}`, headers: auth });
const json = async (path: string) => {
  const r = await get(path);
  expect(r.statusCode, r.body).toBe(200);
  return r.json();
};

interface Inv {
  id: string;
  externalId: string;
  customerName: string;
  totalMinor: number;
  balanceMinor: number;
  status: string;
  paidDate: string | null;
  daysOverdue: number;
  nextReminderAt: string | null;
}

describe('invoices list', () => {
  it('finds invoices by customer name, invoice number or email, case-insensitively', async () => {
    const byName = await json('invoices?q=slowpoke&status=open');
    expect(byName.items.map((i: Inv) => i.externalId).sort()).toEqual(['SLOW-O', 'SLOW-O2']);
    expect(byName.total).toBe(2);
    const byNumber = await json('invoices?q=mid-o');
    expect(byNumber.items.map((i: Inv) => i.externalId)).toEqual(['MID-O']);
    const byEmail = await json('invoices?q=ap@rely.example&status=open');
    expect(byEmail.items.map((i: Inv) => i.externalId)).toEqual(['RELY-O']);
    // A % in the search is a character, not a wildcard.
    expect((await json('invoices?q=%25')).total).toBe(0);
    // An invoice whose email names several addresses (stored ", "-joined) is found by any of them.
    await s.db.execute(
      sql`update invoices set bill_email = 'payables@mid.example, Controller@mid.example'
          where external_id = 'MID-H3' and tenant_id = ${tenant}::uuid`,
    );
    expect((await json('invoices?q=controller@MID')).items.map((i: Inv) => i.externalId)).toEqual(['MID-H3']);
    expect((await json('invoices?q=payables@mid')).items.map((i: Inv) => i.externalId)).toEqual(['MID-H3']);
  });

  it('sorts by balance both ways and reports the count and totals of the filtered set', async () => {
    const desc = await json('invoices?status=open&sort=-balance');
    const balances = desc.items.map((i: Inv) => i.balanceMinor);
    expect(balances).toEqual([250000, 120000, 90000, 80000, 50000]);
    expect(desc.total).toBe(5);
    expect(desc.totals).toEqual([
      expect.objectContaining({ currency: 'USD', count: 5, balanceMinor: 590000, overdueMinor: 380000 }),
    ]);
    const asc = await json('invoices?status=open&sort=balance');
    expect(asc.items.map((i: Inv) => i.balanceMinor)).toEqual([...balances].reverse());
    const customer = await json('invoices?status=open&sort=customer');
    expect(customer.items.map((i: Inv) => i.customerName)[0]).toBe(
      '=HYPERLINK("http://evil.example","Futura")',
    );
  });

  it('keyset pages on any sort column add up to exactly the sorted set, with no row twice', async () => {
    for (const sort of ['-total', 'paidDate', '-paidDate', 'customer', '-daysOverdue', 'nextReminder']) {
      const whole = await json(`invoices?sort=${sort}&limit=500`);
      expect(whole.total).toBe(101);
      const paged = await allPages<Inv>(json, `invoices?sort=${sort}`, 7);
      expect(paged.map((i) => i.id)).toEqual(whole.items.map((i: Inv) => i.id));
    }
    await expect(get('invoices?cursor=bm9wZQ')).resolves.toMatchObject({ statusCode: 400 });
  });

  it("shows a paid invoice's original amount and paid date, and open invoices' days overdue and next reminder", async () => {
    const paid = await json('invoices?status=paid&q=SLOW-H0');
    expect(paid.items[0]).toMatchObject({ totalMinor: 100000, balanceMinor: 0, status: 'paid' });
    expect(paid.items[0].paidDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const slow = await json('invoices?q=SLOW-O2');
    expect(slow.items[0]).toMatchObject({ daysOverdue: 5 });
    const planned = (await json('invoices?status=open&limit=50')).items.filter((i: Inv) => i.nextReminderAt);
    expect(planned.length).toBeGreaterThan(0);
  });

  it('filters by aging bucket and due-date window, as the dashboard drills down', async () => {
    const b = await json('invoices?aging=1-30&sort=dueDate');
    expect(b.items.map((i: Inv) => i.externalId)).toEqual(['MID-O', 'SLOW-O', 'SLOW-O2']);
    const current = await json('invoices?aging=current');
    expect(current.items.map((i: Inv) => i.externalId).sort()).toEqual(['FUT-O', 'RELY-O']);
    const window = await json('invoices?status=open&dueFrom=2013-07-01&dueTo=2013-07-07');
    expect(window.items.map((i: Inv) => i.externalId)).toEqual(['RELY-O']);
    expect((await get('invoices?aging=100')).statusCode).toBe(400);
    expect((await get('invoices?sort=colour')).statusCode).toBe(400);
  });

  it('exports exactly the filtered set as CSV, in the list order, formula-safe', async () => {
    const r = await get('invoices?status=open&sort=-balance&format=csv');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    // Excel reads a CSV without a byte order mark in the system's code page: "Zoë Ärger GmbH" opened as
    // "ZoÃ« Ã„rger GmbH". The mark makes it read UTF-8 (the spreadsheet the finance team opens the export in).
    expect(r.rawPayload.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(r.headers['content-disposition']).toMatch(/attachment; filename=".*invoices-2013-07-01\.csv"/);
    const rows = parseCsv(r.body);
    const header = rows[0]!;
    expect(header).toEqual(
      expect.arrayContaining(['Invoice', 'Customer', 'Original amount', 'Open balance', 'Paid date']),
    );
    const body = rows.slice(1);
    expect(body.map((x) => x[0])).toEqual(['SLOW-O', 'RELY-O', 'FUT-O', 'MID-O', 'SLOW-O2']);
    const col = (name: string) => header.indexOf(name);
    expect(body.map((x) => x[col('Open balance')])).toEqual([
      '2500.00',
      '1200.00',
      '900.00',
      '800.00',
      '500.00',
    ]);
    const fut = body.find((x) => x[0] === 'FUT-O')!;
    expect(fut[col('Customer')]).toBe(`'=HYPERLINK("http://evil.example","Futura")`);
    // All matching rows, not one page.
    const all = parseCsv((await get('invoices?format=csv&limit=5')).body);
    expect(all.length - 1).toBe(101);
  });
});

describe('customers list', () => {
  it('sorts by balance and overdue, searches by name, and carries overdue, risk, contact and state columns', async () => {
    const byBalance = await json('customers?sort=-balance');
    expect(byBalance.items.map((c: { externalId: string }) => c.externalId)).toEqual([
      'SLOW',
      'RELY',
      'FUT',
      'MID',
    ]);
    expect(byBalance.total).toBe(4);
    expect(byBalance.totals).toEqual({ openBalanceMinor: 590000, overdueMinor: 380000 });
    expect(byBalance.items[0]).toMatchObject({
      openInvoices: 2,
      openBalanceMinor: 300000,
      overdueMinor: 300000,
      maxDaysOverdue: 12,
      excluded: false,
      pausedUntil: null,
    });
    expect(byBalance.items[0]).toHaveProperty('riskScore');
    expect(byBalance.items[0]).toHaveProperty('nextActionAt');
    const found = await json('customers?q=MIDDLING');
    expect(found.items.map((c: { name: string }) => c.name)).toEqual(['Middling Co']);
    const overdue = await json('customers?overdue=true&sort=-overdue');
    expect(overdue.items.map((c: { externalId: string }) => c.externalId)).toEqual(['SLOW', 'MID']);
    const paged = await allPages<{ id: string }>(json, 'customers?sort=-daysOverdue', 1);
    expect(paged.map((c) => c.id)).toEqual(
      (await json('customers?sort=-daysOverdue')).items.map((c: { id: string }) => c.id),
    );
  });

  it('still answers the older offset pages', async () => {
    const r = await json('customers?limit=2&offset=2');
    expect(r.items.map((c: { name: string }) => c.name)).toEqual(['Reliable Widgets', 'Slowpoke Supplies']);
    expect(r.offset).toBe(2);
  });

  it('exports the filtered customers as CSV', async () => {
    const rows = parseCsv((await get('customers?overdue=true&sort=-overdue&format=csv')).body);
    expect(rows.slice(1).map((x) => x[1])).toEqual(['SLOW', 'MID']);
  });
});

describe('messages and tasks', () => {
  it('lists messages with the customer name and amount, searchable by customer, with total by status', async () => {
    const all = await json('dunning/messages?limit=500');
    expect(all.total).toBe(all.items.length);
    expect(all.items.length).toBeGreaterThan(0);
    // Unsorted, the list follows its first column, the send time (sent, else planned), newest first — not when the
    // message was planned: the one planned first is moved to the latest send time and leads the list.
    const plannedFirst = all.items.at(-1)!.id as string;
    const [was] = rowsOf<{ sendAt: string }>(
      await s.db.execute(
        sql`select send_at::text as "sendAt" from dunning_messages where id = ${plannedFirst}`,
      ),
    );
    // A day after the latest send time shown (a day after its own was not always past the latest).
    await s.db.execute(
      sql`update dunning_messages set send_at = (
            select max(coalesce(sent_at, send_at)) from dunning_messages where tenant_id = (
              select tenant_id from dunning_messages where id = ${plannedFirst})) + interval '1 day'
          where id = ${plannedFirst}`,
    );
    try {
      const moved = await json('dunning/messages?limit=500');
      const shown = moved.items.map((m: { sentAt: string | null; sendAt: string }) =>
        Date.parse(m.sentAt ?? m.sendAt),
      );
      expect(moved.items[0].id).toBe(plannedFirst);
      expect(shown).toEqual([...shown].sort((a, b) => b - a));
    } finally {
      await s.db.execute(
        sql`update dunning_messages set send_at = ${was!.sendAt}::timestamptz where id = ${plannedFirst}`,
      );
    }
    const slow = await json('dunning/messages?q=slowpoke');
    expect(slow.items.length).toBeGreaterThan(0);
    expect(slow.items.every((m: { customerName: string }) => m.customerName === 'Slowpoke Supplies')).toBe(
      true,
    );
    expect(slow.items.length).toBeLessThan(all.items.length);
    const byAmount = await json('dunning/messages?sort=-amount');
    const amounts = byAmount.items.map((m: { amountMinor: number }) => m.amountMinor);
    expect(amounts).toEqual([...amounts].sort((a, b) => b - a));
    const none = await json('dunning/messages?from=2030-01-01');
    expect(none.total).toBe(0);
    const csvRows = parseCsv((await get('dunning/messages?q=slowpoke&format=csv')).body);
    expect(csvRows.length - 1).toBe(slow.total);
    expect(csvRows[1]![1]).toBe('Slowpoke Supplies');
  });

  it("lists tasks with the customer's open balance, sorted and counted; a contact task for the customer without email", async () => {
    const tasks = await json('dunning/tasks?sort=-amount');
    expect(tasks.total).toBe(tasks.items.length);
    const find = tasks.items.find((t: { kind: string }) => t.kind === 'find_contact');
    expect(find).toBeTruthy();
    expect(find.openMinor).toBe(90000);
    expect((await json('dunning/tasks?q=nobody-has-this')).total).toBe(0);
  });

  it('a find-a-contact task takes the address in place: it becomes the dunning contact and the task is done', async () => {
    const tasks = await json('dunning/tasks?kind=find_contact');
    const task = tasks.items[0];
    expect(task.customer.name).toContain('Futura');
    const headers = { ...auth, 'content-type': 'application/json' };
    const bad = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/dunning/tasks/${task.id}/contact`,
      headers,
      payload: { email: 'not an address' },
    });
    expect(bad.statusCode).toBe(400);
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/dunning/tasks/${task.id}/contact`,
      headers,
      payload: { email: 'AP@Futura.example' },
    });
    expect(r.statusCode, r.body).toBe(200);
    const overrides = (await json('dunning/overrides')).items;
    expect(overrides).toContainEqual(
      expect.objectContaining({
        customerId: task.customerId,
        contactEmails: ['ap@futura.example'],
        excluded: false,
      }),
    );
    expect((await json('dunning/tasks?kind=find_contact')).total).toBe(0);
    const done = await json('dunning/tasks?status=done');
    expect(done.items[0]).toMatchObject({ id: task.id, note: 'Contact: ap@futura.example' });
    // The Customers list shows the address reminders now go to (its Email column said "—" after the task closed).
    const listed = (await json(`customers?q=${encodeURIComponent(task.customer.name)}`)).items;
    expect(listed.find((c: { id: string }) => c.id === task.customerId)).toMatchObject({
      emails: [],
      contactEmails: ['ap@futura.example'],
    });
    // A second answer to a closed task is a 404, not a second override write.
    const again = await app.inject({
      method: 'POST',
      url: `/api/v1/tenants/${tenant}/dunning/tasks/${task.id}/contact`,
      headers,
      payload: { email: 'other@futura.example' },
    });
    expect(again.statusCode).toBe(404);
  });
});

describe('dashboard export', () => {
  it('exports the dashboard figures as CSV for the chosen period', async () => {
    const r = await get('analytics?period=30&format=csv');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parseCsv(r.body);
    expect(rows[0]).toEqual(['Section', 'Item', 'Value', 'Invoices']);
    expect(rows[1]![1]).toBe('as of 2013-07-01, last 30 days');
    const open = rows.find((x) => x[0] === 'receivables' && x[1] === 'Open')!;
    expect(open.slice(2)).toEqual(['5900.00', '5']);
    expect(rows.filter((x) => x[0] === 'aging')).toHaveLength(5);
    // Past due, 13 weeks, later, and the doubtful part of later.
    expect(rows.filter((x) => x[0] === 'forecast').length).toBe(16);
    expect(rows.find((x) => x[0] === 'forecast' && x[1]!.startsWith('Of which not expected'))?.[2]).toBe(
      '0.00',
    );
  });
});
