/**
 * The sequence editor's preview: one step of a sequence rendered for a real invoice, as the debtor would see it.
 * The saved step (GET …/dunning/preview) and an unsaved draft (POST) both come through here, so the two previews
 * cannot drift apart.
 */
import type { DbOrTx } from '../db/client';
import type { Tenant } from '../db/queries/tenants';
import { invoiceWithCustomer } from '../db/queries/dunning-plan';
import { notFound } from '../errors';
import type { DunningDeps } from './ports';
import { composeEmail, type MessageRow } from './compose-email';
import { addDays, diffDays, localParts } from './local-time';
import { type ParseResult, parseWith, type Step, sequenceSchema } from './policy';

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
  sendsOn: string;
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
  const today = localParts(now, c.timezone || input.timezone).date;
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
    sendAt: now,
    requiresApproval: false,
    approvalReason: null,
    reason: 'preview',
    snapshot: {
      asOf: today,
      plannedAt: now.toISOString(),
      invoices: [
        {
          invoiceId: inv.id,
          number: inv.number ?? inv.externalId,
          issueDate: inv.issueDate,
          dueDate: inv.dueDate,
          daysOverdue: Math.max(0, diffDays(today, inv.dueDate)),
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
  const email = await composeEmail(services, row, tenant, c, now);
  return {
    sequence: seq.id,
    step: stepIndex,
    tone: step.tone,
    template: step.template,
    offsetDays: step.offsetDays,
    sendsOn: addDays(inv.dueDate, step.offsetDays),
    subject: email.subject,
    html: email.html,
    text: email.text,
    templateVersion: email.templateVersion,
  };
}
