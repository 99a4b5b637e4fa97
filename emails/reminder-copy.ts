import type { InvoiceLine, IsoDate } from './email-props';
import { daysPastDue, formatDate, formatTotals, formatYear } from './locale-format';

export type Tone = 'friendly' | 'neutral' | 'firm' | 'final';

export interface ReminderCopy {
  subject: string;
  preview: string;
  title: string;
  paragraphs: string[];
  cta: string;
}

interface CopyContext {
  companyName: string;
  greetingName: string;
  invoices: readonly InvoiceLine[];
  locale: string;
  asOf: IsoDate;
  customerSince?: IsoDate;
  reliablePayer: boolean;
  respondBy?: IsoDate;
  /** Reminders already sent for these invoices; firm copy only mentions "earlier reminders" when there were some. */
  previousReminders: number;
}

/**
 * The words of a reminder, one function per tone, so each tone reads as its own letter rather than one text
 * with a few swapped adjectives. The kind sentence about punctuality appears only in the gentle tones, and only
 * for payers who earned it: firmer letters never mention past behaviour, good or bad.
 */
export function reminderCopy(tone: Tone, ctx: CopyContext): ReminderCopy {
  return COPY[tone](ctx);
}

const COPY: Record<Tone, (ctx: CopyContext) => ReminderCopy> = {
  friendly(ctx) {
    const total = formatTotals(ctx.invoices, ctx.locale);
    const anyOverdue = ctx.invoices.some((i) => daysPastDue(i.dueDate, ctx.asOf) > 0);
    const first = ctx.invoices[0];
    const single = ctx.invoices.length === 1 && first;
    const what = single ? `invoice ${first.number}` : `${ctx.invoices.length} invoices`;
    if (!anyOverdue) {
      const due = single
        ? formatDate(first.dueDate, ctx.locale)
        : formatDate(earliestDue(ctx.invoices), ctx.locale);
      return {
        subject: single
          ? `Friendly reminder: invoice ${first.number} is due ${due}`
          : `Friendly reminder: ${what} due soon`,
        preview: `A quick heads-up about ${what} (${total}) from ${ctx.companyName}.`,
        title: 'A friendly heads-up',
        paragraphs: [
          `Hi ${ctx.greetingName},`,
          single
            ? `Just a quick note that invoice ${first.number} for ${total} is due on ${due}.`
            : `Just a quick note that ${what} totalling ${total} are coming due, the first on ${due}.`,
          ...relationship(ctx, 'pre_due'),
          'If payment is already on its way, thank you, and please ignore this note.',
        ],
        cta: 'You can pay online using the links below.',
      };
    }
    return {
      subject: `Quick reminder: ${what} from ${ctx.companyName}`,
      preview: `${capitalize(what)} (${total}) ${single ? 'is' : 'are'} due or just past due.`,
      title: 'A quick reminder',
      paragraphs: [
        `Hi ${ctx.greetingName},`,
        single
          ? `Invoice ${first.number} for ${total} was due on ${formatDate(first.dueDate, ctx.locale)} and we haven't seen the payment come through yet.`
          : `${capitalize(what)} totalling ${total} are due or just past due, and we haven't seen the payments come through yet.`,
        ...relationship(ctx, 'overdue'),
        'If you have already paid, thank you, and please ignore this note.',
      ],
      cta: 'You can pay online using the links below.',
    };
  },

  neutral(ctx) {
    const total = formatTotals(ctx.invoices, ctx.locale);
    const first = ctx.invoices[0];
    const single = ctx.invoices.length === 1 && first;
    return {
      subject: single
        ? `Payment reminder: invoice ${first.number} is overdue`
        : `Payment reminder: ${ctx.invoices.length} overdue invoices (${total})`,
      preview: `${total} is past due with ${ctx.companyName}.`,
      title: 'Payment reminder',
      paragraphs: [
        `Hello ${ctx.greetingName},`,
        single
          ? `Our records show that invoice ${first.number}, due on ${formatDate(first.dueDate, ctx.locale)}, still has an open balance of ${total}.`
          : `Our records show ${ctx.invoices.length} invoices past their due date, with an open balance of ${total} in total.`,
        ...relationship(ctx, 'overdue'),
        'Please arrange payment at your earliest convenience, or reply to let us know if anything is holding it up.',
      ],
      cta: 'The invoices and payment links are below.',
    };
  },

  firm(ctx) {
    const total = formatTotals(ctx.invoices, ctx.locale);
    const oldest = Math.max(...ctx.invoices.map((i) => daysPastDue(i.dueDate, ctx.asOf)));
    return {
      subject: `Action needed: ${total} overdue with ${ctx.companyName}`,
      preview: `${total} is now ${oldest} days overdue.`,
      title: 'Overdue balance: action needed',
      paragraphs: [
        `Hello ${ctx.greetingName},`,
        `${ctx.previousReminders > 0 ? 'Despite our earlier reminders, ' : ''}${total} remains unpaid, the oldest amount now ${oldest} days past due.`,
        ...relationship(ctx, 'firm'),
        'Please pay today using the links below, or reply with the date on which we can expect payment.',
      ],
      cta: 'Open invoices:',
    };
  },

  final(ctx) {
    const total = formatTotals(ctx.invoices, ctx.locale);
    const deadline = ctx.respondBy ? `by ${formatDate(ctx.respondBy, ctx.locale)}` : 'within 7 days';
    return {
      subject: `Final notice: ${total} overdue with ${ctx.companyName}`,
      preview: `Please pay or contact us ${deadline} to avoid escalation.`,
      title: 'Final notice',
      paragraphs: [
        `Hello ${ctx.greetingName},`,
        `This is our final reminder about the overdue balance of ${total} listed below.`,
        `If we do not receive payment or hear from you ${deadline}, we will pass the account to our collections process, which we would much rather avoid.`,
        'If there is a problem with any of these invoices, reply to this email and we will pause reminders while we sort it out together.',
      ],
      cta: 'Open invoices:',
    };
  },
};

function relationship(ctx: CopyContext, moment: 'pre_due' | 'overdue' | 'firm'): string[] {
  const since = ctx.customerSince ? formatYear(ctx.customerSince, ctx.locale) : undefined;
  if (moment === 'firm') return since ? [`We have valued working with you since ${since}.`] : [];
  if (ctx.reliablePayer) {
    const customer = since
      ? `You have been a customer since ${since} and have always paid reliably`
      : 'You have always paid reliably';
    // Before the due date nothing has slipped: the sentence is plain thanks.
    return [
      moment === 'pre_due'
        ? `${customer}; thank you for that.`
        : `${customer}, so this has most likely just slipped through.`,
    ];
  }
  return since ? [`Thank you for being a customer since ${since}.`] : [];
}

function earliestDue(invoices: readonly InvoiceLine[]): IsoDate {
  return invoices.map((i) => i.dueDate).sort()[0] ?? '';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
