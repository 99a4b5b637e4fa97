/**
 * What the risk module needs from outside: infrastructure, and the process's model registry (built once by the
 * root; model-registry.ts). It asks nothing of another module.
 */
import type { Infra } from '../infra';
import type { ModelRegistry } from './model-registry';

export type RiskDeps = Pick<Infra, 'db' | 'clock' | 'logger'> & { models: ModelRegistry };
