/**
 * A reviewer's decisions on held messages. Every move is a compare-and-set on the status, so two reviewers (or a
 * double click) cannot approve twice, and nothing already sending or sent can be changed.
 */
import {
  decideAwaitingApproval,
  editUnsentMessage,
  messageById,
  messageState,
  skipUndecidedMessage,
} from '../db/queries/dunning-admin';
import { lockMessage, PENDING } from '../db/queries/dunning-plan';
import { renderDays } from '../db/queries/dunning-send';
import { tenantById } from '../db/queries/tenants';
import { AppError, conflict, notFound } from '../errors';
import { APPROVAL_TTL_DAYS, enqueueSend } from './engine';
import type { DunningDeps } from './ports';
import { viewedVersion } from './send-message';
import { sendingActive } from './sending-switches';

async function current(services: DunningDeps, tenantId: string, id: string) {
  const row = await messageState(services.db, tenantId, id);
  if (!row) throw notFound(`message ${id}`);
  return row;
}

/** Why an approval of what the reviewer viewed is refused: the message reads otherwise now. */
export function changedSinceViewed(id: string): AppError {
  return new AppError(
    'message_changed',
    `message ${id} changed since you viewed it (planned again with other figures, wording or recipients, withdrawn, or edited); read it again before approving`,
    409,
  );
}

/**
 * awaiting_approval → queued, and its send job (now, or at its planned time if that is later); planned before go-live.
 * `seen`: the approvalVersion the reviewer read; another one now is refused (changedSinceViewed). Without it the
 * current version is approved (a client that approves by rule, not by reading).
 */
export async function approveMessage(
  services: DunningDeps,
  tenantId: string,
  id: string,
  by: string,
  seen?: string,
) {
  const now = services.clock.now();
  const row = await current(services, tenantId, id);
  if (row.status !== 'awaiting_approval') {
    // Read as awaiting approval (a version sent) and since withdrawn or planned again as needing none, with no
    // person's decision: changed, as a card left open across a re-plan reloads it (not "is skipped").
    if (seen !== undefined && row.decidedBy === null) throw changedSinceViewed(id);
    throw conflict(`message ${id} is ${row.status}, not awaiting approval`);
  }
  if (now.getTime() - row.createdAt.getTime() > APPROVAL_TTL_DAYS * 86_400_000) {
    throw new AppError(
      'approval_expired',
      `message ${id} is older than ${APPROVAL_TTL_DAYS} days; plan again for current figures`,
      409,
    );
  }
  return services.db.transaction(async (tx) => {
    // Locked, so a re-plan (which takes the message back and writes it again under the same id) waits for this
    // decision, or this one reads what the re-plan wrote.
    const locked = await lockMessage(tx, id);
    // Gone since the check: taken back by a re-plan (deleted), or — on Postgres, when this waited for the lock while
    // a re-plan deleted it and wrote it again under the same id — a new row this did not lock and nobody viewed.
    if (!locked || locked.tenantId !== tenantId) throw changedSinceViewed(id);
    if (locked.status !== 'awaiting_approval') {
      // A person decided first; otherwise the planner withdrew it or planned it again as needing no approval.
      if (locked.decidedBy !== null) throw conflict(`message ${id} was decided by someone else`);
      throw changedSinceViewed(id);
    }
    if (seen !== undefined) {
      const [day] = await renderDays(tx, [id]);
      if (viewedVersion(locked, day?.zone ?? 'UTC', now) !== seen) throw changedSinceViewed(id);
    }
    const sendAt = new Date(Math.max(locked.sendAt.getTime(), now.getTime()));
    // Before go-live (or while paused) an approval is recorded and the message stays planned: it is queued, with
    // its approval, when sending is switched on (engine.resumeSending).
    const tenant = await tenantById(tx, tenantId);
    const active = tenant ? sendingActive(tenant) : false;
    const updated = await decideAwaitingApproval(tx, id, {
      status: active ? 'queued' : 'planned',
      decidedBy: by,
      decidedAt: now,
      sendAt,
      statusCode: 'approved',
      statusReason: `Approved by ${by}`,
      updatedAt: now,
    });
    if (!updated) throw conflict(`message ${id} was decided by someone else`);
    if (active) await enqueueSend(services, tx, id, sendAt, `approved:${now.toISOString()}`);
    return updated;
  });
}

/** Why a reviewer cannot change a message whose earlier attempt may have reached the provider. */
function inDoubtText(id: string, what: 'edited' | 'skipped'): string {
  return `message ${id} may already have been sent (an attempt is in doubt); it cannot be ${what} — its send job confirms it or leaves it for a person to check`;
}

/** A reviewer drops the message. Its steps stay taken: the planner moves on to the next step in time. */
export async function skipMessage(
  services: DunningDeps,
  tenantId: string,
  id: string,
  by: string,
  reason?: string,
) {
  const now = services.clock.now();
  const updated = await skipUndecidedMessage(services.db, tenantId, id, {
    status: 'skipped',
    decidedBy: by,
    decidedAt: now,
    statusCode: 'approval_rejected',
    statusReason: reason ? `Skipped by ${by}: ${reason}` : `Skipped by ${by}`,
    updatedAt: now,
  });
  if (!updated) {
    const row = await current(services, tenantId, id);
    const full = await messageById(services.db, id);
    if (full?.inDoubtSince && (PENDING as readonly string[]).includes(row.status))
      throw conflict(inDoubtText(id, 'skipped'));
    throw conflict(`message ${id} is ${row.status} and can no longer be skipped`);
  }
  return updated;
}

/**
 * Edits the subject or adds an introduction. An edit of a message that needs approval always goes (back) to
 * awaiting_approval: an approval covers the text that was approved, not a later one.
 */
export async function editMessage(
  services: DunningDeps,
  tenantId: string,
  id: string,
  by: string,
  edit: {
    subject?: string | null;
    intro?: string | null;
    /**
     * The approvalVersion the reviewer read: another one now is refused (changedSinceViewed), as for an approve. An
     * intro written for other figures would otherwise land on the message planned again meanwhile — and go out
     * unread if that one needs no approval.
     */
    version?: string;
  },
) {
  const now = services.clock.now();
  const row = await current(services, tenantId, id);
  if (row.status !== 'awaiting_approval' && row.status !== 'queued' && row.status !== 'planned') {
    throw conflict(`message ${id} is ${row.status} and can no longer be edited`);
  }
  return services.db.transaction(async (tx) => {
    // Locked, as an approve: a re-plan writing the message again waits for the edit, or the edit reads what it wrote.
    const full = await lockMessage(tx, id);
    if (edit.version !== undefined) {
      // Gone, or planned again since it was read (another version): not the message the edit was written for.
      if (!full || full.tenantId !== tenantId) throw changedSinceViewed(id);
      const [day] = await renderDays(tx, [id]);
      if (viewedVersion(full, day?.zone ?? 'UTC', now) !== edit.version) throw changedSinceViewed(id);
    }
    if (!full) throw conflict(`message ${id} changed while editing, or may already have been sent`);
    // An earlier call may have been accepted: a retry must send the same bytes under the same key (the provider
    // refuses another body under it), so the text is fixed until the send job confirms or concludes it.
    if (full.inDoubtSince) throw conflict(inDoubtText(id, 'edited'));
    // Approved and waiting to be sent (queued, or planned before go-live): the approval covered the old text.
    const resetApproval =
      full.requiresApproval &&
      (full.status === 'queued' || (full.status === 'planned' && full.decidedAt !== null));
    const updated = await editUnsentMessage(tx, id, {
      ...(edit.subject !== undefined ? { editedSubject: edit.subject } : {}),
      ...(edit.intro !== undefined ? { editedIntro: edit.intro } : {}),
      editedBy: by,
      editedAt: now,
      // The stored body (rendered at the first send attempt) no longer matches: render again with the edit.
      subject: null,
      html: null,
      text: null,
      renderedAsOf: null,
      ...(resetApproval
        ? {
            status: 'awaiting_approval' as const,
            decidedAt: null,
            decidedBy: null,
            statusCode: 'edited',
            statusReason: `Edited by ${by} after approval; approve again`,
          }
        : {}),
      updatedAt: now,
    });
    if (!updated) throw conflict(`message ${id} changed while editing, or may already have been sent`);
    return updated;
  });
}
