/**
 * Bulk actions from the lists: approve or skip many held reminders, pause/resume/exclude/include many customers,
 * mark many invoices disputed (or resolve their disputes). Each is one transaction: the rows are locked, the ones
 * that cannot take the action are reported with the reason (already sent, decided by someone else, not open …),
 * the rest change together, and one bulk_actions row records who did what to which rows.
 */
import { advisoryXactLock } from '../db/advisory-lock';
import type { Tx } from '../db/client';
import {
  approveAwaitingMessages,
  customersWithPendingStatement,
  insertBulkAction,
  lockCustomersOf,
  lockInvoicesWithDisputeOf,
  lockMessagesOf,
  openDisputes,
  resolveDisputes,
  skipUnsentMessages,
  upsertCustomerOverrides,
  writtenOutsideSnapshot,
} from '../db/queries/dunning-admin';
import {
  deleteDunningMessage,
  insertDunningMessageIfNew,
  insertMessageSteps,
  PENDING,
} from '../db/queries/dunning-plan';
import { renderDays } from '../db/queries/dunning-send';
import { messagesByIds } from '../db/queries/lists';
import { tenantById } from '../db/queries/tenants';
import { AppError } from '../errors';
import { loadDunningConfig } from './dunning-config';
import { APPROVAL_TTL_DAYS, enqueueSend, planTenantIn } from './engine';
import { requestedStatements } from './planner';
import { loadPlannerInput } from './planner-input';
import type { DunningDeps } from './ports';
import { viewedVersion } from './send-message';
import { sendingActive } from './sending-switches';

export interface BulkResult {
  id: string;
  action: string;
  requested: number;
  applied: number;
  /** The ids the action changed. */
  appliedIds: string[];
  notApplied: { id: string; reason: string }[];
}

export interface BulkRequest {
  tenantId: string;
  actor: string;
  ids: string[];
  /** What the caller asked for (ids or filter, parameters), stored with the audit row. */
  request: Record<string, unknown>;
}

async function record(
  tx: Tx,
  r: BulkRequest,
  target: string,
  action: string,
  appliedIds: string[],
  notApplied: { id: string; reason: string }[],
): Promise<BulkResult> {
  const id = await insertBulkAction(tx, {
    tenantId: r.tenantId,
    actor: r.actor,
    target,
    action,
    request: r.request,
    requested: r.ids.length,
    applied: appliedIds.length,
    notApplied,
  });
  return { id, action, requested: r.ids.length, applied: appliedIds.length, appliedIds, notApplied };
}

/** Why a bulk approve leaves a message: it reads otherwise than the reviewer saw, or is gone (changedSinceViewed). */
const CHANGED =
  'changed since you viewed it (planned again with other figures, wording or recipients, withdrawn, or edited); read it again';

/** Why an approve by filter leaves a message: planned (again), edited or reading otherwise since the list was read. */
const CHANGED_SINCE_LISTED =
  'planned, planned again or edited since the list was read (other figures, wording or recipients, or new); read it again';

/**
 * How far after the server's now a `listedAt` may be (clocks of servers behind one balancer differ a little). Later, it
 * names a list no server read: every message planned or edited until then would count as seen on it, and an approve
 * by filter would approve them unread.
 */
export const LISTED_AT_SKEW_MS = 5 * 60_000;

function futureListedAt(listedAt: Date, now: Date): AppError {
  return new AppError(
    'invalid_request',
    `listedAt ${listedAt.toISOString()} is after the server's time (${now.toISOString()}, by more than ${LISTED_AT_SKEW_MS / 60_000} minutes): send back the listedAt the list answered`,
    400,
    { details: [{ field: 'listedAt', message: "is after the server's time" }] },
  );
}

/** Held messages → queued with their send jobs, or → skipped; anything else is reported, not changed. */
export async function bulkDecideMessages(
  services: DunningDeps,
  action: 'approve' | 'skip',
  r: BulkRequest & {
    reason?: string;
    /** The approvalVersion each message had as the reviewer viewed it: one that reads otherwise now is left. */
    versions?: Record<string, string>;
    /**
     * An approve by filter: when the list it was chosen from was read (the list's `listedAt`, server clock). A
     * matching message with no version given that was planned, planned again or edited after it, or that reads
     * otherwise now than it did then (a day passed: "due today" became "overdue"), is left.
     */
    listedAt?: Date;
    /**
     * With `listedAt`: the database snapshot the list was read under (its `listedSnapshot`). A matching message with
     * no version given last written by a transaction that snapshot did not see committed is left too: its stamp may
     * predate `listedAt` (written before, committed after the list's read), so the list showed it as it was before.
     */
    listedSnapshot?: string;
  },
): Promise<BulkResult> {
  const now = services.clock.now();
  if (r.listedAt && r.listedAt.getTime() > now.getTime() + LISTED_AT_SKEW_MS)
    throw futureListedAt(r.listedAt, now);
  const expiredBefore = new Date(now.getTime() - APPROVAL_TTL_DAYS * 86_400_000);
  return services.db.transaction(async (tx) => {
    const rows = await lockMessagesOf(tx, r.tenantId, r.ids);
    const found = new Map(rows.map((m) => [m.id, m]));
    const seen = r.versions ?? {};
    const listedAt = action === 'approve' && r.request.filter !== undefined ? r.listedAt : undefined;
    const viewed = action === 'approve' ? Object.keys(seen).filter((id) => found.has(id)) : [];
    const listed = listedAt ? rows.filter((m) => seen[m.id] === undefined).map((m) => m.id) : [];
    const read = [...viewed, ...listed];
    const zones = new Map((read.length > 0 ? await renderDays(tx, read) : []).map((d) => [d.id, d.zone]));
    const full = read.length > 0 ? await messagesByIds(tx, read) : [];
    const versionNow = new Map(full.map((m) => [m.id, viewedVersion(m, zones.get(m.id) ?? 'UTC', now)]));
    // What a message listed (and unchanged since) read as on the list: its version as of the list's day. A body
    // rendered as of an instant after listedAt was stored since (a body is rendered when it goes, as of its send time
    // or later): the list showed the message without it, so it is taken as it was, not as of the body's later day.
    const unseenWrites =
      listedAt && r.listedSnapshot
        ? await writtenOutsideSnapshot(tx, listed, r.listedSnapshot)
        : new Set<string>();
    const asListed = (m: (typeof full)[number], at: Date) =>
      m.renderedAsOf && m.renderedAsOf > at ? { ...m, renderedAsOf: null } : m;
    const versionListed = new Map(
      listedAt
        ? full.map((m) => [m.id, viewedVersion(asListed(m, listedAt), zones.get(m.id) ?? 'UTC', listedAt)])
        : [],
    );
    // Written in the list's very millisecond counts as since: the list may have read it before that write committed.
    const changedSinceListed = (m: { id: string; changed_at: string | Date }) =>
      listedAt !== undefined &&
      seen[m.id] === undefined &&
      (new Date(m.changed_at) >= listedAt ||
        unseenWrites.has(m.id) ||
        versionListed.get(m.id) !== versionNow.get(m.id));

    // An approve by filter matches only messages awaiting approval (the route), resolved just before this lock.
    const byFilter = r.request.filter !== undefined;
    const listedAsHeld = (id: string) => byFilter || seen[id] !== undefined;
    const notApplied: { id: string; reason: string }[] = [];
    const ok: string[] = [];
    for (const id of r.ids) {
      const m = found.get(id);
      // A message a reviewer read as awaiting approval (its card's version sent) or a filter matched as such moments
      // ago: gone now, a re-plan took it back (or, on Postgres, deleted and wrote it again under its id while this
      // waited for the lock: a row nobody read); no longer awaiting approval with no person's decision, it was
      // withdrawn or planned again.
      if (!m)
        notApplied.push({ id, reason: action === 'approve' && listedAsHeld(id) ? CHANGED : 'not found' });
      else if (action === 'approve' && m.status !== 'awaiting_approval')
        notApplied.push({
          id,
          reason:
            !m.decided && listedAsHeld(id)
              ? CHANGED
              : `is ${m.status.replace(/_/g, ' ')}, not awaiting approval`,
        });
      else if (action === 'skip' && !(PENDING as readonly string[]).includes(m.status))
        notApplied.push({ id, reason: `is ${m.status} and can no longer be skipped` });
      else if (action === 'skip' && m.in_doubt)
        // An earlier attempt may have been delivered: its send job confirms it or leaves it for a person to check.
        notApplied.push({
          id,
          reason: 'may already have been sent (an attempt is in doubt); it cannot be skipped',
        });
      else if (action === 'approve' && seen[id] !== undefined && versionNow.get(id) !== seen[id])
        notApplied.push({ id, reason: CHANGED });
      else if (action === 'approve' && changedSinceListed(m))
        notApplied.push({ id, reason: CHANGED_SINCE_LISTED });
      else if (action === 'approve' && new Date(m.created_at) < expiredBefore)
        notApplied.push({
          id,
          reason: `older than ${APPROVAL_TTL_DAYS} days; plan again for current figures`,
        });
      else ok.push(id);
    }
    const at = now.toISOString();
    if (ok.length > 0 && action === 'approve') {
      // As a single approval: before go-live (or while paused) the approval is recorded and the message stays
      // planned, queued with its approval when sending is switched on; no send job meanwhile.
      const tenant = await tenantById(tx, r.tenantId);
      const active = tenant ? sendingActive(tenant) : false;
      const approved = await approveAwaitingMessages(tx, ok, r.actor, at, active ? 'queued' : 'planned');
      if (active)
        for (const m of approved)
          await enqueueSend(services, tx, m.id, new Date(m.send_at), `approved:${at}`);
      return record(
        tx,
        r,
        'messages',
        action,
        approved.map((m) => m.id),
        notApplied,
      );
    }
    if (ok.length > 0 && action === 'skip') {
      const reason = r.reason ? `Skipped by ${r.actor}: ${r.reason}` : `Skipped by ${r.actor}`;
      const skipped = await skipUnsentMessages(tx, ok, r.actor, reason, at);
      return record(
        tx,
        r,
        'messages',
        action,
        skipped.map((m) => m.id),
        notApplied,
      );
    }
    return record(tx, r, 'messages', action, [], notApplied);
  });
}

export type CustomerBulkAction = 'pause' | 'resume' | 'exclude' | 'include';

/** Upserts each customer's override: pause until a day, lift the pause, exclude from dunning, or include again. */
export async function bulkCustomers(
  services: DunningDeps,
  action: CustomerBulkAction,
  r: BulkRequest & { until?: string },
): Promise<BulkResult> {
  const now = services.clock.now().toISOString();
  return services.db.transaction(async (tx) => {
    const existing = await lockCustomersOf(tx, r.tenantId, r.ids);
    const found = new Set(existing.map((c) => String(c.id)));
    const ok = r.ids.filter((id) => found.has(id));
    const notApplied = r.ids.filter((id) => !found.has(id)).map((id) => ({ id, reason: 'not found' }));
    if (ok.length > 0) {
      const paused = action === 'pause' ? (r.until ?? null) : null;
      const excluded = action === 'exclude';
      await upsertCustomerOverrides(tx, r.tenantId, ok, {
        paused,
        excluded,
        column: action === 'pause' || action === 'resume' ? 'paused_until' : 'excluded',
        now,
      });
      // As an override PUT does: what waits is withdrawn now with the hold's reason (or planned again when it is
      // lifted). The send's own re-check reads the message's customer, so a job billed with its parent, paused here,
      // was otherwise still chased in the parent's queued message until the next plan.
      await planTenantIn(services, tx, r.tenantId);
    }
    return record(tx, r, 'customers', action, ok, notApplied);
  });
}

/** Opens a dispute on each open invoice that has none open (the planner and the pre-send check then hold them). */
export async function bulkDispute(
  services: DunningDeps,
  action: 'dispute' | 'resolve',
  r: BulkRequest & { reason?: string; until?: string | null; today: string },
): Promise<BulkResult> {
  const now = services.clock.now().toISOString();
  return services.db.transaction(async (tx) => {
    const rows = await lockInvoicesWithDisputeOf(tx, r.tenantId, r.ids);
    const found = new Map(rows.map((i) => [String(i.id), i]));
    const notApplied: { id: string; reason: string }[] = [];
    const ok: string[] = [];
    for (const id of r.ids) {
      const i = found.get(id);
      const disputed = i?.disputed === true || i?.disputed === 't';
      if (!i) notApplied.push({ id, reason: 'not found' });
      else if (action === 'dispute' && i.status !== 'open') notApplied.push({ id, reason: `is ${i.status}` });
      else if (action === 'dispute' && disputed) notApplied.push({ id, reason: 'already disputed' });
      else if (action === 'resolve' && !disputed) notApplied.push({ id, reason: 'has no open dispute' });
      else ok.push(id);
    }
    if (ok.length > 0 && action === 'dispute') {
      const reason = r.reason ? `${r.reason} (marked by ${r.actor})` : `Marked disputed by ${r.actor}`;
      await openDisputes(tx, r.tenantId, ok, { today: r.today, until: r.until ?? null, reason });
    }
    if (ok.length > 0 && action === 'resolve') {
      await resolveDisputes(tx, r.tenantId, ok, now);
    }
    return record(tx, r, 'invoices', action, ok, notApplied);
  });
}

/**
 * A statement of account to each customer, as a person asked: one message per customer listing its open invoices
 * not on hold (the planner's snapshot shape, so previews, approvals and the send path take it as they take a
 * catch-up statement). It always waits for a reviewer (awaiting_approval): asking for it is not approving what it
 * says, and nothing is queued here, so sending off or paused changes nothing until someone approves. One a customer
 * a day (deterministic key): a second request the same day, or a statement still pending, is reported, not repeated.
 */
export async function bulkSendStatements(services: DunningDeps, r: BulkRequest): Promise<BulkResult> {
  const now = services.clock.now();
  return services.db.transaction(async (tx) => {
    // The planner's lock: no plan run rewrites this tenant's messages while the statements are written.
    await advisoryXactLock(tx, `dunning-plan:${r.tenantId}`);
    const tenant = await tenantById(tx, r.tenantId);
    if (!tenant) throw new Error(`tenant ${r.tenantId} not found`);
    const existing = await lockCustomersOf(tx, r.tenantId, r.ids);
    const found = new Set(existing.map((c) => String(c.id)));
    const ids = r.ids.filter((id) => found.has(id));
    const notApplied: { id: string; reason: string }[] = [];
    const ok: string[] = [];
    if (ids.length > 0) {
      const config = await loadDunningConfig(tx, tenant);
      const input = await loadPlannerInput(tx, tenant, config, now, await services.risk.bandsFor(tenant, tx));
      const pending = await customersWithPendingStatement(tx, r.tenantId, ids);
      const statements = requestedStatements(input, ids, r.actor);
      for (const id of ids) {
        const s = statements.get(id);
        if (pending.has(id)) {
          notApplied.push({ id, reason: 'a statement is already waiting to be sent' });
          continue;
        }
        if (!s?.message) {
          notApplied.push({ id, reason: s?.skip ?? 'no open invoices' });
          continue;
        }
        const m = s.message;
        const inserted = await insertDunningMessageIfNew(tx, {
          id: m.key,
          tenantId: r.tenantId,
          customerId: m.customerId,
          kind: 'reminder',
          to: m.to,
          channel: m.channel,
          invoiceIds: m.invoiceIds,
          stepKeys: m.steps.map((x) => x.stepKey),
          stepKey: m.stepKey,
          sequenceId: m.sequenceId,
          tone: m.tone,
          template: m.template,
          status: 'awaiting_approval',
          sendAt: m.sendAt,
          requiresApproval: true,
          approvalReason: m.approvalReason,
          reason: m.reason,
          snapshot: {
            ...m.snapshot,
            policyVersion: config.version,
            sequenceId: m.sequenceId,
            requestedBy: r.actor,
          },
          createdAt: now,
          updatedAt: now,
        });
        if (!inserted) {
          notApplied.push({ id, reason: 'a statement was already requested today' });
          continue;
        }
        const steps = await insertMessageSteps(
          tx,
          m.steps.map((x) => ({
            tenantId: r.tenantId,
            messageId: m.key,
            invoiceId: x.invoiceId,
            customerId: m.customerId,
            stepKey: x.stepKey,
            tone: m.tone,
          })),
        );
        if (steps !== m.steps.length) {
          // An invoice already carries today's statement (in another message): this one must not exist.
          await deleteDunningMessage(tx, m.key);
          notApplied.push({ id, reason: 'a statement was already requested today' });
          continue;
        }
        ok.push(id);
      }
    }
    for (const id of r.ids) if (!found.has(id)) notApplied.push({ id, reason: 'not found' });
    return record(tx, r, 'customers', 'send_statement', ok, notApplied);
  });
}
