import { formatMoney } from '../../connectors/money';
import { type ApprovalRule, type RiskBand, TONE_RANK, type Tone } from './policy';

export interface ApprovalFacts {
  /** The rules of every step the message fulfils, with a label for the reason text. */
  rules: { rule: ApprovalRule; step: string; invoiceHighRisk: boolean }[];
  tone: Tone;
  totals: { currency: string; openMinor: number }[];
  thresholdMinor: number;
  customer: { name: string; strategic: boolean; riskBand: RiskBand | null; slowingAlert: boolean };
  /**
   * A catch-up: what is sent is the first contact, a statement of account (no tone of its own), not the step the
   * debt had reached; the reasons name it so ("first contact (catch-up statement) …"), as Approvals labels it.
   */
  catchUp?: boolean;
}

/** How Approvals names a catch-up's place in its sequence (web stepLabel). */
export const CATCH_UP_LABEL = 'first contact (catch-up statement)';

/** Why a human must approve the message; empty when it may go out on its own. */
export function approvalReasons(f: ApprovalFacts): string[] {
  const reasons = new Set<string>();
  const limits = new Set<number>();
  const highRisk = f.customer.riskBand === 'high' || f.customer.slowingAlert;
  for (const { rule, step, invoiceHighRisk } of f.rules) {
    if (rule.type === 'always') reasons.add(`${f.catchUp ? CATCH_UP_LABEL : step} always needs approval`);
    if (rule.type === 'above_amount') limits.add(rule.amountMinor ?? f.thresholdMinor);
    if (rule.type === 'high_risk' && (highRisk || invoiceHighRisk))
      reasons.add(
        f.catchUp ? `${CATCH_UP_LABEL} for a high-risk customer needs approval` : 'high-risk customer',
      );
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
  // A catch-up statement threatens nothing: it is no final notice, whatever step the debt had reached.
  if (f.tone === 'final' && !f.catchUp) reasons.add('a final notice always needs approval');
  if (f.customer.strategic && TONE_RANK[f.tone] >= TONE_RANK.firm) {
    reasons.add(
      f.catchUp
        ? `${f.customer.name} is a strategic account and this ${CATCH_UP_LABEL} stands in for a ${f.tone} reminder`
        : `${f.customer.name} is a strategic account and this message is ${f.tone}`,
    );
  }
  return [...reasons];
}
