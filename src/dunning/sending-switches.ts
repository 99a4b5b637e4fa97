/**
 * A tenant's sending switches (tenants.settings.sendingEnabled / sendingPaused): whether messages may be queued and
 * sent. Apart from go-live.ts so that the engine, which go-live switches, reads them without importing go-live.
 */
import type { Tenant } from '../db/queries/tenants';
import type { SendingSwitches } from './suppression';

export function sendingSwitches(tenant: Pick<Tenant, 'settings'>): SendingSwitches {
  return {
    enabled: tenant.settings.sendingEnabled === true,
    paused: tenant.settings.sendingPaused === true,
  };
}

/** True when messages may be queued and sent: live and not paused. */
export function sendingActive(tenant: Pick<Tenant, 'settings'>): boolean {
  const s = sendingSwitches(tenant);
  return s.enabled && !s.paused;
}
