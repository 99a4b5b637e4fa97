import type { Debtor, InvoiceLine, PaymentDetails, SenderIdentity } from '../../emails/email-props';
import type { EmailPropsByKind, RenderedEmail } from '../../emails/render';
import { addDays, localParts } from './local-time';
import type { PlannedMessage } from './planner';

export interface MessageEmailContext {
  sender: SenderIdentity;
  debtor: Omit<Debtor, 'reliablePayer'>;
  locale: string;
  /** The debtor's timezone, else the tenant's. */
  timezone: string;
  unsubscribeUrl: string;
  statementUrl?: string;
  /** The tenant's payment page / bank details (Settings), shown under "How to pay". */
  paymentDetails?: PaymentDetails;
  /** The invoice's PDF link, where the host renders one (never for a CSV-imported ledger). */
  pdfLinkFor?: (invoiceId: string) => string | undefined;
  /** Render time: the email's "as of" day. */
  now: Date;
}

/** Days a final notice gives the debtor before hand-off. */
const FINAL_NOTICE_DAYS = 7;

/**
 * React, react-dom/server and the templates load on the first email, not at startup (web role RSS). The module's
 * promise is kept: under tsx (`npm start` runs `node --import tsx`) every import() call is a round trip to the
 * loader's hooks thread, tens to hundreds of µs per email even for a module already loaded (issue 18).
 */
let renderer: Promise<typeof import('../../emails/render')> | undefined;
export function loadRenderer() {
  renderer ??= import('../../emails/render').catch((e: unknown) => {
    renderer = undefined;
    throw e;
  });
  return renderer;
}

/**
 * Turns a planned message into its email, from the planner's snapshot. The pre-send check has just confirmed
 * the snapshot balances still hold (within 1%), so the email states the figures the plan was made on.
 */
export async function renderPlannedMessage(
  msg: PlannedMessage,
  ctx: MessageEmailContext,
): Promise<RenderedEmail> {
  const email = plannedMessageEmail(msg, ctx);
  const { renderEmail } = await loadRenderer();
  return email.kind === 'statement'
    ? renderEmail('statement', email.props)
    : renderEmail('reminder', email.props);
}

export type PlannedEmail =
  | { kind: 'statement'; props: EmailPropsByKind['statement'] }
  | { kind: 'reminder'; props: EmailPropsByKind['reminder'] };

/** The template and props a planned message renders with (bench/render.ts renders the same tree directly). */
export function plannedMessageEmail(msg: PlannedMessage, ctx: MessageEmailContext): PlannedEmail {
  const invoices: InvoiceLine[] = msg.snapshot.invoices.map((i) => ({
    number: i.number,
    issueDate: i.issueDate,
    dueDate: i.dueDate,
    currency: i.currency,
    totalMinor: i.totalMinor,
    openMinor: i.openBalanceMinor,
    payLink: i.payLink ?? undefined,
    pdfLink: ctx.pdfLinkFor?.(i.invoiceId),
  }));
  const risk = msg.snapshot.customerRisk;
  const base = {
    locale: ctx.locale,
    timezone: ctx.timezone,
    generatedAt: ctx.now.toISOString(),
    sender: ctx.sender,
    // The kind words about punctuality are earned by a history of paying on time (the planner's reliablePayer);
    // a message planned before that was recorded falls back to the low-risk score without a slowing trend.
    debtor: {
      ...ctx.debtor,
      reliablePayer: msg.snapshot.reliablePayer ?? (risk.riskBand === 'low' && !risk.slowingAlert),
    },
    unsubscribeUrl: ctx.unsubscribeUrl,
    invoices,
    statementUrl: ctx.statementUrl,
    paymentDetails: ctx.paymentDetails,
    // Invoices on hold, named as the plan saw them (not asked for, not in any total).
    ...(msg.snapshot.held?.length
      ? {
          held: msg.snapshot.held.map((h) => ({
            number: h.number,
            currency: h.currency,
            openMinor: h.openBalanceMinor,
            hold: h.hold,
            ...(h.promisedDate ? { promisedDate: h.promisedDate } : {}),
          })),
        }
      : {}),
  };
  if (msg.template === 'statement')
    return {
      kind: 'statement',
      props: msg.snapshot.credits ? { ...base, credits: msg.snapshot.credits } : base,
    };
  const respondBy =
    msg.tone === 'final' ? addDays(localParts(ctx.now, ctx.timezone).date, FINAL_NOTICE_DAYS) : undefined;
  return {
    kind: 'reminder',
    props: {
      ...base,
      tone: msg.tone,
      respondBy,
      previousReminders: msg.snapshot.previousReminders,
      customCopy: msg.snapshot.copy,
      ...(msg.snapshot.credits ? { credits: msg.snapshot.credits } : {}),
    },
  };
}
