/**
 * The process's loaded models (ONNX inference sessions), built once by the composition root. The shipped default
 * stays loaded; tenants' own models are kept by (tenant, version) in a bounded least-recently-used map, so a
 * process scoring many tenants does not keep every tenant's session (and every superseded version) for ever. An
 * evicted model is loaded again on its next use; a model that failed to load is not kept. The ONNX runtime loads
 * with the first model, not with this file (a module test wiring risk without scoring never loads it).
 */
import path from 'node:path';
import type { DbOrTx } from '../db/client';
import { activeModelVersion } from '../db/queries/risk';
import { FEATURE_NAMES } from './features';
import type { LoadedModel, ModelManifest } from './model-store';

export const DEFAULT_MODEL_DIR = path.resolve(import.meta.dirname, '../../models/default');

/** Tenant models kept loaded per process (each a few hundred KB of graph plus the runtime's session). */
export const MAX_TENANT_MODELS = 64;

/**
 * Whether a registry version was built for this code's feature rows. A version promoted before the feature set last
 * changed cannot read them (its graph expects other columns): the default model serves the tenant until the next
 * retrain replaces it.
 */
export function readsTodaysFeatures(manifest: Record<string, unknown>): boolean {
  const names = manifest.featureNames;
  return !Array.isArray(names) || names.join(',') === FEATURE_NAMES.join(',');
}

export class ModelRegistry {
  private shipped: Promise<LoadedModel> | undefined;
  private readonly tenants = new Map<string, Promise<LoadedModel>>();
  private readonly max: number;

  constructor(opts: { maxTenantModels?: number } = {}) {
    this.max = Math.max(1, opts.maxTenantModels ?? MAX_TENANT_MODELS);
  }

  /** The shipped default model, loaded once. */
  default(): Promise<LoadedModel> {
    if (!this.shipped) {
      const p = import('./model-store').then(({ loadModel }) => loadModel(DEFAULT_MODEL_DIR));
      this.shipped = p;
      p.catch(() => {
        if (this.shipped === p) this.shipped = undefined;
      });
    }
    return this.shipped;
  }

  /** The tenant's active model: its promoted version from the registry table, else the shipped default. */
  async active(db: DbOrTx, tenantId: string): Promise<LoadedModel> {
    const row = await activeModelVersion(db, tenantId);
    if (!row || !readsTodaysFeatures(row.manifest)) return this.default();
    return this.tenantModel(`${tenantId}:${row.version}`, async () => {
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(new Uint8Array(row.onnx));
      return { session, manifest: row.manifest as unknown as ModelManifest };
    });
  }

  /**
   * The tenant model under `key` (tenant:version), loaded by `load` on a miss. The least recently used model beyond
   * the bound is dropped; a load that fails is forgotten, so the next use tries again.
   */
  tenantModel(key: string, load: () => Promise<LoadedModel>): Promise<LoadedModel> {
    const hit = this.tenants.get(key);
    if (hit) {
      // Most recently used last.
      this.tenants.delete(key);
      this.tenants.set(key, hit);
      return hit;
    }
    const loading = load();
    this.tenants.set(key, loading);
    loading.catch(() => {
      if (this.tenants.get(key) === loading) this.tenants.delete(key);
    });
    while (this.tenants.size > this.max) this.tenants.delete(this.tenants.keys().next().value!);
    return loading;
  }

  /** Tenant models currently loaded (the default not counted). */
  get loadedTenantModels(): number {
    return this.tenants.size;
  }
}
