/**
 * A reviewer's decisions on held messages. Every move is a compare-and-set on the status, so two reviewers (or a
 * double click) cannot approve twice, and nothing already sending or sent can be changed.
 */
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { dunningMessages, tenants } from '../db/schema';
import { AppError, conflict, notFound } from '../errors';
import type { Services } from '../services';
import { APPROVAL_TTL_DAYS, enqueueSend } from './engine';
import { sendingActive } from './go-live';

async function current(services: Services, tenantId: string, id: string) {
  const [row] = await services.db
    .select({
      status: dunningMessages.status,
      createdAt: dunningMessages.createdAt,
      sendAt: dunningMessages.sendAt,
    })
    .from(dunningMessages)
    .where(and(eq(dunningMessages.id, id), eq(dunningMessages.tenantId, tenantId)));
  if (!row) throw notFound(`message ${id}`);
  return row;
}

/** awaiting_approval → queued, and its send job (now, or at its planned time if that is later); planned before go-live. */
export async function approveMessage(services: Services, tenantId: string, id: string, by: string) {
  const now = services.clock.now();
  const row = await current(services, tenantId, id);
  if (row.status !== 'awaiting_approval')
    throw conflict(`message ${id} is ${row.status}, not awaiting approval`);
  if (now.getTime() - row.createdAt.getTime() > APPROVAL_TTL_DAYS * 86_400_000) {
    throw new AppError(
      'approval_expired',
      `message ${id} is older than ${APPROVAL_TTL_DAYS} days; plan again for current figures`,
      409,
    );
  }
  const sendAt = new Date(Math.max(row.sendAt.getTime(), now.getTime()));
  return services.db.transaction(async (tx) => {
    // Before go-live (or while paused) an approval is recorded and the message stays planned: it is queued, with
    // its approval, when sending is switched on (engine.resumeSending).
    const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
    const active = tenant ? sendingActive(tenant) : false;
    const [updated] = await tx
      .update(dunningMessages)
      .set({
        status: active ? 'queued' : 'planned',
        decidedBy: by,
        decidedAt: now,
        sendAt,
        statusCode: 'approved',
        statusReason: `Approved by ${by}`,
        updatedAt: now,
      })
      .where(and(eq(dunningMessages.id, id), eq(dunningMessages.status, 'awaiting_approval')))
      .returning();
    if (!updated) throw conflict(`message ${id} was decided by someone else`);
    if (active) await enqueueSend(services, tx, id, sendAt, `approved:${now.toISOString()}`);
    return updated;
  });
}

/** A reviewer drops the message. Its steps stay taken: the planner moves on to the next step in time. */
export async function skipMessage(
  services: Services,
  tenantId: string,
  id: string,
  by: string,
  reason?: string,
) {
  const now = services.clock.now();
  const [updated] = await services.db
    .update(dunningMessages)
    .set({
      status: 'skipped',
      decidedBy: by,
      decidedAt: now,
      statusCode: 'approval_rejected',
      statusReason: reason ? `Skipped by ${by}: ${reason}` : `Skipped by ${by}`,
      updatedAt: now,
    })
    .where(
      and(
        eq(dunningMessages.id, id),
        eq(dunningMessages.tenantId, tenantId),
        inArray(dunningMessages.status, ['planned', 'awaiting_approval', 'queued']),
        // An attempt that may have reached the provider is not "skipped": the send path resolves it.
        isNull(dunningMessages.inDoubtSince),
      ),
    )
    .returning();
  if (!updated) {
    const row = await current(services, tenantId, id);
    throw conflict(`message ${id} is ${row.status} and can no longer be skipped`);
  }
  return updated;
}

/**
 * Edits the subject or adds an introduction. An edit of a message that needs approval always goes (back) to
 * awaiting_approval: an approval covers the text that was approved, not a later one.
 */
export async function editMessage(
  services: Services,
  tenantId: string,
  id: string,
  by: string,
  edit: { subject?: string | null; intro?: string | null },
) {
  const now = services.clock.now();
  const row = await current(services, tenantId, id);
  if (row.status !== 'awaiting_approval' && row.status !== 'queued' && row.status !== 'planned') {
    throw conflict(`message ${id} is ${row.status} and can no longer be edited`);
  }
  const [full] = await services.db.select().from(dunningMessages).where(eq(dunningMessages.id, id));
  // Approved and waiting to be sent (queued, or planned before go-live): the approval covered the old text.
  const resetApproval =
    full!.requiresApproval &&
    (full!.status === 'queued' || (full!.status === 'planned' && full!.decidedAt !== null));
  const [updated] = await services.db
    .update(dunningMessages)
    .set({
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
    })
    .where(
      and(
        eq(dunningMessages.id, id),
        inArray(dunningMessages.status, ['planned', 'awaiting_approval', 'queued']),
        // Once an attempt may have reached the provider the body is fixed (same key, same bytes).
        isNull(dunningMessages.inDoubtSince),
      ),
    )
    .returning();
  if (!updated) throw conflict(`message ${id} changed while editing, or may already have been sent`);
  return updated;
}
