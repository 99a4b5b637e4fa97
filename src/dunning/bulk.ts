/**
 * Bulk actions from the lists: approve or skip many held reminders, pause/resume/exclude/include many customers,
 * mark many invoices disputed (or resolve their disputes). Each is one transaction: the rows are locked, the ones
 * that cannot take the action are reported with the reason (already sent, decided by someone else, not open …),
 * the rest change together, and one bulk_actions row records who did what to which rows.
 */
import { sql } from 'drizzle-orm';
import { rowsOf, type Tx } from '../db/client';
import { bulkActions } from '../db/schema';
import type { Services } from '../services';
import { APPROVAL_TTL_DAYS, enqueueSend } from './engine';

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

const uuidArray = (ids: string[]) => `{${ids.join(',')}}`;
const textArray = (ids: string[]) => `{${ids.map((i) => `"${i.replace(/["\\]/g, '')}"`).join(',')}}`;

async function record(
  tx: Tx,
  r: BulkRequest,
  target: string,
  action: string,
  appliedIds: string[],
  notApplied: { id: string; reason: string }[],
): Promise<BulkResult> {
  const [row] = await tx
    .insert(bulkActions)
    .values({
      tenantId: r.tenantId,
      actor: r.actor,
      target,
      action,
      request: r.request,
      requested: r.ids.length,
      applied: appliedIds.length,
      notApplied,
    })
    .returning({ id: bulkActions.id });
  return { id: row!.id, action, requested: r.ids.length, applied: appliedIds.length, appliedIds, notApplied };
}

/** Held messages → queued with their send jobs, or → skipped; anything else is reported, not changed. */
export async function bulkDecideMessages(
  services: Services,
  action: 'approve' | 'skip',
  r: BulkRequest & { reason?: string },
): Promise<BulkResult> {
  const now = services.clock.now();
  const expiredBefore = new Date(now.getTime() - APPROVAL_TTL_DAYS * 86_400_000);
  return services.db.transaction(async (tx) => {
    const rows = rowsOf<{ id: string; status: string; created_at: string | Date }>(
      await tx.execute(sql`select id, status, created_at from dunning_messages
        where tenant_id = ${r.tenantId}::uuid and id = any(${textArray(r.ids)}::text[]) for update`),
    );
    const found = new Map(rows.map((m) => [m.id, m]));
    const notApplied: { id: string; reason: string }[] = [];
    const ok: string[] = [];
    for (const id of r.ids) {
      const m = found.get(id);
      if (!m) notApplied.push({ id, reason: 'not found' });
      else if (action === 'approve' && m.status !== 'awaiting_approval')
        notApplied.push({ id, reason: `is ${m.status.replace(/_/g, ' ')}, not awaiting approval` });
      else if (action === 'skip' && !['planned', 'awaiting_approval', 'queued'].includes(m.status))
        notApplied.push({ id, reason: `is ${m.status} and can no longer be skipped` });
      else if (action === 'approve' && new Date(m.created_at) < expiredBefore)
        notApplied.push({
          id,
          reason: `older than ${APPROVAL_TTL_DAYS} days; plan again for current figures`,
        });
      else ok.push(id);
    }
    const at = now.toISOString();
    if (ok.length > 0 && action === 'approve') {
      const approved = rowsOf<{ id: string; send_at: string | Date }>(
        await tx.execute(sql`update dunning_messages set status = 'queued', decided_by = ${r.actor},
            decided_at = ${at}::timestamptz, send_at = greatest(send_at, ${at}::timestamptz),
            status_code = 'approved', status_reason = ${`Approved by ${r.actor}`}, updated_at = ${at}::timestamptz
          where id = any(${textArray(ok)}::text[]) and status = 'awaiting_approval' returning id, send_at`),
      );
      for (const m of approved) await enqueueSend(services, tx, m.id, new Date(m.send_at), `approved:${at}`);
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
      const skipped = rowsOf<{ id: string }>(
        await tx.execute(sql`update dunning_messages set status = 'skipped', decided_by = ${r.actor},
            decided_at = ${at}::timestamptz, status_code = 'approval_rejected', status_reason = ${reason},
            updated_at = ${at}::timestamptz
          where id = any(${textArray(ok)}::text[]) and status in ('planned','awaiting_approval','queued') returning id`),
      );
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
  services: Services,
  action: CustomerBulkAction,
  r: BulkRequest & { until?: string },
): Promise<BulkResult> {
  const now = services.clock.now().toISOString();
  return services.db.transaction(async (tx) => {
    const existing = rowsOf<{ id: string }>(
      await tx.execute(sql`select id from customers where tenant_id = ${r.tenantId}::uuid
        and id = any(${uuidArray(r.ids)}::uuid[]) for update`),
    );
    const found = new Set(existing.map((c) => String(c.id)));
    const ok = r.ids.filter((id) => found.has(id));
    const notApplied = r.ids.filter((id) => !found.has(id)).map((id) => ({ id, reason: 'not found' }));
    if (ok.length > 0) {
      const paused = action === 'pause' ? (r.until ?? null) : null;
      const excluded = action === 'exclude';
      const set =
        action === 'pause' || action === 'resume'
          ? sql`paused_until = excluded.paused_until`
          : sql`excluded = excluded.excluded`;
      await tx.execute(sql`insert into dunning_overrides (tenant_id, customer_id, paused_until, excluded, updated_at)
        select ${r.tenantId}::uuid, c, ${paused}::date, ${excluded}, ${now}::timestamptz
        from unnest(${uuidArray(ok)}::uuid[]) as c
        on conflict (tenant_id, customer_id) where customer_id is not null
        do update set ${set}, updated_at = excluded.updated_at`);
    }
    return record(tx, r, 'customers', action, ok, notApplied);
  });
}

/** Opens a dispute on each open invoice that has none open (the planner and the pre-send check then hold them). */
export async function bulkDispute(
  services: Services,
  action: 'dispute' | 'resolve',
  r: BulkRequest & { reason?: string; until?: string | null; today: string },
): Promise<BulkResult> {
  const now = services.clock.now().toISOString();
  return services.db.transaction(async (tx) => {
    const rows = rowsOf<{ id: string; status: string; disputed: boolean | string }>(
      await tx.execute(sql`select i.id, i.status, exists (select 1 from disputes d where d.invoice_id = i.id
          and d.tenant_id = i.tenant_id and d.resolved_at is null) as disputed
        from invoices i where i.tenant_id = ${r.tenantId}::uuid and i.id = any(${uuidArray(r.ids)}::uuid[])
        for update of i`),
    );
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
      await tx.execute(sql`insert into disputes (tenant_id, invoice_id, opened_on, until, reason)
        select ${r.tenantId}::uuid, i, ${r.today}::date, ${r.until ?? null}::date, ${reason}
        from unnest(${uuidArray(ok)}::uuid[]) as i`);
    }
    if (ok.length > 0 && action === 'resolve') {
      await tx.execute(sql`update disputes set resolved_at = ${now}::timestamptz
        where tenant_id = ${r.tenantId}::uuid and invoice_id = any(${uuidArray(ok)}::uuid[]) and resolved_at is null`);
    }
    return record(tx, r, 'invoices', action, ok, notApplied);
  });
}
