/**
 * What the Customer page reads from the dunning API besides the ledger: the customer's messages, its override,
 * promises and disputes, and the policy's sequences. One reload() refreshes all of them after a change.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { DunningConfig, DunningMessage, Sequence } from '../../components/dunning';
import { api, apiPath } from '../../lib/api';
import type { DisputeRow, OverrideRow, PromiseRow } from './customer-timeline';

/** The messages API's maximum; a customer with more sees the newest 500 (the page says so). */
export const MESSAGE_LIMIT = 500;

export interface CustomerDunning {
  messages: DunningMessage[];
  override: OverrideRow | null;
  promises: PromiseRow[];
  disputes: DisputeRow[];
  sequences: Sequence[];
}

export function useCustomerDunning(tenant: string, customerId: string | null) {
  const [data, setData] = useState<CustomerDunning | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [loading, setLoading] = useState(false);
  const latest = useRef(0);

  const reload = useCallback(async () => {
    if (!customerId) return;
    const request = ++latest.current;
    setLoading(true);
    setError(null);
    try {
      const [messages, overrides, promises, disputes, policy] = await Promise.all([
        api.get<{ items: DunningMessage[] }>(
          apiPath(tenant, 'dunning/messages', { customer: customerId, limit: MESSAGE_LIMIT }),
        ),
        api.get<{ items: OverrideRow[] }>(apiPath(tenant, 'dunning/overrides')),
        api.get<{ items: PromiseRow[] }>(apiPath(tenant, 'dunning/promises')),
        api.get<{ items: DisputeRow[] }>(apiPath(tenant, 'dunning/disputes')),
        api.get<DunningConfig>(apiPath(tenant, 'dunning/policy')),
      ]);
      // Only the latest request fills the page: an earlier, slower answer must not overwrite a fresher one.
      if (request !== latest.current) return;
      setData({
        messages: messages.items,
        override: overrides.items.find((o) => o.customerId === customerId) ?? null,
        promises: promises.items.filter((p) => p.customerId === customerId),
        // Disputes are per invoice; the timeline keeps those of this customer's invoices.
        disputes: disputes.items,
        sequences: policy.policy.sequences,
      });
    } catch (e) {
      if (request === latest.current) setError(e as Error);
    } finally {
      if (request === latest.current) setLoading(false);
    }
  }, [tenant, customerId]);

  useEffect(() => {
    reload();
  }, [reload]);

  return { data, error, loading, reload };
}
