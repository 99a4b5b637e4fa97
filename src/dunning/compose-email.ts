/** A stored message row → the email the debtor gets (reminder/statement from its snapshot, or a receipt). */
import type { SenderIdentity } from '../../emails/email-props';
import type { RenderedEmail } from '../../emails/render';
import { liveConnectionOfProviders } from '../db/queries/connections';
import { otherOpenInvoicesOfCustomer } from '../db/queries/ledger';
import type { Tenant } from '../db/queries/tenants';
import type { customers, dunningMessages } from '../db/schema';
import { invoicePdfUrl } from './invoice-pdf-link';
import { debtorZone } from './local-time';
import { ensurePayLinks, listedInvoiceIds, paymentDetailsOf } from './payment-details';
import type { PlannedMessage } from './planner';
import type { DunningDeps } from './ports';
import { loadRenderer, renderPlannedMessage } from './render-planned-message';
import { unsubscribeUrl } from './unsubscribe-token';

export type MessageRow = typeof dunningMessages.$inferSelect;
export type CustomerRow = typeof customers.$inferSelect;

/** The row as the planner produced it, for the pure renderer. */
export function plannedFromRow(row: MessageRow): PlannedMessage {
  const snapshot = row.snapshot as unknown as PlannedMessage['snapshot'];
  return {
    key: row.id,
    customerId: row.customerId,
    to: row.to,
    channel: row.channel as PlannedMessage['channel'],
    invoiceIds: row.invoiceIds,
    steps: row.invoiceIds
      .map((invoiceId) => ({
        invoiceId,
        stepKey: snapshot.invoices?.find((i) => i.invoiceId === invoiceId)?.stepKey ?? null,
      }))
      .filter((s): s is { invoiceId: string; stepKey: string } => s.stepKey !== null),
    stepKey: row.stepKey,
    sequenceId: row.sequenceId ?? '',
    tone: (row.tone ?? 'neutral') as PlannedMessage['tone'],
    template: row.template as PlannedMessage['template'],
    sendAt: row.sendAt,
    requiresApproval: row.requiresApproval,
    approvalReason: row.approvalReason,
    reason: row.reason,
    snapshot,
  };
}

/** The tenant's sender identity: tenant.settings.sender when set, else the tenant name and MAIL_FROM's address. */
export function senderOf(tenant: Tenant, services: DunningDeps): SenderIdentity {
  const s = (tenant.settings.sender ?? {}) as Partial<SenderIdentity>;
  const fromAddress = /<([^>]+)>/.exec(services.config.MAIL_FROM ?? '')?.[1] ?? services.config.MAIL_FROM;
  return {
    companyName: s.companyName ?? tenant.name,
    // Never an invented address (billing@127.0.0.1 reached nobody): the tenant's own, else MAIL_FROM's, else none;
    // going live requires a real one (go-live.ts).
    replyTo: s.replyTo ?? fromAddress ?? '',
    address: Array.isArray(s.address) ? s.address : [],
    phone: s.phone,
  };
}

/**
 * The From header: MAIL_FROM's address (the verified sending domain) under the tenant's company name once the
 * tenant has set its sender identity, so debtors see who is writing; MAIL_FROM as configured otherwise.
 */
export function fromHeader(tenant: Tenant, services: DunningDeps): string | undefined {
  const from = services.config.MAIL_FROM;
  if (!from) return undefined;
  const custom = (tenant.settings.sender ?? null) as Partial<SenderIdentity> | null;
  // A name saved before addresses were refused in it loses them here: mail clients show an address in the display
  // name as the sender ("PayPal <service@paypal.com>" on our domain).
  const name = custom?.companyName
    ?.replace(/[\r\n]+/g, ' ')
    .replace(/<[^<>]*>|[<>]/g, ' ')
    .replace(/\S*[^\s@]@[^\s@]\S*/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!name) return from;
  const address = /<([^>]+)>/.exec(from)?.[1] ?? from.trim();
  // RFC 5322 quoted-string: backslash-escape quotes and backslashes.
  return `"${name.replace(/(["\\])/g, '\\$1')}" <${address}>`;
}

export function messageUnsubscribeUrl(services: DunningDeps, row: Pick<MessageRow, 'id'>) {
  return unsubscribeUrl(services.config.PUBLIC_URL, services.config.APP_SECRET, row.id);
}

/**
 * The message's own data could not be turned into an email (a template threw): every retry renders the same data, so
 * the message fails. Anything else thrown while composing (a database read, a pay-link lookup) is transient.
 */
export class RenderError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'RenderError';
  }
}

/** Runs the pure part of composing (row data → props → template → edits); what it throws is a RenderError. */
async function rendering<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw err instanceof RenderError ? err : new RenderError(err);
  }
}

export async function composeEmail(
  services: DunningDeps,
  row: MessageRow,
  tenant: Tenant,
  customer: CustomerRow,
  now: Date,
): Promise<RenderedEmail & { unsubscribeUrl: string }> {
  const unsub = messageUnsubscribeUrl(services, row);
  const timezone = debtorZone(customer, tenant);
  const locale = customer.locale || tenant.locale || 'en-US';
  const sender = senderOf(tenant, services);
  // A CSV ledger names a customer by its account number only: the email greets "Hello,", not "Hi 140106181,".
  const debtor = {
    name: customer.name,
    customerSince: customer.firstSeen ?? undefined,
    nameIsAccountNumber: customer.name === customer.externalId,
  };
  let email: RenderedEmail;
  if (row.kind === 'receipt') {
    const snap = row.snapshot as {
      payment: { date: string; amountMinor: number; currency: string; reference?: string };
      invoices: { number: string; currency: string }[];
    };
    // What still remains, as of now: the template says "fully paid up" only when this is empty.
    const open = await otherOpenInvoicesOfCustomer(services.db, row.customerId, row.invoiceIds);
    const openLinks = await ensurePayLinks(
      services,
      row.tenantId,
      open.filter((i) => !i.payLink).map((i) => i.id),
    );
    email = await rendering(async () => {
      // Loaded on first use, not at startup (web role RSS); the module's promise is kept (see loadRenderer).
      const { renderEmail } = await loadRenderer();
      return renderEmail('payment_receipt', {
        locale,
        timezone,
        generatedAt: now.toISOString(),
        sender,
        debtor,
        unsubscribeUrl: unsub,
        payment: snap.payment,
        appliedTo: snap.invoices.map((i) => ({
          number: i.number,
          appliedMinor: snap.payment.amountMinor,
          currency: i.currency,
          openMinor: 0,
        })),
        stillOpen: open.map((i) => ({
          number: i.number ?? i.externalId,
          issueDate: i.issueDate,
          dueDate: i.dueDate,
          currency: i.currency,
          totalMinor: i.totalMinor,
          openMinor: i.balanceMinor,
          payLink: i.payLink ?? openLinks.get(i.id),
        })),
      });
    });
  } else {
    const planned = await withCurrentPayLinks(
      services,
      await rendering(() => plannedFromRow(row)),
      row.tenantId,
    );
    const ctx = {
      sender,
      debtor,
      locale,
      timezone,
      unsubscribeUrl: unsub,
      paymentDetails: paymentDetailsOf(tenant),
      pdfLinkFor: await invoicePdfLinks(services, row, now),
      now,
    };
    email = await rendering(() => renderPlannedMessage(planned, ctx));
  }
  return { ...(await rendering(() => applyEdits(email, row))), unsubscribeUrl: unsub };
}

/**
 * Signed links to the invoices' PDFs (routes/invoice-pdf.ts), when the tenant's ledger is a host that renders
 * them and its connection has not been disconnected; undefined otherwise (a CSV import has no invoice document, and
 * the copy then says nothing about one). Each link is for this tenant, this message and one of its invoices.
 */
export async function invoicePdfLinks(
  services: DunningDeps,
  row: Pick<MessageRow, 'id' | 'tenantId' | 'invoiceIds' | 'snapshot'>,
  now: Date,
): Promise<((invoiceId: string) => string | undefined) | undefined> {
  const providers = services.sync.invoicePdfProviders();
  if (providers.length === 0) return undefined;
  const conn = await liveConnectionOfProviders(services.db, row.tenantId, providers);
  if (!conn) return undefined;
  // Every invoice the email lists, including those a statement shows without a step of their own.
  const covered = new Set(listedInvoiceIds(row));
  return (invoiceId) =>
    covered.has(invoiceId)
      ? invoicePdfUrl(services.config.PUBLIC_URL, services.config.APP_SECRET, {
          tenantId: row.tenantId,
          messageId: row.id,
          invoiceId,
          issuedAt: now,
        })
      : undefined;
}

/**
 * The invoices' pay links as they are now, for every invoice the message lists (a statement shows invoices no
 * step covers yet): some ledgers (Intuit's) return InvoiceLink only on single reads, which the planner's link fetch, the
 * pre-send refresh and ensurePayLinks here make after the plan was snapshotted.
 */
async function withCurrentPayLinks(
  services: DunningDeps,
  m: PlannedMessage,
  tenantId: string,
): Promise<PlannedMessage> {
  const ids = listedInvoiceIds(m).filter(
    (id) => !m.snapshot.invoices.find((i) => i.invoiceId === id)?.payLink,
  );
  if (ids.length === 0) return m;
  const links = await ensurePayLinks(services, tenantId, ids);
  if (links.size === 0) return m;
  return {
    ...m,
    snapshot: {
      ...m.snapshot,
      invoices: m.snapshot.invoices.map((i) =>
        i.payLink ? i : { ...i, payLink: links.get(i.invoiceId) ?? null },
      ),
    },
  };
}

/** A reviewer's edits: another subject, and an introductory paragraph after the greeting (never above it). */
export function applyEdits(
  email: RenderedEmail,
  edits: Pick<MessageRow, 'editedSubject' | 'editedIntro'>,
): RenderedEmail {
  let { subject, html, text } = email;
  if (edits.editedSubject) subject = edits.editedSubject;
  if (edits.editedIntro) {
    const para = `<p style="font-size:15px;line-height:22px;margin:0 0 12px">${escapeHtml(edits.editedIntro)}</p>`;
    // After the greeting paragraph (templates mark it data-greeting), else above the first paragraph.
    const greeting = /<p[^>]*\bdata-greeting\b[^>]*>[\s\S]*?<\/p>/.exec(html);
    const at = greeting ? greeting.index + greeting[0].length : html.search(/<p[\s>]/);
    html =
      at >= 0
        ? `${html.slice(0, at)}${para}${html.slice(at)}`
        : html.replace(/<body([^>]*)>/, `<body$1>${para}`);
    // Plain text: after the greeting paragraph ("Hello …,"), else at the top. The text part wraps long lines, so
    // a greeting to a long name spans several lines: the paragraph ends at the line that closes it with a comma.
    const lines = text.split('\n');
    let g = greeting ? lines.findIndex((l) => /^(Hi|Hello)\b/.test(l.trim())) : -1;
    while (g >= 0 && !/,\s*$/.test(lines[g]!) && lines[g + 1]?.trim()) g++;
    if (g >= 0 && !/,\s*$/.test(lines[g]!)) g = -1;
    text =
      g >= 0
        ? [...lines.slice(0, g + 1), '', edits.editedIntro, ...lines.slice(g + 1)].join('\n')
        : `${edits.editedIntro}\n\n${text}`;
  }
  return { ...email, subject, html, text };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
