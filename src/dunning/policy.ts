import { z } from 'zod';
import { mergeFieldErrors } from '../../emails/merge-fields';
import { emailAddressSchema } from '../mail/header-safe';
import { isValidTimeZone } from './local-time';
import { inQuietHours } from './send-time';

/**
 * Dunning configuration as data: sequences of steps, the segment rules that pick a sequence for a customer,
 * overrides, and the tenant's sending settings. Everything arrives from the settings app as JSON, so every
 * type here is derived from its zod schema and `parsePolicy` reports errors by field path.
 */

export const TONES = ['friendly', 'neutral', 'firm', 'final'] as const;
export const toneSchema = z.enum(TONES);
export type Tone = z.infer<typeof toneSchema>;
/** Strength order used to pick the tone of a consolidated message. */
export const TONE_RANK: Record<Tone, number> = { friendly: 0, neutral: 1, firm: 2, final: 3 };

// The type leaves room for SMS/WhatsApp; validation accepts only channels that can actually send today.
export const channelSchema = z.enum(['email', 'sms', 'whatsapp']);
export type Channel = z.infer<typeof channelSchema>;
const SUPPORTED_CHANNELS: readonly Channel[] = ['email'];

/**
 * Templates a step may send: a tone-aware reminder or a statement of account. Receipts are transactional and
 * invoice copies need line items the planner does not carry, so neither is a dunning step.
 */
export const stepTemplateSchema = z.enum(['reminder', 'statement']);
export type StepTemplate = z.infer<typeof stepTemplateSchema>;

export const riskBandSchema = z.enum(['low', 'medium', 'high']);
export type RiskBand = z.infer<typeof riskBandSchema>;

export const approvalRuleSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('never') }),
  z.object({ type: z.literal('always') }),
  /** Above an open total in the message's currency; without amountMinor the tenant threshold applies. */
  z.object({ type: z.literal('above_amount'), amountMinor: z.int().positive().optional() }),
  z.object({ type: z.literal('high_risk') }),
]);
export type ApprovalRule = z.infer<typeof approvalRuleSchema>;

const isoDate = z.iso.date();
const id = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'use lower-case letters, digits, - and _ (max 64)');

export const stepSchema = z.object({
  /** Days from the due date; negative = before it. */
  offsetDays: z
    .int()
    .min(-30, 'at most 30 days before the due date')
    .max(365, 'at most 365 days after the due date'),
  tone: toneSchema,
  channel: channelSchema.default('email'),
  template: stepTemplateSchema.default('reminder'),
  approval: approvalRuleSchema.default({ type: 'never' }),
  /** Send only when the model predicts this invoice will be paid late (the pre-due nudge for good payers). */
  onlyIfPredictedLate: z.boolean().default(false),
  /**
   * The step's own wording, with merge fields ({{customer}}, {{overdue_total}}, … emails/merge-fields.ts); absent
   * parts keep the built-in copy of the tone. The body replaces the paragraphs between greeting and invoice table.
   */
  copy: z
    .object({
      subject: z.string().trim().min(1, 'the subject is empty').max(200).optional(),
      body: z.string().trim().min(1, 'the body is empty').max(5000).optional(),
    })
    .strict()
    .superRefine((c, ctx) => {
      for (const key of ['subject', 'body'] as const) {
        const text = c[key];
        if (text)
          for (const message of mergeFieldErrors(text))
            ctx.addIssue({ code: 'custom', path: [key], message });
      }
    })
    .optional(),
});
export type Step = z.infer<typeof stepSchema>;

/** After the last step, repeat it every `everyDays` until paid, at most `maxRepeats` times. */
export const repeatSchema = z.object({
  everyDays: z.int().min(3, 'at least 3 days between repeats').max(90),
  maxRepeats: z.int().min(1).max(24),
});

export const sequenceSchema = z
  .object({
    id,
    name: z.string().trim().min(1, 'a sequence needs a name').max(80),
    steps: z.array(stepSchema).min(1, 'a sequence needs at least one step').max(12, 'at most 12 steps'),
    repeat: repeatSchema.optional(),
  })
  .superRefine((seq, ctx) => {
    seq.steps.forEach((step, i) => {
      if (!SUPPORTED_CHANNELS.includes(step.channel)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'channel'],
          message: `channel '${step.channel}' is not available yet`,
        });
      }
      const prev = seq.steps[i - 1];
      if (prev && step.offsetDays === prev.offsetDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'offsetDays'],
          message: `duplicate offset ${step.offsetDays} (same as steps[${i - 1}]); two steps on one day would be one email`,
        });
      } else if (prev && step.offsetDays < prev.offsetDays) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'offsetDays'],
          message: `steps must be sorted by offsetDays: ${step.offsetDays} comes after ${prev.offsetDays}`,
        });
      }
      if (step.tone === 'final' && i !== seq.steps.length - 1) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'tone'],
          message: 'a final notice must be the last step',
        });
      }
    });
    const last = seq.steps.at(-1);
    if (seq.repeat && last) {
      if (last.tone === 'final') {
        ctx.addIssue({
          code: 'custom',
          path: ['repeat'],
          message: 'a final notice is not repeated; end the sequence there or make the last step firm',
        });
      }
      const end = last.offsetDays + seq.repeat.everyDays * seq.repeat.maxRepeats;
      if (end > 365) {
        ctx.addIssue({
          code: 'custom',
          path: ['repeat', 'maxRepeats'],
          message: `repeats run to day ${end}; keep them within 365 days`,
        });
      }
    }
  });
export type Sequence = z.infer<typeof sequenceSchema>;

/** A customer matches a segment when every condition given matches (absent = any). */
export const segmentSchema = z
  .object({
    riskBands: z.array(riskBandSchema).min(1).optional(),
    slowingAlert: z.boolean().optional(),
    tagsAny: z.array(z.string().min(1).max(100)).min(1).max(50).optional(),
    /** Compared with the customer's open total in that currency. */
    amount: z
      .object({
        currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR'),
        minMinor: z.int().nonnegative().optional(),
        maxMinor: z.int().nonnegative().optional(),
      })
      .refine((a) => a.minMinor === undefined || a.maxMinor === undefined || a.minMinor <= a.maxMinor, {
        message: 'minMinor must not exceed maxMinor',
        path: ['minMinor'],
      })
      .optional(),
  })
  .refine((s) => Object.values(s).some((v) => v !== undefined), {
    message: 'a segment needs at least one condition',
  });
export type Segment = z.infer<typeof segmentSchema>;

export const policySchema = z
  .object({
    defaultSequenceId: id,
    sequences: z.array(sequenceSchema).min(1, 'at least one sequence').max(50, 'at most 50 sequences'),
    /** Evaluated in order; the first match picks the sequence, otherwise the default applies. */
    rules: z
      .array(z.object({ sequenceId: id, when: segmentSchema }))
      .max(100, 'at most 100 rules')
      .default([]),
  })
  .superRefine((p, ctx) => {
    const ids = new Set<string>();
    p.sequences.forEach((s, i) => {
      if (ids.has(s.id))
        ctx.addIssue({
          code: 'custom',
          path: ['sequences', i, 'id'],
          message: `duplicate sequence id '${s.id}'`,
        });
      ids.add(s.id);
    });
    if (!ids.has(p.defaultSequenceId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultSequenceId'],
        message: `no sequence with id '${p.defaultSequenceId}'`,
      });
    }
    p.rules.forEach((r, i) => {
      if (!ids.has(r.sequenceId)) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'sequenceId'],
          message: `no sequence with id '${r.sequenceId}'`,
        });
      }
    });
  });
export type DunningPolicy = z.infer<typeof policySchema>;
export type DunningPolicyInput = z.input<typeof policySchema>;

/** Manual recipients of one customer or invoice: enough for a finance team, not a mailing list. */
export const MAX_CONTACT_EMAILS = 10;

/** Per-customer or per-invoice exceptions set by the tenant's AR staff. */
export const overrideSchema = z.object({
  pausedUntil: isoDate.optional(),
  excluded: z.boolean().default(false),
  sequenceId: id.optional(),
  /** Send to these addresses instead of the customer's billing emails. */
  contactEmails: z.array(emailAddressSchema()).min(1).max(MAX_CONTACT_EMAILS).optional(),
});
export type Override = z.infer<typeof overrideSchema>;

/** "We'll pay by the 15th": reminders for those invoices pause until then plus a grace period. */
export const promiseToPaySchema = z.object({
  customerId: z.string(),
  invoiceIds: z.array(z.string()).min(1),
  promisedDate: isoDate,
  amountMinor: z.int().positive().optional(),
  graceDays: z.int().min(0).max(14).default(2),
});
export type PromiseToPay = z.infer<typeof promiseToPaySchema>;

/** A disputed invoice is never chased; `until` null means until someone resolves the dispute. */
export const disputeSchema = z.object({
  invoiceId: z.string(),
  openedOn: isoDate,
  until: isoDate.nullable(),
  resolved: z.boolean().default(false),
});
export type Dispute = z.infer<typeof disputeSchema>;

const hour = z.int().min(0).max(24);
export const dunningSettingsSchema = z
  .object({
    timezone: z
      .string()
      .max(64, { message: 'not an IANA timezone', abort: true })
      .refine(isValidTimeZone, 'not an IANA timezone'),
    businessDays: z.array(z.int().min(1).max(7)).min(1, 'at least one business day'),
    businessHours: z
      .object({ start: hour, end: hour })
      .refine((h) => h.start < h.end, 'start must be before end'),
    quietHours: z.object({ start: hour, end: hour }).nullable().default(null),
    holidays: z.array(isoDate).max(400).default([]),
    /** Messages whose open total in one currency exceeds this need a human's approval (above_amount rule). */
    approvalThresholdMinor: z.int().positive(),
    /** How readily a predicted delay triggers pre-due nudges: pLate ≥ 0.7 / 0.5 / 0.3. */
    sensitivity: z.enum(['low', 'medium', 'high']).default('medium'),
    /** A customer hears from us at most once in this many days, however many invoices fall due. */
    minDaysBetweenMessages: z.int().min(1).max(30).default(3),
    /**
     * A CSV company (no connection reads its ledger live) sends reminders only while its latest upload is at most
     * this many days old (send-message.ts, staleUpload in suppression.ts): a debtor who paid since is not chased.
     */
    maxUploadAgeDays: z.int().min(1).max(90).default(3),
  })
  .refine(
    (s) => {
      if (s.businessHours.start >= s.businessHours.end) return true; // reported on businessHours already
      for (let h = s.businessHours.start; h < s.businessHours.end; h++)
        if (!inQuietHours(h, s.quietHours)) return true;
      return false;
    },
    { message: 'quiet hours cover all business hours, so nothing could ever be sent', path: ['quietHours'] },
  );
export type DunningSettings = z.infer<typeof dunningSettingsSchema>;

export const P_LATE_THRESHOLD: Record<DunningSettings['sensitivity'], number> = {
  low: 0.7,
  medium: 0.5,
  high: 0.3,
};

export type ParseResult<T> = { ok: true; value: T } | { ok: false; errors: string[] };

/** Validates a policy; errors read "sequences[1].steps[2].offsetDays: duplicate offset 3 …". */
export function parsePolicy(input: unknown): ParseResult<DunningPolicy> {
  return parseWith(policySchema, input);
}

/**
 * A policy as a PUT stores it: parsePolicy plus the rules a new version must meet that older stored versions may not
 * (they are read with parsePolicy alone, so a stored policy never stops validating and planning never breaks).
 */
export function parsePolicyForWrite(input: unknown): ParseResult<DunningPolicy> {
  const r = parsePolicy(input);
  if (!r.ok) return r;
  const errors: string[] = [];
  // The planner sends a final notice only after a reminder about the invoice reached the debtor. Debt already past
  // due (every old invoice on day one) skips pre-due nudges, so without an overdue step that always applies before
  // the final one those invoices wait for ever: nothing was planned for anyone, shown only as "not due".
  r.value.sequences.forEach((s, i) => {
    s.steps.forEach((step, j) => {
      if (step.tone !== 'final') return;
      if (s.steps.slice(0, j).some((e) => e.offsetDays >= 0 && !e.onlyIfPredictedLate)) return;
      errors.push(
        `sequences[${i}].steps[${j}].tone: a final notice needs an overdue reminder before it (a friendly, neutral or firm step at 0 days or later, not only if predicted late): it is only sent after a reminder reached the debtor`,
      );
    });
  });
  return errors.length > 0 ? { ok: false, errors } : r;
}

export function parseWith<T>(schema: z.ZodType<T>, input: unknown): ParseResult<T> {
  const r = schema.safeParse(input);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, errors: r.error.issues.map((i) => `${fieldPath(i.path)}: ${i.message}`) };
}

function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

/**
 * The defaults a new tenant starts with. Reliable payers get fewer, later, gentler reminders (a pre-due nudge
 * only when the model predicts lateness); high-risk or slowing customers start earlier and escalate faster, and
 * their final notice waits for a human.
 */
export const DEFAULT_POLICY: DunningPolicy = policySchema.parse({
  defaultSequenceId: 'standard',
  sequences: [
    {
      id: 'reliable',
      name: 'Reliable',
      steps: [
        { offsetDays: -3, tone: 'friendly', onlyIfPredictedLate: true },
        { offsetDays: 3, tone: 'friendly' },
        { offsetDays: 14, tone: 'neutral' },
        { offsetDays: 30, tone: 'firm' },
      ],
      repeat: { everyDays: 14, maxRepeats: 3 },
    },
    {
      id: 'standard',
      name: 'Standard',
      steps: [
        { offsetDays: -3, tone: 'friendly', onlyIfPredictedLate: true },
        { offsetDays: 1, tone: 'neutral' },
        { offsetDays: 10, tone: 'firm' },
        { offsetDays: 25, tone: 'final', approval: { type: 'above_amount' } },
      ],
    },
    {
      id: 'high-risk',
      name: 'High risk',
      steps: [
        { offsetDays: -5, tone: 'friendly' },
        { offsetDays: 0, tone: 'neutral' },
        { offsetDays: 7, tone: 'firm' },
        { offsetDays: 21, tone: 'final', approval: { type: 'always' } },
      ],
    },
  ],
  rules: [
    { sequenceId: 'high-risk', when: { riskBands: ['high'] } },
    { sequenceId: 'high-risk', when: { slowingAlert: true } },
    { sequenceId: 'reliable', when: { riskBands: ['low'] } },
  ],
});
