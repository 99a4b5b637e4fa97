/**
 * The risk module: scoring and per-tenant retraining, the customer bands dunning plans with, the active model and
 * the predictions export. Built once by the composition root from its deps (ports.ts: infrastructure and the
 * process's model registry); the modelling files beside this stay pure.
 */
import type { DbOrTx } from '../db/client';
import { predictionRows } from './cli-commands';
import type { RiskDeps } from './ports';
import { activeManifest, activeModel, customerBandOf, retrainTenant, scoreTenant } from './service';

export type { RiskDeps } from './ports';
export { ModelRegistry } from './model-registry';

export function createRisk(deps: RiskDeps) {
  return {
    /** Scores every open invoice and customer of the tenant as of `asOf` (default: now) and stores the results. */
    score: (tenantId: string, asOf?: Date) => scoreTenant(deps, tenantId, asOf),
    /** Trains a challenger on the tenant's history and promotes it only when it is better. */
    retrain: (tenantId: string, now?: Date) => retrainTenant(deps, tenantId, now),
    /**
     * The tenant's customer-band cut (score → band), read through `db` (a transaction when the caller is in one:
     * the dunning planner reads it inside its plan transaction).
     */
    bandsFor: (tenant: { id: string; settings: Record<string, unknown> }, db: DbOrTx = deps.db) =>
      customerBandOf({ db, models: deps.models }, tenant),
    activeManifest: (tenantId: string) => activeManifest(deps, tenantId),
    activeModel: (tenantId: string) => activeModel(deps, tenantId),
    /** Every open invoice scored now, nothing stored (`duely predictions`). */
    predictions: (tenantId: string, tenantSettings: Record<string, unknown>) =>
      predictionRows(deps, tenantId, tenantSettings),
  };
}

export type RiskModule = ReturnType<typeof createRisk>;
