/** The dashboard's "Sending today" reads (dunning/sending-today.ts): today's sendable messages and the day's counts. */
import { and, asc, eq, gte, inArray, lt, or, sql } from 'drizzle-orm';
import type { DbOrTx } from '../client';
import { customers, type DunningMessageStatus, dunningMessages } from '../schema';

/** Statuses the sender will deliver without anyone's say: queued (planned or approved) and a send in flight. */
const WILL_SEND: DunningMessageStatus[] = ['planned', 'queued', 'sending'];
const UNSENT: DunningMessageStatus[] = [...WILL_SEND, 'awaiting_approval'];

/**
 * Not a reminder of a CSV company held until a newer upload (send-message.ts, ledger_stale): it goes out on no day
 * until then, so it is counted apart (heldForUpload), not as today's or an earlier day's send.
 */
const notHeldForUpload = sql`${dunningMessages.statusCode} is distinct from 'ledger_stale'`;

export interface SendingTodayTotal {
  currency: string;
  openMinor: number;
}

/** Messages the sender will deliver with a send time in [from, to), by send time, at most `limit`. */
export async function sendingTodayRows(db: DbOrTx, tenantId: string, from: Date, to: Date, limit: number) {
  const m = dunningMessages;
  return db
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
      totals: sql<SendingTodayTotal[] | null>`${m.snapshot} -> 'totals'`.mapWith(parseJson),
      reason: m.reason,
    })
    .from(m)
    .innerJoin(customers, eq(customers.id, m.customerId))
    .where(
      and(
        eq(m.tenantId, tenantId),
        inArray(m.status, WILL_SEND),
        gte(m.sendAt, from),
        lt(m.sendAt, to),
        notHeldForUpload,
      ),
    )
    .orderBy(asc(m.sendAt), asc(m.id))
    .limit(limit);
}

/**
 * Today's counts: to send, held for approval, sent; overdue from before today; the next send after today; held until a
 * newer upload.
 */
export async function sendingTodayCounts(db: DbOrTx, tenantId: string, from: Date, to: Date) {
  const m = dunningMessages;
  const fromIso = from.toISOString();
  const toIso = to.toISOString();
  const inToday = (col: typeof m.sendAt | typeof m.sentAt) =>
    sql`${col} >= ${fromIso}::timestamptz and ${col} < ${toIso}::timestamptz`;
  const [counts] = await db
    .select({
      toSend:
        sql<number>`count(*) filter (where ${inArray(m.status, WILL_SEND)} and ${inToday(m.sendAt)} and ${notHeldForUpload})`.mapWith(
          Number,
        ),
      held: sql<number>`count(*) filter (where ${m.status} = 'awaiting_approval' and ${m.sendAt} < ${toIso}::timestamptz)`.mapWith(
        Number,
      ),
      sentToday: sql<number>`count(*) filter (where ${m.status} = 'sent')`.mapWith(Number),
      // Reminders of a CSV company held until a newer upload (send-message.ts, ledger_stale), whatever their day.
      heldForUpload:
        sql<number>`count(*) filter (where ${m.status} = 'queued' and ${m.statusCode} = 'ledger_stale')`.mapWith(
          Number,
        ),
      overdue:
        sql<number>`count(*) filter (where ${inArray(m.status, ['planned', 'queued'])} and ${m.sendAt} < ${fromIso}::timestamptz and ${notHeldForUpload})`.mapWith(
          Number,
        ),
      nextSendAt:
        sql<Date | null>`min(${m.sendAt}) filter (where ${inArray(m.status, UNSENT)} and ${m.sendAt} >= ${toIso}::timestamptz and ${notHeldForUpload})`.mapWith(
          (v) => (v === null || v === undefined ? null : new Date(v)),
        ),
    })
    .from(m)
    .where(
      and(
        eq(m.tenantId, tenantId),
        // Unsent messages, plus only today's sent ones: the log of past sends is never scanned.
        or(inArray(m.status, UNSENT), and(eq(m.status, 'sent'), sql`${inToday(m.sentAt)}`)),
      ),
    );

  return counts;
}

function parseJson(v: unknown) {
  return typeof v === 'string' ? JSON.parse(v) : v;
}
