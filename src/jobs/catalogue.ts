/**
 * Every job Duely runs, declared once. Handlers stay thin: they call into sync/, risk/, dunning/.
 */
import type { JobDefinition } from './define';
import { dailyDunningJob, planTenantJob, sendMessageJob, sweepSendsJob } from './dunning-jobs';
import { dailyRiskJob, retrainTenantJob, scoreTenantJob } from './risk-jobs';
import { pollConnectionsJob, syncConnectionJob } from './sync-jobs';

export const jobs = {
  scoreTenant: scoreTenantJob,
  retrainTenant: retrainTenantJob,
  dailyRisk: dailyRiskJob,
  planDunning: planTenantJob,
  sendDunning: sendMessageJob,
  dailyDunning: dailyDunningJob,
  sweepDunningSends: sweepSendsJob,
  syncConnection: syncConnectionJob,
  pollConnections: pollConnectionsJob,
} satisfies Record<string, JobDefinition>;

export const allJobs: readonly JobDefinition[] = Object.values(jobs);
