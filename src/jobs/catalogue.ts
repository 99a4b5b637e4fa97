/**
 * Every job Duely runs, declared once. Handlers stay thin: they call into sync/, risk/, dunning/.
 */
import type { JobDefinition } from './define';

export const jobs = {} satisfies Record<string, JobDefinition>;

export const allJobs: readonly JobDefinition[] = Object.values(jobs);
