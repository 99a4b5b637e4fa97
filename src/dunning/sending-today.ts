/**
 * "What the engine will send today": the tenant's messages whose send time falls within today's local day (the
 * tenant's timezone, as of the service clock), how many of today's are held for a reviewer, and how many went out
 * today. Read-only; the dashboard's "Sending today" card.
 */
import { sendingTodayCounts, sendingTodayRows } from '../db/queries/sending-today';
import type { Tenant } from '../db/queries/tenants';
import type { DunningMessageStatus } from '../db/schema';
import { loadDunningConfig } from './dunning-config';
import { addDays, localParts, zonedInstant } from './local-time';
import type { DunningDeps } from './ports';
import { sendingSwitches } from './sending-switches';
import { partialUpload, staleUpload } from './suppression';
import { uploadedLedger } from './uploaded-ledger';

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
  /**
   * Reminders of a CSV company held until a newer upload (ledger_stale), whatever their day: not in toSendCount,
   * overdue or nextSendAt, since they go out on no day until an upload (or a connection) releases them.
   */
  heldForUpload: number;
  /**
   * Whether today's messages actually go out: 'off' before the company goes live, 'paused' while all sending is
   * paused (the card then says they would go out, not that they will).
   */
  sending: 'live' | 'off' | 'paused';
  /**
   * A CSV company whose latest upload is older than its limit (maxUploadAgeDays): reminders wait (ledger_stale) until
   * a newer upload; `held` of them already do. Also a recent upload that left out open invoices while reminders wait
   * for them (partialUpload). Null for a company whose ledger is read live or whose upload is recent and complete.
   */
  uploadTooOld: {
    uploadedOn: string;
    ageDays: number;
    maxAgeDays: number;
    reason: string;
    held: number;
  } | null;
}

export async function sendingToday(
  services: DunningDeps,
  tenant: Tenant,
  limit = 100,
): Promise<SendingToday> {
  const { db } = services;
  const timezone = tenant.timezone || 'UTC';
  const date = localParts(services.clock.now(), timezone).date;
  const from = zonedInstant(date, 0, 0, timezone);
  const to = zonedInstant(addDays(date, 1), 0, 0, timezone);
  const rows = await sendingTodayRows(db, tenant.id, from, to, limit);
  const counts = await sendingTodayCounts(db, tenant.id, from, to);
  const config = await loadDunningConfig(db, tenant);
  const upload = await uploadedLedger(db, tenant, config.settings.maxUploadAgeDays);
  const now = services.clock.now();
  // Too old; or recent but leaving out invoices some reminders wait for (named on each held message).
  const stale = upload
    ? (staleUpload(upload, now) ?? ((counts?.heldForUpload ?? 0) > 0 ? partialUpload(upload, now) : null))
    : null;

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
    heldForUpload: counts?.heldForUpload ?? 0,
    sending: sendingState(tenant),
    uploadTooOld: stale ? { ...stale, held: counts?.heldForUpload ?? 0 } : null,
  };
}

function sendingState(tenant: Tenant): SendingToday['sending'] {
  const { enabled, paused } = sendingSwitches(tenant);
  return !enabled ? 'off' : paused ? 'paused' : 'live';
}
