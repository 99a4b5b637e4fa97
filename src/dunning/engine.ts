/**
 * The dunning engine's effects around the pure planner: read the tenant's rows, plan, and in one transaction
 * write the new messages with their steps and enqueue their send jobs. Planning is idempotent: message ids are
 * the planner's deterministic keys and (tenant, invoice, step) is unique, so running it twice changes nothing.
 */
import { createHash } from 'node:crypto';
import { advisoryXactLock } from '../db/advisory-lock';
import type { Tx } from '../db/client';
import {
  closeTasksOfDeletedCustomers,
  customersWithOpenTasks,
  supersedeOpenTasks,
  taskOpenedUnder,
} from '../db/queries/dunning-admin';
import {
  cancelSettledReminders,
  connectionCounts,
  countMessageSteps,
  deleteDunningMessage,
  deletePendingReminders,
  expireApprovalsBefore,
  inDoubtAwaitingApprovalBefore,
  insertDunningMessage,
  insertDunningMessageIfNew,
  insertMessageSteps,
  lastSentRecipients,
  lockMessage,
  openInvoiceIdsOfCustomer,
  PENDING,
  pendingMessageInvoiceLists,
  pendingReminders,
  queueApprovedRequestedStatements,
  queuePlannedReceipts,
  receiptCandidates,
  releaseSteps,
  releaseStepsOf,
  skipPendingMessage,
  unqueueReceipts,
  unqueueRequestedStatements,
  updateDunningMessage,
} from '../db/queries/dunning-plan';
import { releaseHeld } from '../db/queries/dunning-send';
import { tenantById } from '../db/queries/tenants';
import type { dunningMessages } from '../db/schema';
import { type DebtorView, debtorViewKey } from './debtor-view';
import { loadDunningConfig } from './dunning-config';
import { localParts } from './local-time';
import { ensurePayLinks, listedInvoiceIds } from './payment-details';
import {
  coveredByCredit,
  type HeldInvoice,
  heldChange,
  holdsOf,
  isUnreachableCode,
  type PlannedMessage,
  type PlannerInput,
  type PlanResult,
  plan,
} from './planner';
import { loadPlannerInput } from './planner-input';
import type { DunningDeps } from './ports';
import { sendingActive } from './sending-switches';
import { openTask } from './tasks';
import { unconfirmed } from './unconfirmed';

export interface PlanTenantResult {
  /** Ids of messages written by this run. */
  inserted: string[];
  /** Pending messages cancelled because their invoices were settled. */
  cancelled: string[];
  /** Payment receipts planned. */
  receipts: string[];
  decisions: PlanResult['decisions'];
}

/** An approval left this long goes stale: the figures it was asked about may no longer hold. */
export const APPROVAL_TTL_DAYS = 7;
export const RECEIPT_STEP = 'receipt';

export async function planTenant(services: DunningDeps, tenantId: string): Promise<PlanTenantResult> {
  const result = await services.db.transaction((tx) => planTenantIn(services, tx, tenantId));
  await fetchPayLinks(services, tenantId);
  return result;
}

/**
 * Pay links for every invoice a pending message lists (its steps' invoices and the others a statement shows), read
 * from the ledger after the plan committed (never inside its transaction): Intuit's API returns an invoice's
 * InvoiceLink only on a single read with include=invoiceLink, not in the sync's queries. Pending, not only newly
 * inserted: messages re-planned inside another transaction (pause, promise, go-live) get theirs on the next run.
 * Previews and the sent email read the current link (compose-email.ts). A failed read only leaves the link out.
 */
async function fetchPayLinks(services: DunningDeps, tenantId: string): Promise<void> {
  const rows = await pendingMessageInvoiceLists(services.db, tenantId);
  await ensurePayLinks(services, tenantId, rows.flatMap(listedInvoiceIds));
}

/**
 * planTenant inside the caller's transaction: a change that affects what will be sent (go-live, pause, a promise,
 * a dispute, an override) re-plans in the same transaction, so the planned messages change with it.
 */
export async function planTenantIn(
  services: DunningDeps,
  tx: Tx,
  tenantId: string,
  /** Approvals of messages taken back by resumeSending, to carry over to their unchanged re-plans. */
  carried?: Map<string, CarriedApproval>,
): Promise<PlanTenantResult> {
  const now = services.clock.now();
  // One planner per tenant at a time even if the job policy is bypassed (the API's "plan now").
  await advisoryXactLock(tx, `dunning-plan:${tenantId}`);
  const tenant = await tenantById(tx, tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} not found`);
  const active = sendingActive(tenant);
  const cancelled = await cancelSettled(tx, tenantId, now);
  await expireStaleApprovals(tx, tenantId, now);
  // Before go-live (or while paused) nothing is queued: what Duely would send is worked out afresh on every run,
  // so it always shows today's plan, and a reviewer's approval carries over while the message stays the same.
  const approvals = active
    ? (carried ?? new Map<string, CarriedApproval>())
    : await takeBackPending(tx, tenantId);
  if (await allConnectionsDisconnected(tx, tenantId)) {
    // A disconnected company's ledger no longer moves: chasing it could chase what was paid since.
    services.logger.info({ tenantId }, 'dunning not planned: every connection is disconnected');
    return { inserted: [], cancelled, receipts: [], decisions: [] };
  }
  // Held until a newer upload while the company had none but its uploads (ledger_stale, which no job re-checks): a
  // connection since is read live before each send, so they are due again.
  if (active && ((await connectionCounts(tx, tenantId))?.n ?? 0) > 0)
    await releaseUploadHolds(services, tx, tenantId);
  const config = await loadDunningConfig(tx, tenant);
  // Customer bands as the Customer page and the risk API draw them: the model's thresholds at the tenant's
  // sensitivity (one definition, not a second set of cut-offs here).
  const bandOf = await services.risk.bandsFor(tenant, tx);
  let input = await loadPlannerInput(tx, tenant, config, now, bandOf);
  // A pause, exclusion, promise, dispute, opt-out or bounce since the last run: what was planned for it is
  // withdrawn now, with the reason, and its steps released; the rest is planned again below.
  const withdrawn = await withdrawHeld(tx, tenantId, input, now);
  if (withdrawn.length > 0) {
    cancelled.push(...withdrawn);
    input = await loadPlannerInput(tx, tenant, config, now, bandOf);
  }
  const result = plan(input);
  const inserted: string[] = [];
  for (const m of result.messages) {
    const carried = approvals.get(m.key);
    const same = carried !== undefined && carried.fingerprint === fingerprint(m, carried.viewStored);
    const approval = carried?.decidedAt && same ? carried : undefined;
    // A reviewer's edit is kept, but an intro written for other figures or another recipient is read again first.
    const opts = {
      active,
      approval,
      edits: carried?.edits,
      editsOutdated: carried?.edits !== undefined && !same,
    };
    if (await insertMessage(services, tx, tenantId, m, config.version, opts)) inserted.push(m.key);
  }
  const today = localParts(now, config.settings.timezone).date;
  await openContactTasks(tx, tenantId, result, today, now);
  await openCreditTasks(tx, tenantId, input, result, today, now);
  const receipts = await planReceipts(services, tx, tenantId, now, config.settings.timezone, active);
  services.logger.info(
    { tenantId, planned: inserted.length, cancelled: cancelled.length, receipts: receipts.length, active },
    'dunning planned',
  );
  return { inserted, cancelled, receipts, decisions: result.decisions };
}

/**
 * Pending reminders that touch a customer or invoice now on hold are skipped with the hold's reason (the timeline
 * shows it) and their steps released. Invoices that a held message listed but which are not held themselves are
 * planned again in this run, in a message of their own.
 */
async function withdrawHeld(tx: Tx, tenantId: string, input: PlannerInput, now: Date): Promise<string[]> {
  const holds = holdsOf(input);
  const pending = await pendingReminders(tx, tenantId);
  const balances = new Map(input.invoices.map((i) => [i.id, i.openBalanceMinor]));
  const out: string[] = [];
  for (const m of pending) {
    // An invoice the message names as on hold whose hold ended or changed (a dispute resolved): the message is
    // planned again, listing it as it stands now, instead of saying it is on hold.
    const named = (m.snapshot as { held?: HeldInvoice[] } | null)?.held;
    const held =
      holds.customers.get(m.customerId) ??
      m.invoiceIds.map((id) => holds.invoices.get(id)).find((h) => h !== undefined) ??
      heldChange(named, holds.invoices, balances);
    if (!held) continue;
    // A send that claimed the message after it was read keeps it, and its steps: released, they would be planned
    // again and the debtor chased twice for them if that send goes through.
    if (!(await skipPendingMessage(tx, m.id, held, now))) continue;
    await releaseSteps(tx, m.id);
    out.push(m.id);
  }
  return out;
}

/**
 * What a reviewer did to a message that was not sent yet: the approval (kept while the message is re-planned
 * unchanged) and the edits (kept under the same key, i.e. the same customer and steps).
 */
interface CarriedApproval {
  decidedAt: Date | null;
  decidedBy: string | null;
  fingerprint: string;
  /** The message it was taken from stored what the debtor reads of the customer row (snapshot `debtor`). */
  viewStored: boolean;
  edits?: Pick<
    typeof dunningMessages.$inferSelect,
    'editedSubject' | 'editedIntro' | 'editedBy' | 'editedAt'
  >;
}

/** What an email calls an invoice due on `dueDate` when read on `day`: −1 not yet due, 0 due today, 1 overdue. */
export function dueState(day: string, dueDate: string): -1 | 0 | 1 {
  return Math.sign(day.localeCompare(dueDate)) as -1 | 0 | 1;
}

/**
 * What an approval covers: everything in the plan that the email's words are made of. The invoices the message
 * steps and lists (number, dates, amounts, pay link, and whether each is overdue, due or not yet due on the send
 * date), the steps, the tone, the template, the step's own wording (policy `copy`), whether it is a catch-up, the
 * credit on account it states, whether it may say "Despite our earlier reminders" and whether it thanks the debtor
 * for paying reliably; and who it goes to (an override naming another contact sends it elsewhere). Equal fingerprints mean the reviewer would read the same message again; the render day's
 * day counts are not the plan's. What the email shows of the customer row (its name in the greeting and merge fields,
 * "customer since", its locale: snapshot `debtor`, debtor-view.ts) counts when the message compared with stored it
 * (`withView`, by default when this one has it): a message planned before stop 40 stored none, and its approval
 * still carries over to a plan of the same message.
 */
function fingerprint(
  m: {
    to: string[];
    invoiceIds: string[];
    tone: string | null;
    stepKey?: string;
    template?: string;
    snapshot: {
      asOf?: string;
      sendDate?: string;
      totals?: { currency: string; openMinor: number }[];
      invoices?: {
        invoiceId: string;
        openBalanceMinor: number;
        stepKey?: string | null;
        number?: string;
        issueDate?: string;
        dueDate?: string;
        totalMinor?: number;
        payLink?: string | null;
      }[];
      credits?: { currency: string; creditMinor: number }[];
      copy?: { subject?: string; body?: string };
      previousReminders?: number;
      catchUp?: boolean;
      reliablePayer?: boolean;
      customerRisk?: { riskBand: string | null; slowingAlert: boolean };
      held?: { invoiceId: string; openBalanceMinor: number; hold: string; promisedDate?: string }[];
      debtor?: DebtorView;
    };
  },
  withView = m.snapshot.debtor !== undefined,
): string {
  const s = m.snapshot;
  const day = s.sendDate ?? s.asOf ?? '';
  const totals = (s.totals ?? []).map((t) => `${t.currency}:${t.openMinor}`).sort();
  const credits = (s.credits ?? []).map((c) => `${c.currency}:${c.creditMinor}`).sort();
  const listed = (s.invoices ?? [])
    .map((i) =>
      JSON.stringify([
        i.invoiceId,
        i.openBalanceMinor,
        i.stepKey ?? '',
        i.number ?? null,
        i.issueDate ?? null,
        i.dueDate ?? null,
        i.totalMinor ?? null,
        Boolean(i.payLink),
        i.dueDate === undefined ? null : dueState(day, i.dueDate),
      ]),
    )
    .sort();
  // As renderPlannedMessage reads it (a snapshot from before reliablePayer falls back to the risk band).
  const reliable = s.reliablePayer ?? (s.customerRisk?.riskBand === 'low' && !s.customerRisk.slowingAlert);
  return JSON.stringify([
    [...m.invoiceIds].sort(),
    m.to.map((a) => a.trim().toLowerCase()).sort(),
    m.tone,
    m.stepKey ?? null,
    m.template ?? null,
    totals,
    listed,
    credits,
    s.copy ? [s.copy.subject ?? null, s.copy.body ?? null] : null,
    (s.previousReminders ?? 0) > 0,
    s.catchUp ?? false,
    reliable,
    // Invoices named as on hold (absent before they were: those fingerprints stay as they were).
    ...(s.held?.length
      ? [
          s.held
            .map((h) => [h.invoiceId, h.openBalanceMinor, h.hold, h.promisedDate ?? null].join(':'))
            .sort(),
        ]
      : []),
    ...(withView ? [['debtor', s.debtor ? debtorViewKey(s.debtor) : null]] : []),
  ]);
}

/**
 * What a reviewer is shown and approves (the API's `approvalVersion`): the fingerprint plus the edits and, given the
 * day the preview renders it for (`renderDay`, send-message.ts viewedVersion), whether it calls each invoice overdue,
 * due today or not yet due on that day. An approve that names another version is refused (approvals.ts): the message
 * was planned again or edited since it was viewed, or a page left open overnight showed yesterday's words.
 */
export function approvalVersion(
  m: Parameters<typeof fingerprint>[0] & { editedSubject: string | null; editedIntro: string | null },
  renderDay?: string,
): string {
  const dueWords = renderDay
    ? (m.snapshot.invoices ?? []).map((i) => (i.dueDate ? dueState(renderDay, i.dueDate) : null))
    : null;
  return createHash('sha256')
    .update(JSON.stringify([fingerprint(m), m.editedSubject, m.editedIntro, dueWords]))
    .digest('base64url')
    .slice(0, 22);
}

/** Codes that withdraw a pending message to be planned again later, releasing its steps (not a reviewer's no). */
const NOT_CARRIED = new Set(['approval_rejected', 'approval_expired', 'edited']);

/** An approved message withdrawn for a hold, re-planned with the same content: its approval still holds. */
function approvalSurvivesReplan(existing: typeof dunningMessages.$inferSelect, m: PlannedMessage): boolean {
  return (
    existing.status === 'skipped' &&
    existing.requiresApproval &&
    existing.decidedAt !== null &&
    !NOT_CARRIED.has(existing.statusCode ?? '') &&
    sameAsStored(existing, m)
  );
}

/** Whether the plan `m` reads as the stored message did, compared on what that message stored (fingerprint). */
function sameAsStored(
  existing: Pick<
    typeof dunningMessages.$inferSelect,
    'to' | 'invoiceIds' | 'tone' | 'stepKey' | 'template' | 'snapshot'
  >,
  m: PlannedMessage,
): boolean {
  const stored = existing.snapshot as Parameters<typeof fingerprint>[0]['snapshot'];
  return fingerprint({ ...existing, snapshot: stored }) === fingerprint(m, stored.debtor !== undefined);
}

/**
 * While sending is off or paused: every reminder not yet handed to the provider is taken back (deleted with its
 * steps; it never left, so nothing is lost) and the planner works them out again from today. Receipts waiting to
 * go stay as they are, unqueued. Returns the approvals to carry over by message key.
 */
async function takeBackPending(
  tx: Tx,
  tenantId: string,
  /** Only these customers' reminders (receipts and requested statements stay as they are); the tenant's when absent. */
  customerIds?: readonly string[],
): Promise<Map<string, CarriedApproval>> {
  const rows = await deletePendingReminders(tx, tenantId, customerIds);
  const out = new Map<string, CarriedApproval>();
  for (const r of rows) {
    const approved = r.requiresApproval && r.decidedAt !== null;
    const edited = r.editedAt !== null;
    if (!approved && !edited) continue;
    out.set(r.id, {
      decidedAt: approved ? r.decidedAt : null,
      decidedBy: approved ? r.decidedBy : null,
      ...(edited
        ? {
            edits: {
              editedSubject: r.editedSubject,
              editedIntro: r.editedIntro,
              editedBy: r.editedBy,
              editedAt: r.editedAt,
            },
          }
        : {}),
      fingerprint: fingerprint({
        ...r,
        snapshot: r.snapshot as Parameters<typeof fingerprint>[0]['snapshot'],
      }),
      viewStored: (r.snapshot as { debtor?: unknown } | null)?.debtor !== undefined,
    });
  }
  if (customerIds) return out;
  await unqueueReceipts(tx, tenantId);
  // A statement someone asked for is not re-planned (the planner never makes one): it stays, unqueued.
  await unqueueRequestedStatements(tx, tenantId);
  return out;
}

/**
 * Sending was switched on (go-live) or resumed: whatever waited is re-planned from now — fresh send times in the
 * debtors' business hours, today's figures — rather than sent late in a burst. Approvals of unchanged messages
 * carry over; receipts held back are queued.
 */
export async function resumeSending(
  services: DunningDeps,
  tx: Tx,
  tenantId: string,
): Promise<PlanTenantResult> {
  const approvals = await takeBackPending(tx, tenantId);
  const held = await queuePlannedReceipts(tx, tenantId, services.clock.now());
  for (const r of held) await enqueueSend(services, tx, r.id, services.clock.now(), 'resume');
  // Statements someone asked for and a reviewer approved while sending was off: queued now, for their planned send
  // time (at once when that has passed).
  const statements = await queueApprovedRequestedStatements(tx, tenantId, services.clock.now());
  for (const m of statements) await enqueueSend(services, tx, m.id, m.sendAt, 'resume');
  return planTenantIn(services, tx, tenantId, approvals);
}

/**
 * A change to what the planner would write for messages already waiting — a new policy version (approval rule,
 * threshold, steps, send window), or for `customerIds` an override naming another contact or sequence — saved in the
 * caller's transaction. The planner never revisits a queued message whose key is unchanged, so what waits would go out as
 * planned: it is taken back and planned again, as when sending resumes. Approvals of messages that come back
 * unchanged carry over, one that now needs a reviewer waits for one; messages in doubt, being sent or bound to a
 * stored batch stay with their send job.
 */
export async function replanPending(
  services: DunningDeps,
  tx: Tx,
  tenantId: string,
  customerIds?: readonly string[],
): Promise<PlanTenantResult> {
  const tenant = await tenantById(tx, tenantId);
  // Sending off or paused: every plan takes everything back already.
  if (!tenant || !sendingActive(tenant)) return planTenantIn(services, tx, tenantId);
  if (!customerIds) return resumeSending(services, tx, tenantId);
  return planTenantIn(services, tx, tenantId, await takeBackPending(tx, tenantId, customerIds));
}

/**
 * A CSV upload committed in the caller's transaction: the reminders held because the previous upload was too old
 * (ledger_stale) are due at once, so their send jobs re-check them against the new rows when it commits (a debtor
 * who paid meanwhile is skipped, the others go out in the send window); while held they have no job.
 */
export async function releaseUploadHolds(services: DunningDeps, tx: Tx, tenantId: string): Promise<number> {
  const now = services.clock.now();
  const held = await releaseHeld(tx, tenantId, 'ledger_stale', now);
  for (const m of held) await enqueueSend(services, tx, m.id, now, `upload:${now.toISOString()}`);
  return held.length;
}

async function allConnectionsDisconnected(tx: Tx, tenantId: string): Promise<boolean> {
  const r = await connectionCounts(tx, tenantId);
  return (r?.n ?? 0) > 0 && r!.n === r!.off;
}

async function insertMessage(
  services: DunningDeps,
  tx: Tx,
  tenantId: string,
  planned: PlannedMessage,
  policyVersion: number,
  options: {
    active: boolean;
    approval?: CarriedApproval;
    edits?: CarriedApproval['edits'];
    /** The edits were made for a message that read otherwise: a reviewer approves them again. */
    editsOutdated?: boolean;
  },
): Promise<boolean> {
  let opts = options;
  let m = planned;
  const existing = await lockMessage(tx, m.key);
  // Withdrawn for a hold with a reviewer's edit (kept on the row) and planned again reading otherwise: the same.
  const editOutdated =
    opts.editsOutdated === true ||
    (existing?.status === 'skipped' && existing.editedAt !== null && !sameAsStored(existing, m));
  if (editOutdated) {
    const by = opts.edits?.editedBy ?? existing?.editedBy ?? 'a reviewer';
    m = {
      ...m,
      requiresApproval: true,
      approvalReason: `Edited by ${by} when it read otherwise (other figures, wording or recipients); check the edit still fits, then approve`,
    };
  }
  // Withdrawn for a hold (pause, promise, dispute, sending paused…) and now planned again unchanged: the approval
  // still covers what will be sent. Changed (an invoice paid or credited meanwhile, another step): asked again.
  if (!opts.approval && existing && approvalSurvivesReplan(existing, m)) {
    opts = {
      ...opts,
      approval: {
        decidedAt: existing.decidedAt,
        decidedBy: existing.decidedBy,
        fingerprint: fingerprint(m),
        viewStored: m.snapshot.debtor !== undefined,
      },
    };
  }
  // Sending off or paused: planned ("would send"), nothing queued. An approval carried over counts as given.
  const approved = !m.requiresApproval || opts.approval !== undefined;
  const status = !approved ? 'awaiting_approval' : opts.active ? 'queued' : 'planned';
  const snapshot = { ...m.snapshot, policyVersion, sequenceId: m.sequenceId } as Record<string, unknown>;
  const values = {
    id: m.key,
    tenantId,
    customerId: m.customerId,
    kind: 'reminder' as const,
    to: m.to,
    channel: m.channel,
    invoiceIds: m.invoiceIds,
    stepKeys: m.steps.map((s) => s.stepKey),
    stepKey: m.stepKey,
    sequenceId: m.sequenceId,
    tone: m.tone,
    template: m.template,
    status,
    sendAt: m.sendAt,
    requiresApproval: m.requiresApproval,
    approvalReason: m.approvalReason,
    reason: m.reason,
    snapshot,
    // Dated by the app's clock, as the approval expiry reads it (the database's now() is the real time, far from a
    // --now or test clock).
    createdAt: services.clock.now(),
    updatedAt: services.clock.now(),
    ...(opts.edits ?? {}),
    ...(opts.approval
      ? {
          decidedAt: opts.approval.decidedAt,
          decidedBy: opts.approval.decidedBy,
          statusCode: 'approved',
          statusReason: `Approved by ${opts.approval.decidedBy ?? 'a reviewer'} before it was re-planned`,
        }
      : {}),
  } satisfies typeof dunningMessages.$inferInsert;

  if (existing) {
    // The same key again: normally the same message (nothing to do). A message skipped for re-planning released
    // its steps and never reached the provider, so it comes back with today's figures under the same key.
    const n = await countMessageSteps(tx, m.key);
    if (existing.status !== 'skipped' || n > 0) return false;
    await updateDunningMessage(tx, m.key, {
      statusCode: null,
      statusReason: null,
      error: null,
      decidedAt: null,
      decidedBy: null,
      ...values,
      // The old body stated the old figures: render again (the key never reached the provider: it was skipped).
      subject: null,
      html: null,
      text: null,
      renderedAsOf: null,
      attempts: 0,
      // A new request under the old key: its approval's 7 days (APPROVAL_TTL_DAYS) start now. Kept, the first
      // planning's date made an expired message come back expired, and every plan expire it again.
      createdAt: services.clock.now(),
      updatedAt: services.clock.now(),
    });
  } else {
    await insertDunningMessage(tx, values);
  }
  const stepCount = await insertMessageSteps(
    tx,
    m.steps.map((s) => ({
      tenantId,
      messageId: m.key,
      invoiceId: s.invoiceId,
      customerId: m.customerId,
      stepKey: s.stepKey,
      tone: m.tone,
    })),
  );
  if (stepCount !== m.steps.length) {
    // Another message already holds one of these steps: this one must not exist (the unique key decides).
    await deleteDunningMessage(tx, m.key);
    return false;
  }
  // A re-planned message keeps its id, so its job needs a new one: the first send job's id already exists and
  // pg-boss would silently drop the insert, leaving the message queued without a job.
  if (status === 'queued')
    await enqueueSend(
      services,
      tx,
      m.key,
      m.sendAt,
      existing ? `replan:${services.clock.now().toISOString()}` : 'send',
    );
  return true;
}

/** Dedupe keys of the planner's find-a-contact tasks: `contact:<customer id>`. */
const CONTACT_TASK = 'contact:';

/**
 * A debtor the planner cannot reach (no address, or every address bounced) goes on the call list. Once a plan shows
 * the debtor reachable again (an address from the ledger, a dunning contact set on the customer page), Duely closes
 * the task: it said "no email address" while reminders went out. Only a decision taken after the address check
 * proves it (a message with no invoice left waiting for a contact, nothing due, recently contacted); a paused,
 * excluded or opted-out debtor keeps its task.
 */
async function openContactTasks(
  tx: Tx,
  tenantId: string,
  result: PlanResult,
  today: string,
  now: Date,
): Promise<void> {
  const reachable = new Set(
    result.decisions
      .filter(
        (d) =>
          (d.outcome === 'message' || d.outcome === 'nothing_due' || d.code === 'recently_contacted') &&
          !d.invoices.some((i) => isUnreachableCode(i.code)),
      )
      .map((d) => d.customerId),
  );
  // A debtor gone from the ledger (deleted there, or a CSV company's file row, marked deleted when it connected its
  // ledger: releaseImportedRows) with nothing open has nothing left to chase: no plan decides on them, so their tasks,
  // of any kind, are closed here.
  await closeTasksOfDeletedCustomers(tx, tenantId, now);
  const withTasks = await customersWithOpenTasks(tx, tenantId, CONTACT_TASK);
  for (const customerId of withTasks) {
    if (!reachable.has(customerId)) continue;
    await supersedeOpenTasks(tx, tenantId, `${CONTACT_TASK}${customerId}`, null, {
      note: 'Closed: the customer can be reached now (an address from the ledger or a dunning contact)',
      now,
    });
  }
  for (const d of result.decisions) {
    // The whole customer, or (when some invoices went to recipients of their own) the invoices left waiting.
    const whole = isUnreachableCode(d.code);
    const waiting = d.invoices.filter((i) => isUnreachableCode(i.code));
    if (!whole && waiting.length === 0) continue;
    const invoiceIds = whole
      ? await openInvoiceIdsOfCustomer(tx, d.customerId)
      : waiting.map((i) => i.invoiceId);
    await openTask(tx, {
      tenantId,
      customerId: d.customerId,
      kind: 'find_contact',
      title: whole ? d.reason : waiting[0]!.reason,
      invoiceIds,
      dedupeKey: `${CONTACT_TASK}${d.customerId}`,
      today,
    });
  }
}

/** Dedupe keys of credit tasks: `credit:<customer id>:<credit state>`. */
const CREDIT_TASK = 'credit:';

/**
 * A debtor not written to because credit on account covers everything open: the ledger needs the credit applied,
 * which only a person can do there, so the team gets a review task naming the credit and the invoices it can settle.
 * Once per customer and credit state (the credit per currency and the open invoices with their balances): a re-plan
 * opens nothing new, nor does the same state after a person marked the task done; a changed state opens a new task
 * and closes the customer's earlier one. A task whose debtor's credit no longer covers what is open (the credit
 * applied in the ledger, the invoices paid, a new invoice beyond it) is closed by Duely, so the call list does not
 * ask for what was done; the same state arising again opens a task again.
 */
async function openCreditTasks(
  tx: Tx,
  tenantId: string,
  input: PlannerInput,
  result: PlanResult,
  today: string,
  now: Date,
): Promise<void> {
  const kept = new Set<string>();
  for (const d of result.decisions) {
    const c = d.creditCovers;
    if (!c) continue;
    kept.add(d.customerId);
    const state = createHash('sha256')
      .update(
        JSON.stringify([
          [...c.credits].sort((a, b) => a.currency.localeCompare(b.currency)),
          c.invoices.map((i) => `${i.invoiceId}:${i.openBalanceMinor}`).sort(),
        ]),
      )
      .digest('hex')
      .slice(0, 16);
    const prefix = `${CREDIT_TASK}${d.customerId}:`;
    const dedupeKey = `${prefix}${state}`;
    if (await taskOpenedUnder(tx, tenantId, dedupeKey)) continue;
    await supersedeOpenTasks(tx, tenantId, prefix, dedupeKey, {
      note: 'Replaced: the credit on account or the open invoices changed',
      now,
    });
    await openTask(tx, {
      tenantId,
      customerId: d.customerId,
      kind: 'review',
      title: c.title,
      invoiceIds: c.invoices.map((i) => i.invoiceId),
      dedupeKey,
      today,
      extra: { creditOnAccount: { credits: c.credits, invoices: c.invoices } },
    });
  }
  // A debtor not planned this run (paused, not due, …) keeps its task while the credit still covers what is open.
  const withTasks = (await customersWithOpenTasks(tx, tenantId, CREDIT_TASK)).filter((id) => !kept.has(id));
  if (withTasks.length === 0) return;
  const covered = coveredByCredit(input);
  for (const customerId of withTasks) {
    if (covered.has(customerId)) continue;
    await supersedeOpenTasks(tx, tenantId, `${CREDIT_TASK}${customerId}:`, null, {
      note: 'Closed: the credit on account no longer covers what is open (applied in the ledger, or the invoices paid or changed)',
      now,
    });
  }
}

/**
 * The send job of a message, at its send time, inside the caller's transaction. pg-boss schedules on the
 * database's real clock while "now" comes from the app clock (DUELY_NOW may run it years behind), so the delay
 * is carried over, not the instant: otherwise a demo clock would make every job due at once.
 */
export async function enqueueSend(
  services: DunningDeps,
  tx: Tx,
  messageId: string,
  at: Date,
  purpose = 'send',
) {
  const delayMs = Math.max(0, at.getTime() - services.clock.now().getTime());
  await services.dunningJobs.scheduleSend(tx, messageId, delayMs, purpose);
}

/**
 * Pending messages whose invoices were all settled since planning: nothing to chase. A queued message with an
 * attempt in doubt (it may already be with the provider) is left to its send job, which never records what the
 * provider may have accepted as cancelled ('unconfirmed' instead). The UPDATE waits on the message row lock a send
 * attempt holds through its provider call, so it never cancels a message whose attempt is under way.
 */
async function cancelSettled(tx: Tx, tenantId: string, now: Date): Promise<string[]> {
  const { settled, partly } = await cancelSettledReminders(tx, tenantId, now);
  // Partly settled: the message would list a paid invoice as owed. Skip it and release its steps so the planner
  // composes a correct one for what is still open, in this same run.
  if (partly.length > 0) await releaseStepsOf(tx, partly);
  return [...settled, ...partly];
}

/**
 * Approvals nobody acted on within APPROVAL_TTL_DAYS expire; the next plan asks again with current figures. One whose
 * earlier attempt may have reached the provider is not "skipped" (the log would say it never went, and its steps would
 * be asked again): like a send that finds a reason to stop while in doubt, it becomes "may have been sent" and a
 * person checks.
 */
async function expireStaleApprovals(tx: Tx, tenantId: string, now: Date): Promise<void> {
  const cutoff = new Date(now.getTime() - APPROVAL_TTL_DAYS * 86_400_000);
  for (const row of await inDoubtAwaitingApprovalBefore(tx, tenantId, cutoff)) {
    await unconfirmed(
      tx,
      row,
      now,
      `Not approved within ${APPROVAL_TTL_DAYS} days; an earlier attempt may have been delivered`,
    );
  }
  const stale = await expireApprovalsBefore(
    tx,
    tenantId,
    cutoff,
    now,
    `Not approved within ${APPROVAL_TTL_DAYS} days; the figures may be stale`,
  );
  // Release the steps: the planner may ask again (a new message) on its next run.
  if (stale.length > 0) await releaseStepsOf(tx, stale);
}

/**
 * A thank-you for every invoice that was chased (a reminder was sent) and is now paid: one per invoice, ever
 * (step key 'receipt' under the same unique key as reminder steps).
 */
async function planReceipts(
  services: DunningDeps,
  tx: Tx,
  tenantId: string,
  now: Date,
  tenantTz: string,
  active: boolean,
): Promise<string[]> {
  const rows = await receiptCandidates(tx, tenantId, RECEIPT_STEP);
  const out: string[] = [];
  for (const r of rows) {
    // The receipt goes where the reminders went, as the message of the customer they were for: a job billed with
    // its parent was chased as the parent, so the parent is thanked (and its opt-out and window apply), not the job.
    const last = await lastSentRecipients(tx, tenantId, r.invoice_id);
    const to = last?.to ?? r.emails;
    const customerId = last?.customerId ?? r.customer_id;
    if (to.length === 0) continue;
    const id = `dr_${createHash('sha256').update(`${r.customer_id}|${r.invoice_id}@receipt`).digest('hex').slice(0, 24)}`;
    const total = Number(r.total_minor);
    const paidDate = r.last_pay_date ?? r.paid_date ?? localParts(now, r.timezone || tenantTz).date;
    const paidAmount = r.last_pay_amount === null ? total : Number(r.last_pay_amount);
    const inserted = await insertDunningMessageIfNew(tx, {
      id,
      tenantId,
      customerId,
      kind: 'receipt',
      to,
      invoiceIds: [r.invoice_id],
      stepKeys: [RECEIPT_STEP],
      stepKey: RECEIPT_STEP,
      template: 'payment_receipt',
      status: active ? 'queued' : 'planned',
      sendAt: now,
      createdAt: now,
      updatedAt: now,
      reason: `Invoice ${r.number} was paid on ${paidDate} after reminders: thank the customer`,
      snapshot: {
        asOf: localParts(now, r.timezone || tenantTz).date,
        plannedAt: now.toISOString(),
        payment: { date: paidDate, amountMinor: paidAmount, currency: r.currency },
        invoices: [
          {
            invoiceId: r.invoice_id,
            number: r.number,
            issueDate: r.issue_date,
            dueDate: r.due_date,
            totalMinor: total,
            openBalanceMinor: 0,
            currency: r.currency,
          },
        ],
      },
    });
    if (!inserted) continue;
    const step = await insertMessageSteps(tx, [
      {
        tenantId,
        messageId: id,
        invoiceId: r.invoice_id,
        customerId,
        stepKey: RECEIPT_STEP,
      },
    ]);
    if (step === 0) {
      await deleteDunningMessage(tx, id);
      continue;
    }
    // Business hours and quiet hours are applied by the send job's window check (deferred there).
    if (active) await enqueueSend(services, tx, id, now);
    out.push(id);
  }
  return out;
}

export const PENDING_STATUSES = PENDING;
