/**
 * The sequence editor's preview: one step of a sequence rendered for a real invoice, as the debtor would see it.
 * The saved step (GET …/dunning/preview) and an unsaved draft (POST) both come through here, so the two previews
 * cannot drift apart.
 */
import type { DbOrTx } from '../db/client';
import { invoiceWithCustomer } from '../db/queries/dunning-plan';
import type { Tenant } from '../db/queries/tenants';
import { notFound } from '../errors';
import { composeEmail, type MessageRow } from './compose-email';
import { addDays, diffDays, localParts, zonedInstant } from './local-time';
import { type ParseResult, parseWith, type Step, sequenceSchema } from './policy';
import type { DunningDeps } from './ports';

export interface StepPreviewInput {
  invoiceId: string;
  sequence: { id: string; name: string };
  /** Position in the sequence: the step key, and how many reminders the copy assumes came before. */
  stepIndex: number;
  step: Step;
  /** Used when the customer has no timezone of its own (the tenant's dunning settings). */
  timezone: string;
}

export interface StepPreview {
  sequence: string;
  step: number;
  tone: Step['tone'];
  template: Step['template'];
  offsetDays: number;
  /**
   * The day this step would go out for the invoice: its due date plus the step's offset, or today when that day has
   * passed (never a day in the past: a 699-days-overdue invoice previewed a pre-due nudge "on Jan 4, 2025").
   */
  sendsOn: string;
  /**
   * The step's own day for this invoice passed before today: the planner would have moved on to a later step (or a
   * catch-up statement), so this invoice is no example of the step; the editor says so and suggests another.
   */
  stepDayPassed: boolean;
  subject: string;
  html: string;
  text: string;
  templateVersion: string | null;
}

/**
 * A draft step checked by the same rules a saved policy's steps pass (stepSchema inside sequenceSchema, so the
 * sequence-level step checks such as "channel not available yet" apply too). Errors are named from `at`:
 * "draft.tone: Invalid option …".
 */
export function parseDraftStep(input: unknown, at = 'draft'): ParseResult<Step> {
  const r = parseWith(sequenceSchema, { id: 'draft', name: 'Draft', steps: [input] });
  if (r.ok) return { ok: true, value: r.value.steps[0]! };
  return { ok: false, errors: r.errors.map((e) => e.replace(/^steps\[0\]/, at)) };
}

async function previewInvoice(db: DbOrTx, tenantId: string, invoiceId: string) {
  const row = await invoiceWithCustomer(db, tenantId, invoiceId);
  if (!row) throw notFound(`invoice ${invoiceId}`);
  return row;
}

export async function previewStep(
  services: DunningDeps,
  tenant: Tenant,
  input: StepPreviewInput,
): Promise<StepPreview> {
  const { invoice: inv, customer: c } = await previewInvoice(services.db, tenant.id, input.invoiceId);
  const { sequence: seq, step, stepIndex } = input;
  const now = services.clock.now();
  const zone = c.timezone || input.timezone;
  const today = localParts(now, zone).date;
  const stepDay = addDays(inv.dueDate, step.offsetDays);
  const stepDayPassed = stepDay < today;
  // The email reads as on the day it would go out (its days overdue and "due in N days"), not as on today.
  const sendsOn = stepDayPassed ? today : stepDay;
  const renderAt = sendsOn === today ? now : zonedInstant(sendsOn, 9, 0, zone);
  const stepKey = `${seq.id}:${stepIndex}:0`;
  const row = {
    id: 'preview',
    tenantId: tenant.id,
    customerId: c.id,
    kind: 'reminder',
    to: c.emails,
    channel: step.channel,
    invoiceIds: [inv.id],
    stepKeys: [stepKey],
    stepKey,
    sequenceId: seq.id,
    tone: step.tone,
    template: step.template,
    sendAt: renderAt,
    requiresApproval: false,
    approvalReason: null,
    reason: 'preview',
    snapshot: {
      asOf: today,
      sendDate: sendsOn,
      plannedAt: now.toISOString(),
      invoices: [
        {
          invoiceId: inv.id,
          number: inv.number ?? inv.externalId,
          issueDate: inv.issueDate,
          dueDate: inv.dueDate,
          daysOverdue: Math.max(0, diffDays(sendsOn, inv.dueDate)),
          totalMinor: inv.totalMinor,
          openBalanceMinor: inv.balanceMinor,
          currency: inv.currency,
          payLink: inv.payLink,
          stepKey,
          prediction: null,
        },
      ],
      totals: [{ currency: inv.currency, openMinor: inv.balanceMinor }],
      previousReminders: stepIndex,
      ...(step.copy ? { copy: step.copy } : {}),
      customerRisk: { riskScore: null, riskBand: null, slowingAlert: false },
      sequence: { id: seq.id, name: seq.name, selectedBy: 'preview' },
    },
  } as unknown as MessageRow;
  const email = await composeEmail(services, row, tenant, c, renderAt);
  return {
    sequence: seq.id,
    step: stepIndex,
    tone: step.tone,
    template: step.template,
    offsetDays: step.offsetDays,
    sendsOn,
    stepDayPassed,
    subject: email.subject,
    html: email.html,
    text: email.text,
    templateVersion: email.templateVersion,
  };
}
