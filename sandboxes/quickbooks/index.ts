export {
  startSandbox,
  type AdvanceResult,
  type ApiRequest,
  type Sandbox,
  type SandboxOptions,
  type WebhookDelivery,
} from './server';
export type { Change, Company, Habit } from './company';
