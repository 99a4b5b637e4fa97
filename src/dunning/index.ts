/**
 * The dunning module: planning, sending, approvals, delivery events, previews, going live and bulk actions. Built
 * once by the composition root from its deps (ports.ts: infrastructure, the job port, the risk module's bands and
 * the sync module's live re-read); http routes, the job workflow and the CLI call it through this object. The pure
 * decisions (planner, suppression, send time, policy, approval) stay free functions beside it.
 */
import type { Tenant } from '../db/queries/tenants';
import { approveMessage, editMessage, skipMessage } from './approvals';
import { bulkCustomers, bulkDecideMessages, bulkDispute, bulkSendStatements } from './bulk';
import { composeEmail, senderOf } from './compose-email';
import { applyDeliveryUpdate, unsubscribeDebtor } from './delivery-events';
import { planTenant, planTenantIn, releaseUploadHolds, replanPending } from './engine';
import { applySendingSwitches, goLiveStatus } from './go-live';
import { resolveInvoicePdfLink } from './invoice-pdf-link';
import { ensurePayLinks } from './payment-details';
import type { DunningDeps } from './ports';
import { sendDue } from './send-batch';
import { sweepStaleMessages } from './send-sweep';
import { effectiveSender } from './sender-settings';
import { sendingToday } from './sending-today';
import { previewStep } from './step-preview';

export type { DunningDeps, LedgerRefresh, RiskBands } from './ports';

export function createDunning(deps: DunningDeps) {
  /** `f` with the module's deps as its first argument. */
  const bind =
    <A extends unknown[], R>(f: (d: DunningDeps, ...args: A) => R) =>
    (...args: A): R =>
      f(deps, ...args);
  return {
    /** Plans the tenant (its own transaction) and schedules the send jobs of what is due. */
    plan: bind(planTenant),
    /** Plans the tenant inside the caller's transaction (a settings change and its re-plan commit together). */
    planIn: bind(planTenantIn),
    /** A policy version saved in the caller's transaction: what waits is planned again under it. */
    replanPending: bind(replanPending),
    /** A CSV upload in the caller's transaction: reminders held for an upload too old are re-checked at once. */
    uploadArrived: bind(releaseUploadHolds),
    /** One message, or (MAIL_BATCH) the due messages in one stored batch; a batch member resumes its batch. */
    send: bind(sendDue),
    sweep: bind(sweepStaleMessages),
    approve: bind(approveMessage),
    skip: bind(skipMessage),
    edit: bind(editMessage),
    applyDeliveryUpdate: bind(applyDeliveryUpdate),
    unsubscribe: bind(unsubscribeDebtor),
    composeEmail: bind(composeEmail),
    senderOf: (tenant: Tenant) => senderOf(tenant, deps),
    effectiveSender: (tenant: Tenant) => effectiveSender(tenant, deps),
    ensurePayLinks: bind(ensurePayLinks),
    previewStep: bind(previewStep),
    goLiveStatus: bind(goLiveStatus),
    sendingToday: bind(sendingToday),
    applySendingSwitches: bind(applySendingSwitches),
    resolveInvoicePdfLink: bind(resolveInvoicePdfLink),
    bulk: {
      decideMessages: bind(bulkDecideMessages),
      customers: bind(bulkCustomers),
      dispute: bind(bulkDispute),
      sendStatements: bind(bulkSendStatements),
    },
  };
}

export type DunningModule = ReturnType<typeof createDunning>;
