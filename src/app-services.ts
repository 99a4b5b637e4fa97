/**
 * What the composition root (src/services.ts) hands the entry points, the http app and the job workers: the
 * infrastructure it built once, the per-process state the modules share, and the modules themselves. Types only,
 * so http and jobs depend on this shape, never on the root that builds it.
 */
import type { AnalyticsModule } from './analytics';
import type { AuthModule } from './auth';
import type { DemoCompany } from './demo-company';
import type { DunningModule } from './dunning';
import type { DunningJobPort } from './dunning/job-port';
import type { Infra } from './infra';
import type { JobQueue } from './jobs/queue';
import type { ModelRegistry, RiskModule } from './risk';
import type { SyncDeps, SyncModule } from './sync';

export interface Services extends Infra, SyncDeps {
  queue: JobQueue;
  /** The dunning engine's jobs on `queue` (the engine does not import src/jobs). */
  dunningJobs: DunningJobPort;
  /** The built-in demo company when this process runs it (src/demo-company.ts), else null. */
  demoCompany: DemoCompany | null;
  auth: AuthModule;
  analytics: AnalyticsModule;
  risk: RiskModule;
  sync: SyncModule;
  dunning: DunningModule;
  /** The process's loaded models (shipped default + a bounded LRU of tenant models). */
  models: ModelRegistry;
  /** Dunning's per-process pay-link cache (payment-details.ts). */
  payLinkChecks: Map<string, number>;
  close(): Promise<void>;
}
