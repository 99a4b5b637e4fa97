/**
 * "What the engine will send today": the tenant's messages whose send time falls within today's local day (the
 * tenant's timezone, as of the service clock), how many of today's are held for a reviewer, and how many went out
 * today. Read-only; the dashboard's "Sending today" card.
 */
import { and, asc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import type { Tenant } from '../db/queries/tenants';
import { customers, type DunningMessageStatus, dunningMessages } from '../db/schema';
import type { Services } from '../services';
import { addDays, localParts, zonedInstant } from './local-time';

/** Statuses the sender will deliver without anyone's say: queued (planned or approved) and a send in flight. */
const WILL_SEND: DunningMessageStatus[] = ['planned', 'queued', 'sending'];
const UNSENT: DunningMessageStatus[] = [...WILL_SEND, 'awaiting_approval'];

export interface SendingTodayItem {
  id: string;
  status: DunningMessageStatus;
  customer: { id: string; name: string };
  /** A reviewer's subject when one was set; otherwise the template's, decided at send time. */
  subject: string | null;
  template: string;
  tone: string | null;
  sendAt: Date;
  /** Approved by a reviewer (it needed approval and is no longer waiting). */
  approved: boolean;
  invoiceCount: number;
  /** Open totals per currency the email states (the planner's snapshot; re-checked right before sending). */
  totals: { currency: string; openMinor: number }[];
  reason: string;
}

export interface SendingToday {
  date: string;
  timezone: string;
  from: Date;
  to: Date;
  toSend: SendingTodayItem[];
  /** All of today's sendable messages; toSend holds the first `limit` by send time. */
  toSendCount: number;
  /** Awaiting approval with a send time before tonight's midnight: approved today, they go out today. */
  held: number;
  sentToday: number;
  /** Queued before today and still unsent (the sender was down, or deferred them): they go out at the next run. */
  overdue: number;
  /** The first unsent message after today (any status but sent/skipped/failed), or null. */
  nextSendAt: Date | null;
}

export async function sendingToday(services: Services, tenant: Tenant, limit = 100): Promise<SendingToday> {
  const { db } = services;
  const timezone = tenant.timezone || 'UTC';
  const date = localParts(services.clock.now(), timezone).date;
  const from = zonedInstant(date, 0, 0, timezone);
  const to = zonedInstant(addDays(date, 1), 0, 0, timezone);
  const m = dunningMessages;
  const fromIso = from.toISOString();
  const toIso = to.toISOString();
  const inToday = (col: typeof m.sendAt | typeof m.sentAt) =>
    sql`${col} >= ${fromIso}::timestamptz and ${col} < ${toIso}::timestamptz`;
  const rows = await db
    .select({
      id: m.id,
      status: m.status,
      customerId: m.customerId,
      customerName: customers.name,
      editedSubject: m.editedSubject,
      template: m.template,
      tone: m.tone,
      sendAt: m.sendAt,
      requiresApproval: m.requiresApproval,
      invoiceCount: sql<number>`cardinality(${m.invoiceIds})`.mapWith(Number),
      totals: sql<SendingTodayItem['totals'] | null>`${m.snapshot} -> 'totals'`.mapWith(parseJson),
      reason: m.reason,
    })
    .from(m)
    .innerJoin(customers, eq(customers.id, m.customerId))
    .where(
      and(eq(m.tenantId, tenant.id), inArray(m.status, WILL_SEND), gte(m.sendAt, from), lt(m.sendAt, to)),
    )
    .orderBy(asc(m.sendAt), asc(m.id))
    .limit(limit);

  const [counts] = await db
    .select({
      toSend:
        sql<number>`count(*) filter (where ${inArray(m.status, WILL_SEND)} and ${inToday(m.sendAt)})`.mapWith(
          Number,
        ),
      held: sql<number>`count(*) filter (where ${m.status} = 'awaiting_approval' and ${m.sendAt} < ${toIso}::timestamptz)`.mapWith(
        Number,
      ),
      sentToday: sql<number>`count(*) filter (where ${m.status} = 'sent')`.mapWith(Number),
      overdue:
        sql<number>`count(*) filter (where ${inArray(m.status, ['planned', 'queued'])} and ${m.sendAt} < ${fromIso}::timestamptz)`.mapWith(
          Number,
        ),
      nextSendAt:
        sql<Date | null>`min(${m.sendAt}) filter (where ${inArray(m.status, UNSENT)} and ${m.sendAt} >= ${toIso}::timestamptz)`.mapWith(
          (v) => (v === null || v === undefined ? null : new Date(v)),
        ),
    })
    .from(m)
    .where(
      and(
        eq(m.tenantId, tenant.id),
        // Unsent messages, plus only today's sent ones: the log of past sends is never scanned.
        or(inArray(m.status, UNSENT), and(eq(m.status, 'sent'), sql`${inToday(m.sentAt)}`)),
      ),
    );

  return {
    date,
    timezone,
    from,
    to,
    toSend: rows.map((r) => ({
      id: r.id,
      status: r.status,
      customer: { id: r.customerId, name: r.customerName },
      subject: r.editedSubject,
      template: r.template,
      tone: r.tone,
      sendAt: r.sendAt,
      approved: r.requiresApproval,
      invoiceCount: r.invoiceCount,
      totals: r.totals ?? [],
      reason: r.reason,
    })),
    toSendCount: counts?.toSend ?? 0,
    held: counts?.held ?? 0,
    sentToday: counts?.sentToday ?? 0,
    overdue: counts?.overdue ?? 0,
    nextSendAt: counts?.nextSendAt ?? null,
  };
}

function parseJson(v: unknown) {
  return typeof v === 'string' ? JSON.parse(v) : v;
}
