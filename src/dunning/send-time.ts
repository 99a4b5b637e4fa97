import { addDays, type IsoDate, isoWeekday, localParts, zonedInstant } from './local-time';

/** When mail may go out, in the debtor's local time. Hours are whole hours, [start, end). */
export interface SendWindow {
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  businessDays: number[];
  businessHours: { start: number; end: number };
  /** May wrap midnight ({ start: 20, end: 8 }). */
  quietHours?: { start: number; end: number } | null;
  holidays: IsoDate[];
}

/** One past message to this debtor, with what followed it, at the local hour/weekday it was delivered. */
export interface EngagementRecord {
  localHour: number;
  localWeekday: number;
  opened: boolean;
  clicked: boolean;
  paidAfter: boolean;
}

export interface SendTimeInput extends SendWindow {
  now: Date;
  debtorTimezone?: string | null;
  tenantTimezone: string;
  engagement: readonly EngagementRecord[];
  /** Uniform [0, 1); injected so choices are reproducible (the planner seeds it per message). */
  rng: () => number;
}

const HORIZON_DAYS = 14;
/** Share of choices that try a slot other than the current best, so the model keeps learning. */
const EXPLORATION = 0.1;
/** Prior pseudo-observations: how many real sends it takes to outweigh the Tue–Thu 9–11 prior. */
const PRIOR_WEIGHT = 4;
/** Waiting a day costs 15%: a slightly better weekday is not worth a reminder arriving days later. */
const DAILY_DECAY = 0.85;

/**
 * Picks the send instant: the allowed hour slot (debtor's timezone, else the tenant's; business days and hours,
 * outside quiet hours and holidays) with the best smoothed engagement rate per local hour × per weekday,
 * discounted for delay, with a little rng-driven exploration among the next two days' slots.
 */
export function chooseSendTime(input: SendTimeInput): Date {
  const timeZone = input.debtorTimezone || input.tenantTimezone;
  const slots = allowedSlots(input, timeZone, input.now);
  const first = slots[0];
  if (!first) throw new RangeError(`no allowed send time in the next ${HORIZON_DAYS} days`);

  if (input.rng() < EXPLORATION) {
    const soon = slots.filter((s) => s.at.getTime() - first.at.getTime() < 2 * 86_400_000);
    return new Date((soon[Math.floor(input.rng() * soon.length)] ?? first).at);
  }

  const hourRate = smoothedRates(input.engagement, (e) => e.localHour, hourPrior);
  const dayRate = smoothedRates(input.engagement, (e) => e.localWeekday, weekdayPrior);
  let best = first;
  let bestScore = -1;
  for (const slot of slots) {
    const daysAhead = (slot.at.getTime() - input.now.getTime()) / 86_400_000;
    const score = hourRate(slot.hour) * dayRate(slot.weekday) * DAILY_DECAY ** daysAhead;
    if (score > bestScore) {
      best = slot;
      bestScore = score;
    }
  }
  return new Date(best.at);
}

/** The earliest instant ≥ now at which the window allows sending: where the pre-send check defers to. */
export function nextAllowedTime(window: SendWindow & { now: Date; timeZone: string }): Date {
  const slot = allowedSlots(window, window.timeZone, window.now)[0];
  if (!slot) throw new RangeError(`no allowed send time in the next ${HORIZON_DAYS} days`);
  return new Date(slot.at);
}

export type WindowBlock = 'holiday' | 'non_business_day' | 'outside_business_hours' | 'quiet_hours';

/** Why `now` is outside the window in `timeZone`, or null when sending now is allowed. */
export function windowBlock(window: SendWindow, now: Date, timeZone: string): WindowBlock | null {
  const local = localParts(now, timeZone);
  if (window.holidays.includes(local.date)) return 'holiday';
  if (!window.businessDays.includes(local.weekday)) return 'non_business_day';
  if (inQuietHours(local.hour, window.quietHours)) return 'quiet_hours';
  if (local.hour < window.businessHours.start || local.hour >= window.businessHours.end)
    return 'outside_business_hours';
  return null;
}

interface Slot {
  at: Date;
  hour: number;
  weekday: number;
}

// Planning thousands of customers shares one `now` and a handful of timezones; timezone conversion through Intl
// is the expensive part, so the slot list is memoized per (window, timezone, now). Slots are never mutated.
const slotCache = new Map<string, readonly Slot[]>();
const SLOT_CACHE_LIMIT = 256;

function allowedSlots(window: SendWindow, timeZone: string, now: Date): readonly Slot[] {
  const { businessDays, businessHours: bh, quietHours: q, holidays } = window;
  const key = `${timeZone}|${now.getTime()}|${businessDays.join()}|${bh.start}-${bh.end}|${q ? `${q.start}-${q.end}` : ''}|${holidays.join()}`;
  let slots = slotCache.get(key);
  if (!slots) {
    slots = computeSlots(window, timeZone, now);
    if (slotCache.size >= SLOT_CACHE_LIMIT) slotCache.clear();
    slotCache.set(key, slots);
  }
  return slots;
}

function computeSlots(window: SendWindow, timeZone: string, now: Date): Slot[] {
  const today = localParts(now, timeZone).date;
  const holidays = new Set(window.holidays);
  const { start: first, end: last } = window.businessHours;
  const slots: Slot[] = [];
  for (let d = 0; d < HORIZON_DAYS; d++) {
    const date = addDays(today, d);
    const weekday = isoWeekday(date);
    if (!window.businessDays.includes(weekday) || holidays.has(date)) continue;
    // Hours are evenly spaced unless a DST switch falls inside business hours; only then convert each hour.
    const dayStart = zonedInstant(date, first, 0, timeZone).getTime();
    const even = zonedInstant(date, last, 0, timeZone).getTime() - dayStart === (last - first) * 3_600_000;
    for (let hour = first; hour < last; hour++) {
      if (inQuietHours(hour, window.quietHours)) continue;
      const start = even
        ? dayStart + (hour - first) * 3_600_000
        : zonedInstant(date, hour, 0, timeZone).getTime();
      if (start + 3_600_000 <= now.getTime()) continue;
      // Inside the current slot: send now rather than wait for the top of the next hour.
      slots.push({ at: new Date(Math.max(start, now.getTime())), hour, weekday });
    }
  }
  return slots;
}

export function inQuietHours(hour: number, quiet: SendWindow['quietHours']): boolean {
  if (!quiet || quiet.start === quiet.end) return false;
  return quiet.start < quiet.end
    ? hour >= quiet.start && hour < quiet.end
    : hour >= quiet.start || hour < quiet.end;
}

/** Payment after a message is the outcome that matters; a click or open is weaker evidence of a good slot. */
function reward(e: EngagementRecord): number {
  if (e.paidAfter) return 1;
  if (e.clicked) return 0.7;
  return e.opened ? 0.4 : 0;
}

function smoothedRates(
  records: readonly EngagementRecord[],
  key: (e: EngagementRecord) => number,
  prior: (k: number) => number,
): (k: number) => number {
  const sums = new Map<number, { n: number; r: number }>();
  for (const e of records) {
    const s = sums.get(key(e)) ?? { n: 0, r: 0 };
    s.n += 1;
    s.r += reward(e);
    sums.set(key(e), s);
  }
  return (k) => {
    const s = sums.get(k) ?? { n: 0, r: 0 };
    return (prior(k) * PRIOR_WEIGHT + s.r) / (PRIOR_WEIGHT + s.n);
  };
}

// B2B payables teams read mail mid-morning, mid-week (the common finding of email-timing studies).
function hourPrior(hour: number): number {
  if (hour === 9 || hour === 10) return 0.5;
  if (hour >= 8 && hour <= 15) return 0.35;
  return 0.25;
}

function weekdayPrior(weekday: number): number {
  if (weekday >= 2 && weekday <= 4) return 0.5;
  if (weekday === 1 || weekday === 5) return 0.45;
  return 0.2;
}
