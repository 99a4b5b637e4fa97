import type { Sequence, Step } from './policy';

/** One point in a sequence's timeline: a step, or one of the repeats of the last step. */
export interface StepOccurrence {
  /** Stable across runs: `${sequenceId}:${stepIndex}:${repeat}` (repeat 0 = the step itself). */
  key: string;
  stepIndex: number;
  repeat: number;
  offsetDays: number;
  step: Step;
}

export function stepKey(sequenceId: string, stepIndex: number, repeat: number): string {
  return `${sequenceId}:${stepIndex}:${repeat}`;
}

/**
 * The sequence's occurrences in time order. Steps reserved for predicted-late invoices are left out when the
 * model does not predict lateness, so a reliable payer's timeline simply has no pre-due nudge.
 */
export function stepTimeline(sequence: Sequence, predictedLate: boolean): StepOccurrence[] {
  const out: StepOccurrence[] = [];
  sequence.steps.forEach((step, i) => {
    if (step.onlyIfPredictedLate && !predictedLate) return;
    out.push({ key: stepKey(sequence.id, i, 0), stepIndex: i, repeat: 0, offsetDays: step.offsetDays, step });
  });
  const lastIndex = sequence.steps.length - 1;
  const last = sequence.steps[lastIndex];
  if (sequence.repeat && last) {
    for (let r = 1; r <= sequence.repeat.maxRepeats; r++) {
      out.push({
        key: stepKey(sequence.id, lastIndex, r),
        stepIndex: lastIndex,
        repeat: r,
        offsetDays: last.offsetDays + r * sequence.repeat.everyDays,
        step: last,
      });
    }
  }
  return out;
}

/** The latest occurrence due by `daysFromDue`: steps missed earlier are superseded, never fired in a burst. */
export function latestDue(
  timeline: readonly StepOccurrence[],
  daysFromDue: number,
): StepOccurrence | undefined {
  return timeline.filter((o) => o.offsetDays <= daysFromDue).at(-1);
}

export function nextAfter(
  timeline: readonly StepOccurrence[],
  daysFromDue: number,
): StepOccurrence | undefined {
  return timeline.find((o) => o.offsetDays > daysFromDue);
}
