import { formatMoney } from '../../connectors/money';
import { type ApprovalRule, type RiskBand, TONE_RANK, type Tone } from './policy';

export interface ApprovalFacts {
  /** The rules of every step the message fulfils, with a label for the reason text. */
  rules: { rule: ApprovalRule; step: string; invoiceHighRisk: boolean }[];
  tone: Tone;
  totals: { currency: string; openMinor: number }[];
  thresholdMinor: number;
  customer: { name: string; strategic: boolean; riskBand: RiskBand | null; slowingAlert: boolean };
}

/** Why a human must approve the message; empty when it may go out on its own. */
export function approvalReasons(f: ApprovalFacts): string[] {
  const reasons = new Set<string>();
  const limits = new Set<number>();
  const highRisk = f.customer.riskBand === 'high' || f.customer.slowingAlert;
  for (const { rule, step, invoiceHighRisk } of f.rules) {
    if (rule.type === 'always') reasons.add(`${step} always needs approval`);
    if (rule.type === 'above_amount') limits.add(rule.amountMinor ?? f.thresholdMinor);
    if (rule.type === 'high_risk' && (highRisk || invoiceHighRisk)) reasons.add('high-risk customer');
  }
  // The strictest limit decides, compared per currency: totals in different currencies are never added.
  if (limits.size > 0) {
    const limit = Math.min(...limits);
    for (const t of f.totals) {
      if (t.openMinor > limit) {
        const total = formatMoney(t.openMinor, t.currency, 'en-US');
        reasons.add(
          `open total ${total} is above the approval threshold ${formatMoney(limit, t.currency, 'en-US')}`,
        );
      }
    }
  }
  // A final notice threatens consequences: a person always confirms it, whatever the step's own rule says.
  if (f.tone === 'final') reasons.add('a final notice always needs approval');
  if (f.customer.strategic && TONE_RANK[f.tone] >= TONE_RANK.firm) {
    reasons.add(`${f.customer.name} is a strategic account and this message is ${f.tone}`);
  }
  return [...reasons];
}
