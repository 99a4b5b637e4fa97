import type { Sequence } from './policy';
import type { StepOccurrence } from './step-schedule';

/** "is 14 days overdue" / "is due today" / "is due in 3 days". */
export function dueText(daysFromDue: number): string {
  if (daysFromDue > 0) return `is ${daysFromDue} day${daysFromDue === 1 ? '' : 's'} overdue`;
  if (daysFromDue === 0) return 'is due today';
  return `is due in ${-daysFromDue} day${daysFromDue === -1 ? '' : 's'}`;
}

/** "step 2 of 'Standard' (neutral)", or "repeat 1 of step 4 of 'Reliable' (firm)". Steps count from 1 for people. */
export function describeStep(o: StepOccurrence, seq: Sequence): string {
  const step = `step ${o.stepIndex + 1} of '${seq.name}' (${o.step.tone})`;
  return o.repeat > 0 ? `repeat ${o.repeat} of ${step}` : step;
}
