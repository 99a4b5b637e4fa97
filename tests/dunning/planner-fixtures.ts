import { addDays } from '../../src/dunning/local-time';
import type {
  CustomerPrediction,
  HistoryEntry,
  InvoicePrediction,
  PlannedMessage,
  PlannerCustomer,
  PlannerInput,
  PlannerInvoice,
} from '../../src/dunning/planner';
import { DEFAULT_POLICY, dunningSettingsSchema } from '../../src/dunning/policy';

/** Tuesday 2026-11-24, 08:00 in Berlin. */
export const NOW = new Date('2026-11-24T07:00:00Z');
export const TODAY = '2026-11-24';

export const settings = dunningSettingsSchema.parse({
  timezone: 'Europe/Berlin',
  businessDays: [1, 2, 3, 4, 5],
  businessHours: { start: 8, end: 18 },
  quietHours: { start: 20, end: 8 },
  approvalThresholdMinor: 500_000,
});

export function customer(id: string, extra: Partial<PlannerCustomer> = {}): PlannerCustomer {
  return {
    id,
    name: `Customer ${id}`,
    emails: [`ap@${id}.example`],
    tags: [],
    strategic: false,
    bounced: false,
    optedOut: false,
    ...extra,
  };
}

/** An invoice `overdue` days past due as of TODAY (negative = due in the future). */
export function invoice(
  id: string,
  customerId: string,
  overdue: number,
  extra: Partial<PlannerInvoice> = {},
): PlannerInvoice {
  return {
    id,
    customerId,
    number: id.toUpperCase(),
    issueDate: addDays(TODAY, -overdue - 30),
    dueDate: addDays(TODAY, -overdue),
    totalMinor: 100_000,
    openBalanceMinor: 100_000,
    currency: 'EUR',
    payLink: `https://pay.example/${id}`,
    ...extra,
  };
}

export function prediction(
  invoiceId: string,
  pLate: number,
  lateDays: number,
  dueDate: string,
  riskBand: InvoicePrediction['riskBand'] = 'medium',
): InvoicePrediction {
  return {
    invoiceId,
    pLate,
    predictedPayDate: addDays(dueDate, lateDays),
    riskBand,
    pCollect90: null,
    reasons: ['pays later than terms'],
  };
}

export function risk(
  customerId: string,
  riskBand: CustomerPrediction['riskBand'],
  slowingAlert = false,
): CustomerPrediction {
  const riskScore = riskBand === 'low' ? 0.1 : riskBand === 'medium' ? 0.5 : 0.9;
  return { customerId, riskScore, riskBand, slowingAlert };
}

export function input(parts: Partial<PlannerInput>): PlannerInput {
  return {
    now: NOW,
    settings,
    policy: DEFAULT_POLICY,
    customers: [],
    invoices: [],
    invoicePredictions: [],
    customerPredictions: [],
    history: [],
    promises: [],
    disputes: [],
    engagement: [],
    ...parts,
  };
}

/** What the caller records after persisting planned messages. */
export function historyOf(
  messages: PlannedMessage[],
  status: HistoryEntry['status'] = 'planned',
): HistoryEntry[] {
  return messages.flatMap((m) =>
    m.steps.map((s) => ({
      customerId: m.customerId,
      invoiceId: s.invoiceId,
      stepKey: s.stepKey,
      tone: m.tone,
      status,
      at: m.sendAt,
    })),
  );
}

/**
 * History of a debtor who received the given steps of the default policy (all "sent" `daysAgo` days before NOW),
 * e.g. sent('c', 'i', ['standard:1:0', 'standard:2:0'], 20): the planner escalates from what the debtor received.
 */
export function sent(
  customerId: string,
  invoiceId: string,
  keys: string[],
  daysAgo: number,
  status: HistoryEntry['status'] = 'sent',
): HistoryEntry[] {
  return keys.map((stepKey) => {
    const [seqId, index] = stepKey.split(':');
    const seq = DEFAULT_POLICY.sequences.find((s) => s.id === seqId)!;
    return {
      customerId,
      invoiceId,
      stepKey,
      tone: seq.steps[Number(index)]!.tone,
      status,
      at: new Date(NOW.getTime() - daysAgo * 86_400_000),
    };
  });
}
