import { addressList } from '../../connectors/email-address';
import type { DbOrTx } from '../db/client';
import { creditOnAccount } from '../db/queries/credit-on-account';
import {
  bouncedEmails,
  customerRiskOf,
  disputesOf,
  invoicePredictionsOf,
  liveCustomers,
  livePromises,
  openInvoicesWithBalance,
  overridesOf,
  paidHistoryOf,
  releasedOptOutEmails,
  reminderStepHistory,
  sentReminderEngagement,
  suppressionRows,
} from '../db/queries/dunning-plan';
import type { dunningOverrides } from '../db/schema';
import { debtorView } from './debtor-view';
import type { DunningConfig } from './dunning-config';
import { localParts } from './local-time';
import {
  type CustomerPrediction,
  type HistoryEntry,
  type InvoicePrediction,
  movedAddresses,
  type PlannerCustomer,
  type PlannerInput,
  type PlannerInvoice,
  RELIABLE_LATE_DAYS,
} from './planner';
import type { Dispute, Override, PromiseToPay, RiskBand, Tone } from './policy';
import type { EngagementRecord } from './send-time';

/** Tag that marks a key account: firm and final messages to it wait for a human. */
export const STRATEGIC_TAG = 'strategic';

export function toOverride(row: typeof dunningOverrides.$inferSelect): Override {
  return {
    pausedUntil: row.pausedUntil ?? undefined,
    excluded: row.excluded,
    sequenceId: row.sequenceId ?? undefined,
    contactEmails: row.contactEmails && row.contactEmails.length > 0 ? row.contactEmails : undefined,
  };
}

/** Which addresses bounced and which customers opted out (unsubscribed, complained, provider-suppressed). */
export async function loadSuppressions(db: DbOrTx, tenantId: string, customerIds?: string[]) {
  const rows = await suppressionRows(db, tenantId, customerIds);
  const badEmails = new Set<string>();
  const optedOut = new Set<string>();
  for (const r of rows) {
    if (r.kind === 'bounced' && r.email) badEmails.add(r.email.toLowerCase());
    else if (r.customerId) optedOut.add(r.customerId);
  }
  // Bounces are per address, whoever's address it is.
  if (customerIds) {
    const bounced = await bouncedEmails(db, tenantId);
    for (const b of bounced) if (b.email) badEmails.add(b.email.toLowerCase());
  }
  // A debtor of a CSV company's file who opted out, the company since connected to its ledger: the file's row was
  // released (its ledger customer is another row), and the opt-out holds for the address it was made with.
  const optedOutEmails = new Set(await releasedOptOutEmails(db, tenantId));
  return { badEmails, optedOut, optedOutEmails };
}

/** Whether any of `addresses` opted out (loadSuppressions' optedOutEmails). */
export function anyOptedOut(addresses: readonly string[] | undefined, optedOutEmails: Set<string>): boolean {
  return optedOutEmails.size > 0 && (addresses ?? []).some((a) => optedOutEmails.has(a.toLowerCase()));
}

/** Reachable addresses: the billing emails minus bounced ones; bounced when every address bounced. */
export function reachable(emails: string[], badEmails: Set<string>): { emails: string[]; bounced: boolean } {
  const good = emails.filter((e) => !badEmails.has(e.toLowerCase()));
  return { emails: good, bounced: emails.length > 0 && good.length === 0 };
}

/** An open invoice row as the planner reads it (its override is set by the caller). */
function plannerInvoice(i: Awaited<ReturnType<typeof openInvoicesWithBalance>>[number]): PlannerInvoice {
  return {
    id: i.id,
    customerId: i.customerId,
    number: i.number ?? i.externalId,
    issueDate: i.issueDate,
    dueDate: i.dueDate,
    totalMinor: i.totalMinor,
    openBalanceMinor: i.balanceMinor,
    currency: i.currency,
    payLink: i.payLink,
  };
}

/** Credit rows summed per currency (a parent's and its billed jobs' are one figure). */
function creditsIn(rows: { currency: string; creditMinor: number }[]) {
  const sum = new Map<string, number>();
  for (const r of rows) sum.set(r.currency, (sum.get(r.currency) ?? 0) + r.creditMinor);
  return [...sum].map(([currency, creditMinor]) => ({ currency, creditMinor }));
}

/** Addresses the planner would write to for a customer: its dunning contact, else its billing emails not bounced. */
function contactsOf(
  c: { emails: string[] },
  override: Override | undefined,
  badEmails: Set<string>,
): string[] {
  return override?.contactEmails ?? reachable(c.emails, badEmails).emails;
}

type CustomerRow = Awaited<ReturnType<typeof liveCustomers>>[number];

/**
 * "Bill with parent": a sub-customer (job) billed with its parent is chased through the customer who pays
 * it. Per such job's id: the billing customer (the parent, or up the chain while each is billed with its own parent)
 * and the job's name. Resolved here, not at sync time, by the parent's external id, so a parent synced after its
 * job resolves too. A job whose parent is not a live customer, or has no address to write to (`hasAddress`), is not
 * listed: it is chased at its own address (and, with none either, a contact is sought for it).
 */
export function billedThrough(
  rows: CustomerRow[],
  hasAddress: (c: CustomerRow) => boolean,
): Map<string, { id: string; job: string }> {
  const byExternal = new Map(rows.map((c) => [c.externalId, c]));
  const out = new Map<string, { id: string; job: string }>();
  for (const c of rows) {
    if (!c.billWithParent || !c.parentExternalId) continue;
    let payer: CustomerRow | undefined = byExternal.get(c.parentExternalId);
    const seen = new Set([c.id]);
    while (payer?.billWithParent && payer.parentExternalId && !seen.has(payer.id)) {
      const up = byExternal.get(payer.parentExternalId);
      if (!up || seen.has(up.id)) break;
      seen.add(payer.id);
      payer = up;
    }
    if (payer && payer.id !== c.id && hasAddress(payer)) out.set(c.id, { id: payer.id, job: c.name });
  }
  return out;
}

/** Everything the pure planner needs, read from the tenant's rows in one consistent pass. */
export async function loadPlannerInput(
  db: DbOrTx,
  /** The timezone is the company's: its calendar day of the clock is the as-of day of credit on account. */
  tenant: { id: string; timezone: string },
  config: DunningConfig,
  now: Date,
  /**
   * The customer's band from its 0–1 score, as the risk module draws it (customer cut-offs in expected days late,
   * tenant sensitivity; RiskBands.bandsFor). Required: the planner has no cut-offs of its own.
   */
  bandOf: (riskScore: number) => RiskBand,
): Promise<PlannerInput> {
  const tenantId = tenant.id;
  const invRows = await openInvoicesWithBalance(db, tenantId);
  const custRows = invRows.length === 0 ? [] : await liveCustomers(db, tenantId);
  const overrides = await overridesOf(db, tenantId);
  const custOverride = new Map(
    overrides.filter((o) => o.customerId).map((o) => [o.customerId!, toOverride(o)]),
  );
  const invOverride = new Map(overrides.filter((o) => o.invoiceId).map((o) => [o.invoiceId!, toOverride(o)]));
  const { badEmails, optedOut, optedOutEmails } = await loadSuppressions(db, tenantId);
  const payer = billedThrough(custRows, (c) => contactsOf(c, custOverride.get(c.id), badEmails).length > 0);

  // Credit on account as of the company's day of the clock, as the dashboard counts it: a post-dated credit memo is
  // not credit yet.
  const asOf = localParts(now, tenant.timezone || 'UTC').date;
  const credits = Map.groupBy(
    invRows.length === 0 ? [] : await creditOnAccount(db, { tenantId, asOf }),
    // A job billed with its parent: its credit is the parent's to use, as its invoices are the parent's to pay.
    (c) => payer.get(c.customerId)?.id ?? c.customerId,
  );
  const jobsById = new Map(custRows.filter((c) => payer.has(c.id)).map((c) => [c.id, c]));
  const plannerInvoices: PlannerInvoice[] = invRows.map((i) => {
    const own = invOverride.get(i.id);
    const billed = payer.get(i.customerId);
    // The invoice's own BillEmail, every address of it that has not bounced (none left: its customer's addresses):
    // planner.recipientsOf.
    const listed = reachable(addressList(i.billEmail), badEmails).emails;
    // A job billed with its parent is planned as the parent: the ledger's copy of the job's old address on the
    // invoice is moved to the job's current one here (the planner compares BillEmails with the parent's addresses).
    const job = billed ? jobsById.get(i.customerId) : undefined;
    const billEmails = job
      ? movedAddresses(listed, {
          emails: reachable(job.emails, badEmails).emails,
          formerEmails: job.formerEmails,
        })
      : listed;
    const invoice = { ...plannerInvoice(i), ...(billEmails.length > 0 ? { billEmails } : {}) };
    if (!billed) {
      return { ...invoice, override: own };
    }
    // Planned with the parent, to the parent's address, unless the invoice names its own recipient (an invoice
    // contact override, its BillEmail) or the job has a dunning contact, pause, exclusion or sequence of its own.
    // A dunning contact set on the job counts as the invoice's own (it beats the parent's and the BillEmail).
    const jobOverride = custOverride.get(i.customerId);
    const contactEmails = own?.contactEmails ?? jobOverride?.contactEmails;
    const pausedUntil = [own?.pausedUntil, jobOverride?.pausedUntil]
      .filter((d) => d !== undefined)
      .sort()
      .at(-1);
    const override: Override = {
      excluded: (own?.excluded ?? false) || (jobOverride?.excluded ?? false),
      ...(pausedUntil ? { pausedUntil } : {}),
      ...((own?.sequenceId ?? jobOverride?.sequenceId)
        ? { sequenceId: own?.sequenceId ?? jobOverride?.sequenceId }
        : {}),
      ...(contactEmails ? { contactEmails } : {}),
    };
    return { ...invoice, customerId: billed.id, job: billed.job, jobId: i.customerId, override };
  });
  const withOpen = new Set(plannerInvoices.map((i) => i.customerId));
  const paidHistory = withOpen.size === 0 ? new Map() : await paidHistoryOf(db, tenantId, RELIABLE_LATE_DAYS);
  const plannerCustomers: PlannerCustomer[] = custRows
    .filter((c) => withOpen.has(c.id))
    .map((c) => {
      const r = reachable(c.emails, badEmails);
      return {
        id: c.id,
        name: c.name,
        emails: r.emails,
        ...(c.formerEmails.length > 0 ? { formerEmails: c.formerEmails } : {}),
        timezone: c.timezone,
        tags: c.tags,
        strategic: c.tags.includes(STRATEGIC_TAG),
        bounced: r.bounced,
        optedOut:
          optedOut.has(c.id) ||
          anyOptedOut(c.emails, optedOutEmails) ||
          anyOptedOut(custOverride.get(c.id)?.contactEmails, optedOutEmails),
        override: custOverride.get(c.id),
        credits: creditsIn(credits.get(c.id) ?? []),
        paidHistory: paidHistory.get(c.id) ?? { paid: 0, late: 0 },
        view: debtorView(c),
      };
    });

  const preds = await invoicePredictionsOf(db, tenantId);
  const invoicePreds: InvoicePrediction[] = preds.map((p) => ({
    invoiceId: p.invoiceId,
    pLate: p.pLate,
    predictedPayDate: p.predictedPayDate,
    riskBand: p.riskBand,
    pCollect90: p.pCollect90,
    reasons: p.reasons,
  }));
  const risks = await customerRiskOf(db, tenantId);
  // customer_risk.score is 0–100; the planner's riskScore is 0–1.
  const customerPreds: CustomerPrediction[] = risks.map((r) => ({
    customerId: r.customerId,
    riskScore: r.score / 100,
    riskBand: bandOf(r.score / 100),
    slowingAlert: r.slowingAlert,
  }));

  const history = await reminderStepHistory(db, tenantId);
  const historyEntries: HistoryEntry[] = history.map((h) => ({
    customerId: h.customer_id,
    invoiceId: h.invoice_id,
    stepKey: h.step_key,
    tone: (h.tone ?? 'neutral') as Tone,
    status:
      h.status === 'sent'
        ? 'sent'
        : h.status === 'skipped'
          ? 'skipped'
          : h.status === 'failed'
            ? 'failed'
            : 'planned',
    at: new Date(h.at),
    ...(h.status === 'awaiting_approval' ? { awaitingApproval: true } : {}),
  }));

  const promiseRows = await livePromises(db, tenantId);
  const promises: PromiseToPay[] = promiseRows.map((p) => ({
    customerId: p.customerId,
    invoiceIds: p.invoiceIds,
    promisedDate: p.promisedDate,
    amountMinor: p.amountMinor ?? undefined,
    graceDays: p.graceDays,
  }));
  const disputeRows = await disputesOf(db, tenantId);
  const disputeList: Dispute[] = disputeRows.map((d) => ({
    invoiceId: d.invoiceId,
    openedOn: d.openedOn,
    until: d.until,
    resolved: d.resolvedAt !== null,
  }));

  const engagement = await loadEngagement(db, tenantId, config.settings.timezone);
  return {
    now,
    settings: config.settings,
    policy: config.policy,
    customers: plannerCustomers,
    invoices: plannerInvoices,
    invoicePredictions: invoicePreds,
    customerPredictions: customerPreds,
    history: historyEntries,
    promises,
    disputes: disputeList,
    engagement,
  };
}

/** A payment this many days after a reminder counts as its outcome. */
export const PAID_AFTER_DAYS = 7;

/** Past sends with whether they were opened, clicked or followed by a payment, at the debtor's local hour: feeds the send-time choice. */
async function loadEngagement(
  db: DbOrTx,
  tenantId: string,
  tenantTz: string,
): Promise<(EngagementRecord & { customerId: string })[]> {
  // paid_after: one of the message's invoices was paid within a week of the send (by the ledger's paid_date, in
  // the debtor's zone) — the outcome a reminder is for, so the strongest signal for its hour and weekday.
  const rows = await sentReminderEngagement(db, tenantId, tenantTz, PAID_AFTER_DAYS);
  return rows.map((r) => {
    const p = localParts(new Date(r.sent_at), r.tz || tenantTz);
    return {
      customerId: r.customer_id,
      localHour: p.hour,
      localWeekday: p.weekday,
      opened: r.opened,
      clicked: r.clicked,
      paidAfter: r.paid_after,
    };
  });
}
