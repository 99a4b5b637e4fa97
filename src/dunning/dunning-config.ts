import type { DbOrTx } from '../db/client';
import type { Tenant } from '../db/queries/tenants';
import { latestDunningPolicy } from '../db/queries/dunning-plan';
import {
  DEFAULT_POLICY,
  type DunningPolicy,
  type DunningSettings,
  dunningSettingsSchema,
  parsePolicy,
  parseWith,
} from './policy';

/** The policy in force for a tenant: its latest stored version, else the defaults (version 0). */
export interface DunningConfig {
  version: number;
  policy: DunningPolicy;
  settings: DunningSettings;
}

/** Sending settings a tenant starts with: weekdays 8–18 in the tenant's timezone, approval above 10,000.00. */
export function defaultSettings(tenant: Pick<Tenant, 'timezone'>): DunningSettings {
  return dunningSettingsSchema.parse({
    timezone: tenant.timezone || 'UTC',
    businessDays: [1, 2, 3, 4, 5],
    businessHours: { start: 8, end: 18 },
    quietHours: null,
    approvalThresholdMinor: 1_000_000,
  });
}

export async function loadDunningConfig(
  db: DbOrTx,
  tenant: Pick<Tenant, 'id' | 'timezone'>,
): Promise<DunningConfig> {
  const row = await latestDunningPolicy(db, tenant.id);
  if (!row) return { version: 0, policy: DEFAULT_POLICY, settings: defaultSettings(tenant) };
  // Stored rows were validated on write; parsing again applies defaults added since.
  const policy = parsePolicy(row.policy);
  const settings = parseWith(dunningSettingsSchema, row.settings);
  if (!policy.ok || !settings.ok) {
    throw new Error(`stored dunning policy v${row.version} of tenant ${tenant.id} no longer validates`);
  }
  return { version: row.version, policy: policy.value, settings: settings.value };
}
