/**
 * Go-live: a new company starts with sending off. Until the team switches it on, Duely plans and shows what it
 * would send (messages stay 'planned', nothing is queued) and the send job refuses anything that reaches it
 * (suppression.ts sendingGate). The Dashboard's first-run checklist says what is left before going live.
 */
import type { Tx } from '../db/client';
import { openContactTasks, openInvoiceIdsWithoutPayLink, reminderCounts } from '../db/queries/dunning-plan';
import type { Tenant } from '../db/queries/tenants';
import { AppError } from '../errors';
import { senderOf } from './compose-email';
import { planTenantIn, resumeSending } from './engine';
import { hasLiveLedger } from './live-invoice-state';
import { addDays, localParts } from './local-time';
import { ensurePayLinks, paymentDetailsOf } from './payment-details';
import type { DunningDeps } from './ports';
import { sendingSwitches } from './sending-switches';

// RFC 2606 / RFC 6761 names and addresses that can never receive a debtor's reply.
const RESERVED_DOMAIN = /(^|\.)(localhost|local|invalid|test|example|internal|example\.(com|net|org))$/i;
const IP_LITERAL = /^(\[.*\]|\d{1,3}(\.\d{1,3}){3})$/;

/** Why replies to this address would never reach the team (a placeholder, an IP, a reserved name), or null. */
export function replyToProblem(address: string | null | undefined): string | null {
  if (!address) return 'No reply-to address is set';
  const at = address.lastIndexOf('@');
  const domain = at > 0 ? address.slice(at + 1) : '';
  if (!domain.includes('.')) return `${address} is not a complete email address`;
  if (IP_LITERAL.test(domain) || RESERVED_DOMAIN.test(domain))
    return `${address} cannot receive replies; set the address your team reads`;
  return null;
}

export interface ChecklistItem {
  key: 'sender' | 'payment' | 'sequences' | 'first_batch' | 'go_live';
  title: string;
  done: boolean;
  /** What is missing, or what was checked. */
  detail: string;
  /** The app page where it is done (path and query): the first batch's is the Call list when what is left is there. */
  href: string;
  /** Going live is refused while this is not done. */
  required: boolean;
}

export interface GoLiveStatus {
  sendingEnabled: boolean;
  sendingPaused: boolean;
  /** Planned but not sent because sending is off or paused, and among them those waiting for a reviewer. */
  wouldSend: number;
  awaitingApproval: number;
  items: ChecklistItem[];
  /** Required items still open: going live is refused until this is empty. */
  blockers: string[];
}

/** Tenants whose pay links are being read from the ledger by checkPayLinks (one read at a time per tenant). */
const checking = new Set<string>();

/**
 * Reads the pay links of invoices not asked yet, in the background (the checklist does not wait for up to 200 reads):
 * each read either stores a link or marks the invoice as one the ledger has none for (services.payLinkChecks).
 */
function checkPayLinks(services: DunningDeps, tenantId: string, invoiceIds: string[]): void {
  if (checking.has(tenantId)) return;
  checking.add(tenantId);
  ensurePayLinks(services, tenantId, invoiceIds)
    .catch((err: unknown) => services.logger.warn({ tenantId, err }, 'pay links could not be checked'))
    .finally(() => checking.delete(tenantId));
}

/** The Dashboard's first-run checklist and the go-live gate's reasons. */
export async function goLiveStatus(
  services: DunningDeps,
  db: Tx | DunningDeps['db'],
  tenant: Tenant,
): Promise<GoLiveStatus> {
  const switches = sendingSwitches(tenant);
  const sender = senderOf(tenant, services);
  const custom = typeof tenant.settings.sender === 'object' && tenant.settings.sender !== null;
  const replyProblem = replyToProblem(custom ? sender.replyTo : null);
  const counts = await reminderCounts(db, tenant.id);
  const awaitingApproval = counts?.awaiting ?? 0;
  const wouldSend = (counts?.planned ?? 0) + awaitingApproval;
  // Every reminder must be payable: a pay link on each invoice a reminder may list soon, or payment details.
  const details = paymentDetailsOf(tenant);
  const horizon = addDays(localParts(services.clock.now(), tenant.timezone || 'UTC').date, 7);
  const noLink = details ? [] : await openInvoiceIdsWithoutPayLink(db, tenant.id, horizon);
  // A synced ledger gives each invoice's pay link on a read of its own, fetched after connecting and planning: an
  // invoice not asked yet is not one without a link ("129 invoices have no pay link" fell to 9 as they came in).
  const unchecked =
    // Read in the caller's transaction (the go-live gate's): a query beside it would wait for it to end.
    noLink.length > 0 && (await hasLiveLedger({ ...services, db: db as DunningDeps['db'] }, tenant.id))
      ? noLink.filter((id) => !services.payLinkChecks.has(id))
      : [];
  if (unchecked.length > 0) checkPayLinks(services, tenant.id, unchecked);
  const withoutLink = noLink.length - unchecked.length;
  // Debtors no reminder can reach (a CSV ledger has no addresses at all): said under the first batch, which is
  // otherwise "0 messages would go out" with no word of why.
  const noContact = await openContactTasks(db, tenant.id);
  const noAddress = `${noContact} customer${noContact === 1 ? ' has' : 's have'} no email address: add one on the Call list`;
  const unreachable = noContact === 0 ? '' : `; ${noAddress}`;
  // Nothing planned because no debtor has an address is no batch reviewed: not ticked until one can be planned.
  const nobodyReachable = wouldSend === 0 && noContact > 0;
  const items: ChecklistItem[] = [
    {
      key: 'sender',
      title: 'Sender identity with a real reply-to address',
      done: replyProblem === null,
      detail: replyProblem ?? `Replies go to ${sender.replyTo}`,
      href: '/settings',
      required: true,
    },
    {
      key: 'payment',
      title: 'How customers pay: pay links or payment details',
      done: details !== undefined || noLink.length === 0,
      detail: details
        ? `Reminders show your payment details${details.url ? ` and ${details.url}` : ''}`
        : unchecked.length > 0
          ? `Still checking the ledger for pay links (${unchecked.length.toLocaleString('en-US')} invoice${unchecked.length === 1 ? '' : 's'} to go): look again in a minute, or add payment details (bank details or a payment page) in Settings`
          : withoutLink === 0
            ? 'Every invoice due soon or overdue has a pay link'
            : `${withoutLink} invoice${withoutLink === 1 ? ' has' : 's have'} no pay link: add payment details (bank details or a payment page) in Settings`,
      href: '/settings',
      required: true,
    },
    {
      key: 'sequences',
      title: 'Review the reminder sequences',
      done: tenant.settings.sequencesReviewed === true,
      detail:
        tenant.settings.sequencesReviewed === true
          ? 'Reviewed'
          : 'Read each step on Sequences (preview the emails), then press “Mark sequences reviewed” there',
      href: '/sequences',
      required: false,
    },
    {
      key: 'first_batch',
      title: 'Review the first batch',
      done: awaitingApproval === 0 && !nobodyReachable,
      detail: nobodyReachable
        ? `No message can go out yet: ${noAddress}`
        : awaitingApproval === 0
          ? `${wouldSend} message${wouldSend === 1 ? '' : 's'} would go out; none waits for approval${unreachable}`
          : // Every send day, not only today's (the Dashboard's "held for approval, due by today" is a part of them).
            `${awaitingApproval} message${awaitingApproval === 1 ? '' : 's'} wait for approval on Approvals, of all send days${unreachable}`,
      // Where what is left is: messages to review, else customers to give an address (find-a-contact tasks).
      href: awaitingApproval === 0 && noContact > 0 ? '/calls?kind=find_contact' : '/approvals',
      required: false,
    },
    {
      key: 'go_live',
      title: 'Switch sending on',
      done: switches.enabled,
      detail: switches.enabled
        ? switches.paused
          ? 'Live, but all sending is paused'
          : 'Live: reminders go out at their send times'
        : 'Nothing is sent until sending is switched on in Settings',
      href: '/settings',
      required: false,
    },
  ];
  return {
    sendingEnabled: switches.enabled,
    sendingPaused: switches.paused,
    wouldSend,
    awaitingApproval,
    items,
    blockers: items.filter((i) => i.required && !i.done).map((i) => `${i.title}: ${i.detail}`),
  };
}

/** The switches as GET/PATCH /settings show them (absent = off). */
export function sendingSwitchesView(tenant: Pick<Tenant, 'settings'>) {
  const s = sendingSwitches(tenant);
  return {
    sendingEnabled: s.enabled,
    sendingPaused: s.paused,
    sequencesReviewed: tenant.settings.sequencesReviewed === true,
  };
}

/**
 * After a settings change, in its transaction: going live is refused while a required checklist item is open;
 * going live or resuming re-plans what waited from now (no late burst); pausing or switching off takes back
 * everything not yet handed to the provider, so it shows as "would send" at once.
 */
export async function applySendingSwitches(services: DunningDeps, tx: Tx, before: Tenant, after: Tenant) {
  const was = sendingSwitches(before);
  const now = sendingSwitches(after);
  if (!was.enabled && now.enabled) {
    const status = await goLiveStatus(services, tx, after);
    if (status.blockers.length > 0) {
      throw new AppError(
        'go_live_blocked',
        `Cannot switch sending on yet: ${status.blockers.join('; ')}`,
        409,
        {
          details: status.blockers.map((b) => ({ field: 'sendingEnabled', message: b })),
        },
      );
    }
  }
  const wasActive = was.enabled && !was.paused;
  const isActive = now.enabled && !now.paused;
  if (!wasActive && isActive) await resumeSending(services, tx, after.id);
  else if (wasActive && !isActive) await planTenantIn(services, tx, after.id);
}
