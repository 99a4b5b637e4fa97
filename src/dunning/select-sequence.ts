import type { DunningPolicy, RiskBand, Segment, Sequence } from './policy';

/** What segment rules look at, per customer. */
export interface SegmentFacts {
  riskBand: RiskBand | null;
  slowingAlert: boolean;
  tags: readonly string[];
  /** Open balance per currency, minor units. */
  openByCurrency: ReadonlyMap<string, number>;
}

/**
 * The customer's sequence: an explicit override, else the first rule whose segment matches, else the default.
 * An override naming a sequence that no longer exists falls through to the rules rather than stopping dunning.
 */
export function selectSequence(
  policy: DunningPolicy,
  facts: SegmentFacts,
  overrideId?: string,
): { sequence: Sequence; why: string } {
  const byId = new Map(policy.sequences.map((s) => [s.id, s]));
  const override = overrideId ? byId.get(overrideId) : undefined;
  if (override) return { sequence: override, why: 'override' };
  for (const [i, rule] of policy.rules.entries()) {
    const seq = byId.get(rule.sequenceId);
    if (seq && matches(rule.when, facts)) return { sequence: seq, why: `rule ${i + 1}` };
  }
  const fallback = byId.get(policy.defaultSequenceId) ?? policy.sequences[0];
  if (!fallback) throw new Error('policy has no sequences');
  return { sequence: fallback, why: 'default' };
}

export function matches(segment: Segment, facts: SegmentFacts): boolean {
  if (segment.riskBands && (facts.riskBand === null || !segment.riskBands.includes(facts.riskBand)))
    return false;
  if (segment.slowingAlert !== undefined && segment.slowingAlert !== facts.slowingAlert) return false;
  if (segment.tagsAny && !segment.tagsAny.some((t) => facts.tags.includes(t))) return false;
  if (segment.amount) {
    const open = facts.openByCurrency.get(segment.amount.currency);
    if (open === undefined) return false;
    if (segment.amount.minMinor !== undefined && open < segment.amount.minMinor) return false;
    if (segment.amount.maxMinor !== undefined && open > segment.amount.maxMinor) return false;
  }
  return true;
}
