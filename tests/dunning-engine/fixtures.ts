import { and, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import type { CanonicalCustomer } from '../../connectors/canonical';
import type { SyncPage } from '../../connectors/types';
import { ManualClock } from '../../src/clock';
import { customers, dunningMessages, tenants } from '../../src/db/schema';
import type { MailTransport, OutboundEmail } from '../../src/mail/transport';
import type { Services } from '../../src/services';
import { type ApplyPageOptions, applySyncPage } from '../../src/sync/apply-page';
import { importHistoryCsv } from '../../src/sync/csv-import';
import { type BuildTestAppOptions, suiteTestApp } from '../helpers/app';
import { csv } from '../helpers/csv';
import { createTestServices } from '../helpers/services';

/** Monday 2013-07-01, 00:00 UTC: the tests' "now"; the tenant works 8–18 UTC on weekdays. */
export const NOW = '2013-07-01T00:00:00Z';

const day = (iso: string, n: number) =>
  new Date(Date.parse(`${iso}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

/**
 * A small ledger: 24 months of history per customer, then the open invoices as of NOW.
 * RELY pays 12 days early; SLOW pays ~45 days late; MID pays ~10 days late.
 * Open: RELY-O due in 2 days, SLOW-O 12 and SLOW-O2 5 days overdue, MID-O 15 days overdue, FUTURE-O not due yet.
 */
export function ledgerRows(paid: Record<string, string> = {}): string[][] {
  const rows: string[][] = [];
  const history: [string, number][] = [
    ['RELY', -12],
    ['SLOW', 45],
    ['MID', 10],
    ['FUT', 0],
  ];
  for (const [cust, late] of history) {
    for (let m = 0; m < 24; m++) {
      const issue = day('2011-05-01', m * 30);
      const due = day(issue, 30);
      rows.push([cust, `${cust}-H${m}`, issue, due, '1000.00', 'USD', day(due, late), 'email', 'US']);
    }
  }
  const open: [string, string, number, string][] = [
    ['RELY', 'RELY-O', 2, '1200.00'],
    ['SLOW', 'SLOW-O', -12, '2500.00'],
    ['SLOW', 'SLOW-O2', -5, '500.00'],
    ['MID', 'MID-O', -15, '800.00'],
    ['FUT', 'FUT-O', 20, '900.00'],
  ];
  for (const [cust, id, dueIn, amount] of open) {
    const due = day('2013-07-01', dueIn);
    rows.push([cust, id, day(due, -30), due, amount, 'USD', paid[id] ?? '', 'email', 'US']);
  }
  return rows;
}

export async function importLedger(s: Services, paid: Record<string, string> = {}) {
  return importHistoryCsv(s.db, csv(ledgerRows(paid)), { tenantName: 'Acme', now: s.clock.now() });
}

/**
 * The company uploads the day's export (the fixture ledger, `paid` as given) at the clock's time, as a CSV company does
 * while its reminders go out: they are sent only from an upload at most maxUploadAgeDays (3) calendar days old
 * (send-message.ts, ledger_stale). For tests whose clock moves on more days than that after the first import.
 */
export async function uploadToday(s: Services, paid: Record<string, string> = {}) {
  return importLedger(s, paid);
}

/** Billing emails (the CSV has none): ap@<customer>.example. */
export async function giveEmails(s: Services, tenantId: string) {
  await s.db.execute(sql`
    update customers set emails = array['ap@' || lower(external_id) || '.example'] where tenant_id = ${tenantId}::uuid`);
}

/** Sending switched on, as a team does at go-live (a new company starts with sending off). */
export async function goLive(s: Services, tenantId: string) {
  await s.db
    .update(tenants)
    .set({ settings: sql`${tenants.settings} || '{"sendingEnabled": true}'::jsonb` })
    .where(eq(tenants.id, tenantId));
}

/** A company with the test ledger; live (sending on) unless `live: false`. */
export async function setup(opts: { env?: Record<string, string>; live?: boolean } = {}) {
  const clock = new ManualClock(NOW);
  const s = await createTestServices({
    clock,
    env: { MAIL_FROM: 'Acme Billing <billing@acme.example>', ...opts.env },
  });
  const r = await importLedger(s);
  await giveEmails(s, r.tenant.id);
  if (opts.live !== false) await goLive(s, r.tenant.id);
  return { s, clock, tenantId: r.tenant.id };
}

/** What suiteSetup's handle gives, once its beforeAll has run: setup()'s company and the app over it. */
export interface SetupSuite {
  s: Services;
  clock: ManualClock;
  tenantId: string;
  app: FastifyInstance;
  /** `{ authorization: 'Bearer …' }` of the API token (`token` names it; empty with `token: false`). */
  auth: { authorization: string };
}

/**
 * setup() and the app over its services, built in the caller's scope's `beforeAll` (suiteTestApp, which also
 * registers the `afterAll` closing them). The handle's fields are readable from later hooks and from tests.
 */
export function suiteSetup(
  opts: Parameters<typeof setup>[0] & Pick<BuildTestAppOptions, 'token'> = {},
): SetupSuite {
  const { token, ...company } = opts;
  let fixture: Awaited<ReturnType<typeof setup>> | undefined;
  const testApp = suiteTestApp({
    services: async () => {
      fixture = await setup(company);
      return fixture.s;
    },
    token,
  });
  const built = () => {
    if (!fixture)
      throw new Error('suiteSetup: the company is set up in beforeAll; read it from a hook or a test');
    return fixture;
  };
  return {
    get s() {
      return testApp.services;
    },
    get clock() {
      return built().clock;
    },
    get tenantId() {
      return built().tenantId;
    },
    get app() {
      return testApp.app;
    },
    get auth() {
      return testApp.auth;
    },
  };
}

export async function customerId(s: Services, externalId: string): Promise<string> {
  const [c] = await s.db
    .select({ id: customers.id })
    .from(customers)
    .where(eq(customers.externalId, externalId));
  return c!.id;
}

export async function messagesOf(s: Services, tenantId: string) {
  return s.db.select().from(dunningMessages).where(eq(dunningMessages.tenantId, tenantId));
}

export async function tenantRow(s: Services, tenantId: string) {
  const [t] = await s.db.select().from(tenants).where(eq(tenants.id, tenantId));
  return t!;
}

/**
 * A transport that behaves like Resend's idempotency: the same key returns the first provider id and does not
 * deliver again. `deliveries` counts what debtors actually received.
 */
export class RecordingTransport implements MailTransport {
  readonly calls: OutboundEmail[] = [];
  readonly deliveries: OutboundEmail[] = [];
  private readonly byKey = new Map<string, string>();
  async send(msg: OutboundEmail): Promise<{ providerId: string }> {
    this.calls.push(msg);
    const known = this.byKey.get(msg.id);
    if (known) return { providerId: known };
    const providerId = `re_${this.byKey.size + 1}`;
    this.byKey.set(msg.id, providerId);
    this.deliveries.push(msg);
    return { providerId };
  }
}

/** A reviewer approves every held message (on day one the test ledger's old debt is a reviewed catch-up). */
export async function approveAll(s: Services, tenantId: string) {
  const { approveMessage } = await import('../../src/dunning/approvals');
  for (const m of await messagesOf(s, tenantId))
    if (m.status === 'awaiting_approval') await approveMessage(s, tenantId, m.id, 'reviewer');
}

/**
 * Sets every step's approval rule (`{ type: 'always' }`, `{ type: 'never' }`, …) through PUT …/dunning/policy, the
 * rest of the policy as it is: as a team changes it in Settings (a policy change re-plans the company's reminders).
 */
export async function approvalRule(
  app: FastifyInstance,
  tenantId: string,
  auth: { authorization: string },
  rule: { type: string },
) {
  const url = `/api/v1/tenants/${tenantId}/dunning/policy`;
  const current = await app.inject({ url, headers: auth });
  expect(current.statusCode, current.body).toBe(200);
  const old = current.json().policy as { sequences: { steps: Record<string, unknown>[] }[] };
  const put = await app.inject({
    method: 'PUT',
    url,
    headers: auth,
    payload: {
      policy: {
        ...old,
        sequences: old.sequences.map((q) => ({
          ...q,
          steps: q.steps.map((st) => ({ ...st, approval: rule })),
        })),
      },
    },
  });
  expect(put.statusCode, put.body).toBe(200);
}

/**
 * A sync page carrying one customer as the ledger now has it (its stored row with `change` applied), written the way
 * the sync job writes a page, under `run`'s connection and sync run.
 */
export async function syncCustomerChange(
  s: Services,
  run: Pick<ApplyPageOptions<unknown>, 'tenantId' | 'connectionId' | 'syncRunId' | 'onSynced'>,
  externalId: string,
  change: Partial<Pick<CanonicalCustomer, 'name' | 'emails'>>,
) {
  const [c] = await s.db
    .select()
    .from(customers)
    .where(and(eq(customers.tenantId, run.tenantId), eq(customers.externalId, externalId)));
  const customer: CanonicalCustomer = {
    externalId,
    name: c!.name,
    emails: c!.emails,
    timezone: c!.timezone,
    country: c!.country,
    delivery: c!.delivery,
    currency: c!.currency,
    sourceUpdatedAt: new Date(s.clock.now().getTime() - 60_000).toISOString(),
    ...change,
  };
  const page: SyncPage<unknown> = {
    customers: [customer],
    invoices: [],
    payments: [],
    creditMemos: [],
    deletions: { customers: [], invoices: [], payments: [], creditMemos: [] },
    cursor: { mode: 'cdc', changedSince: s.clock.now().toISOString() },
  };
  return applySyncPage(s.db, {
    ...run,
    page,
    progress: { entities: { customers: { pages: 1, rows: 1, done: false } } },
    now: s.clock.now(),
  });
}
