import type { InvoiceLine, IsoDate } from './email-props';
import { daysPastDue, formatDate, formatTotals, formatYear } from './locale-format';

export type Tone = 'friendly' | 'neutral' | 'firm' | 'final';

export interface ReminderCopy {
  subject: string;
  preview: string;
  title: string;
  /** The greeting, on its own: a reviewer's introduction goes after it, never above it. */
  greeting: string;
  paragraphs: string[];
  cta: string;
}

interface CopyContext {
  companyName: string;
  /** Whom to greet; null when only an account number is known ("Hello,"). */
  greetingName: string | null;
  invoices: readonly InvoiceLine[];
  locale: string;
  /** The day the debtor reads it: the send date in the debtor's timezone. */
  asOf: IsoDate;
  customerSince?: IsoDate;
  reliablePayer: boolean;
  respondBy?: IsoDate;
  /** Reminders already sent for these invoices; firm copy only mentions "earlier reminders" when there were some. */
  previousReminders: number;
  /** How the debtor can pay: the copy mentions links or payment details only when they exist. */
  hasPayLinks: boolean;
  hasPaymentDetails: boolean;
}

/** The invoices of a consolidated message by their state on the day the debtor reads it. */
export interface InvoiceGroups {
  overdue: InvoiceLine[];
  dueToday: InvoiceLine[];
  upcoming: InvoiceLine[];
}

export function groupInvoices(invoices: readonly InvoiceLine[], asOf: IsoDate): InvoiceGroups {
  const g: InvoiceGroups = { overdue: [], dueToday: [], upcoming: [] };
  for (const inv of invoices) {
    const d = daysPastDue(inv.dueDate, asOf);
    (d > 0 ? g.overdue : d === 0 ? g.dueToday : g.upcoming).push(inv);
  }
  return g;
}

/**
 * The words of a reminder, one function per tone, so each tone reads as its own letter rather than one text
 * with a few swapped adjectives. Honest by construction: "overdue", "final" and "collections" speak only about
 * the invoices that are overdue on the day the debtor reads it, and their total; invoices due today or later are
 * named as such and never threatened. A firm or final tone with nothing overdue reads as a neutral reminder.
 */
export function reminderCopy(tone: Tone, ctx: CopyContext): ReminderCopy {
  const g = groupInvoices(ctx.invoices, ctx.asOf);
  const effective = g.overdue.length === 0 && (tone === 'firm' || tone === 'final') ? 'neutral' : tone;
  return COPY[effective](ctx, g);
}

/** Up to this many days overdue an invoice is "just past due" in friendly copy. */
const JUST_PAST_DUE_DAYS = 14;

const COPY: Record<Tone, (ctx: CopyContext, g: InvoiceGroups) => ReminderCopy> = {
  friendly(ctx, g) {
    const total = formatTotals(ctx.invoices, ctx.locale);
    const first = ctx.invoices[0];
    const single = ctx.invoices.length === 1 && first;
    const what = single ? `invoice ${first.number}` : `${ctx.invoices.length} invoices`;
    if (g.overdue.length === 0) {
      const dueToday = g.upcoming.length === 0;
      const due = formatDate(earliestDue(ctx.invoices), ctx.locale);
      return {
        subject: single
          ? `Friendly reminder: invoice ${first.number} is due ${dueToday ? 'today' : due}`
          : `Friendly reminder: ${what} due ${dueToday ? 'today' : 'soon'}`,
        preview: `A quick heads-up about ${what} (${total}) from ${ctx.companyName}.`,
        title: 'A friendly heads-up',
        greeting: ctx.greetingName ? `Hi ${ctx.greetingName},` : 'Hello,',
        paragraphs: [
          single
            ? `Just a quick note that invoice ${first.number} for ${total} is due ${dueToday ? 'today' : `on ${due}`}.`
            : `Just a quick note that ${what} totalling ${total} are coming due, the first ${
                g.dueToday.length > 0 ? 'today' : `on ${due}`
              }.`,
          ...relationship(ctx, 'pre_due'),
          'If payment is already on its way, thank you, and please ignore this note.',
        ],
        cta: payCta(ctx),
      };
    }
    const overdueTotal = formatTotals(g.overdue, ctx.locale);
    const lead = g.overdue.length === 1 ? g.overdue[0] : undefined;
    // A consolidated friendly email may list debt reminded long ago next to the invoice whose step fell due:
    // "just past due" only while the oldest is, otherwise the oldest due date says how long.
    const oldestDue = earliestDue(g.overdue);
    const recent = daysPastDue(oldestDue, ctx.asOf) <= JUST_PAST_DUE_DAYS;
    const pastDue = recent
      ? 'just past due'
      : `past due, the oldest since ${formatDate(oldestDue, ctx.locale)}`;
    return {
      subject: `Quick reminder: ${what} from ${ctx.companyName}`,
      preview: `${lead ? `Invoice ${lead.number} is ${recent ? 'just past due' : `past due since ${formatDate(oldestDue, ctx.locale)}`}` : `${g.overdue.length} invoices are ${pastDue}`} (${overdueTotal}).`,
      title: 'A quick reminder',
      greeting: ctx.greetingName ? `Hi ${ctx.greetingName},` : 'Hello,',
      paragraphs: [
        lead
          ? `Invoice ${lead.number} for ${overdueTotal} was due on ${formatDate(lead.dueDate, ctx.locale)} and we haven't seen the payment come through yet.`
          : `${g.overdue.length} invoices totalling ${overdueTotal} are ${pastDue}, and we haven't seen the payments come through yet.`,
        ...alsoListed(ctx, g),
        ...relationship(ctx, 'overdue'),
        'If you have already paid, thank you, and please ignore this note.',
      ],
      cta: payCta(ctx),
    };
  },

  neutral(ctx, g) {
    const first = ctx.invoices[0];
    if (g.overdue.length === 0) {
      // On (or before) the due date nothing is overdue: "due today", never "overdue".
      const total = formatTotals(ctx.invoices, ctx.locale);
      const single = ctx.invoices.length === 1 && first;
      const today = g.upcoming.length === 0;
      const when = today ? 'today' : `on ${formatDate(earliestDue(ctx.invoices), ctx.locale)}`;
      return {
        subject: single
          ? `Payment reminder: invoice ${first.number} is due ${today ? 'today' : formatDate(first.dueDate, ctx.locale)}`
          : `Payment reminder: ${ctx.invoices.length} invoices due (${total})`,
        preview: `${total} is due ${when} with ${ctx.companyName}.`,
        title: 'Payment reminder',
        greeting: ctx.greetingName ? `Hello ${ctx.greetingName},` : 'Hello,',
        paragraphs: [
          single
            ? `This is a reminder that invoice ${first.number} for ${total} is due ${when}.`
            : `This is a reminder that ${ctx.invoices.length} invoices totalling ${total} are due, the first ${when}.`,
          ...relationship(ctx, 'pre_due'),
          'If payment is already on its way, thank you.',
        ],
        cta: payCta(ctx),
      };
    }
    const overdueTotal = formatTotals(g.overdue, ctx.locale);
    const lead = g.overdue.length === 1 ? g.overdue[0] : undefined;
    return {
      subject: lead
        ? `Payment reminder: invoice ${lead.number} is overdue`
        : `Payment reminder: ${g.overdue.length} overdue invoices (${overdueTotal})`,
      preview: `${overdueTotal} is past due with ${ctx.companyName}.`,
      title: 'Payment reminder',
      greeting: ctx.greetingName ? `Hello ${ctx.greetingName},` : 'Hello,',
      paragraphs: [
        lead
          ? `Our records show that invoice ${lead.number}, due on ${formatDate(lead.dueDate, ctx.locale)}, still has an open balance of ${overdueTotal}.`
          : `Our records show ${g.overdue.length} invoices past their due date, with an open balance of ${overdueTotal} in total.`,
        ...alsoListed(ctx, g),
        ...relationship(ctx, 'overdue'),
        'Please arrange payment at your earliest convenience, or reply to let us know if anything is holding it up.',
      ],
      cta: payCta(ctx),
    };
  },

  firm(ctx, g) {
    const overdueTotal = formatTotals(g.overdue, ctx.locale);
    const oldest = Math.max(...g.overdue.map((i) => daysPastDue(i.dueDate, ctx.asOf)));
    return {
      subject: `Action needed: ${overdueTotal} overdue with ${ctx.companyName}`,
      preview: `${overdueTotal} is now ${oldest} ${days(oldest)} overdue.`,
      title: 'Overdue balance: action needed',
      greeting: ctx.greetingName ? `Hello ${ctx.greetingName},` : 'Hello,',
      paragraphs: [
        `${ctx.previousReminders > 0 ? 'Despite our earlier reminders, ' : ''}${overdueTotal} remains unpaid, the oldest amount now ${oldest} ${days(oldest)} past due.`,
        ...alsoListed(ctx, g),
        ...relationship(ctx, 'firm'),
        `Please pay the overdue amount today${ctx.hasPayLinks ? ' using the links below' : ''}, or reply with the date on which we can expect payment.`,
      ],
      cta: payCta(ctx),
    };
  },

  final(ctx, g) {
    const overdueTotal = formatTotals(g.overdue, ctx.locale);
    const deadline = ctx.respondBy ? `by ${formatDate(ctx.respondBy, ctx.locale)}` : 'within 7 days';
    return {
      subject: `Final notice: ${overdueTotal} overdue with ${ctx.companyName}`,
      preview: `Please pay the overdue ${overdueTotal} or contact us ${deadline}.`,
      title: 'Final notice',
      greeting: ctx.greetingName ? `Hello ${ctx.greetingName},` : 'Hello,',
      paragraphs: [
        `This is our final reminder about the overdue balance of ${overdueTotal} (${g.overdue.length === 1 ? `invoice ${g.overdue[0]!.number}` : `${g.overdue.length} overdue invoices`}).`,
        `If we do not receive payment of the overdue balance or hear from you ${deadline}, we will pass it to our collections process, which we would much rather avoid.`,
        ...alsoListed(ctx, g, true),
        'If there is a problem with any of these invoices, reply to this email and we will pause reminders while we sort it out together.',
      ],
      cta: payCta(ctx),
    };
  },
};

/** Invoices in the message that are not overdue: named for what they are, never threatened. */
function alsoListed(ctx: CopyContext, g: InvoiceGroups, notPartOfNotice = false): string[] {
  const out: string[] = [];
  const suffix = (n: number) =>
    notPartOfNotice ? ` ${n === 1 ? 'It is' : 'They are'} not part of this notice.` : '';
  const names = (l: InvoiceLine[]) =>
    l.length === 1
      ? `invoice ${l[0]!.number}`
      : `${l.length} invoices (${l.map((i) => i.number).join(', ')})`;
  if (g.dueToday.length > 0)
    out.push(
      `For your planning: ${names(g.dueToday)} for ${formatTotals(g.dueToday, ctx.locale)} ${g.dueToday.length === 1 ? 'is' : 'are'} due today.${suffix(g.dueToday.length)}`,
    );
  if (g.upcoming.length > 0) {
    const first = earliestDue(g.upcoming);
    out.push(
      `For your planning: ${names(g.upcoming)} for ${formatTotals(g.upcoming, ctx.locale)} ${g.upcoming.length === 1 ? 'is' : 'are'} not yet due (${g.upcoming.length === 1 ? 'due' : 'the first due'} on ${formatDate(first, ctx.locale)}).${suffix(g.upcoming.length)}`,
    );
  }
  return out;
}

/** What the debtor can do to pay, as far as the email actually offers it. */
function payCta(ctx: CopyContext): string {
  if (ctx.hasPayLinks && ctx.hasPaymentDetails)
    return 'You can pay online using the links below, or with the payment details at the end of this email.';
  if (ctx.hasPayLinks) return 'You can pay online using the links below.';
  if (ctx.hasPaymentDetails) return 'The invoices are listed below, followed by how to pay.';
  return 'The invoices are listed below. Reply to this email if you need our payment details.';
}

function days(n: number): string {
  return n === 1 ? 'day' : 'days';
}

function relationship(ctx: CopyContext, moment: 'pre_due' | 'overdue' | 'firm'): string[] {
  // The year the relationship started, when it is an earlier year than the one the debtor reads the email in:
  // "a customer since 2026", read in 2026, thanks a few weeks' custom for its loyalty.
  const since =
    ctx.customerSince && ctx.customerSince.slice(0, 4) < ctx.asOf.slice(0, 4)
      ? formatYear(ctx.customerSince, ctx.locale)
      : undefined;
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
