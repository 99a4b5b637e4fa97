import { useState } from 'react';
import { PaymentSettings, SendingSettings } from '../components/go-live';
import { Card, Empty, ErrorBanner, Link, PageHeader } from '../components/ui';
import { api } from '../lib/api';
import type { Integrations, Tenant } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../page-props';
import { INTEGRATIONS_PATH } from './connections/QuickbooksConnect';
import { DunningSettings } from './DunningSettings';
import { ModelSettings } from './ModelSettings';
import { SenderSettings } from './SenderSettings';
import { PeopleSettings } from './settings/PeopleSettings';

export function SettingsPage({ tenant, currency }: PageProps) {
  const tenants = useApi<{ items: Tenant[] }>('/api/v1/tenants');
  const t = tenants.data?.items.find((x) => x.slug === tenant || x.id === tenant) ?? null;
  // The connector's display name, not its registry key (the lower-case provider id).
  const integrations = useApi<Integrations>(INTEGRATIONS_PATH);
  const [error, setError] = useState<Error | null>(null);
  const signOut = async (everywhere: boolean) => {
    try {
      await api.post(everywhere ? '/api/v1/session/logout-all' : '/api/v1/session/logout');
      window.location.assign('/login');
    } catch (err) {
      setError(err as Error);
    }
  };
  const session = (
    <Card title="Session">
      <p className="muted">
        Signing out ends this browser's session; signing out everywhere ends your sessions on every device.
        Sign in again from the sign-in page (a link by email, or Sign in with Intuit).
      </p>
      <ErrorBanner error={error} />
      <button type="button" className="btn btn-danger" onClick={() => signOut(false)}>
        Sign out
      </button>{' '}
      <button type="button" className="btn btn-danger" onClick={() => signOut(true)}>
        Sign out everywhere
      </button>
    </Card>
  );
  // Before the first company there is nothing to set: every company card would answer "tenant not found".
  if (!tenant)
    return (
      <div className="settings-page">
        <PageHeader title="Settings" />
        <Empty>
          No company yet. <Link href="/connections">Connect QuickBooks or upload a CSV</Link> to start; its
          settings appear here.
        </Empty>
        {session}
      </div>
    );
  return (
    <div className="settings-page">
      <PageHeader title="Settings" />
      <Card title="Company">
        {t ? (
          <dl className="facts">
            <dt>Name</dt>
            <dd>{t.name}</dd>
            <dt>Identifier</dt>
            <dd className="mono">{t.slug}</dd>
            <dt>Ledger source</dt>
            <dd>
              {t.source === 'csv'
                ? 'CSV import'
                : ((integrations.data as Record<string, { displayName?: string } | undefined> | undefined)?.[
                    t.source
                  ]?.displayName ?? t.source)}
            </dd>
            <dt>Time zone</dt>
            <dd>{t.timezone}</dd>
            <dt>Currency</dt>
            <dd>{t.currency}</dd>
          </dl>
        ) : (
          <ErrorBanner error={tenants.error} />
        )}
      </Card>
      <SendingSettings tenant={tenant} />
      <ModelSettings tenant={tenant} />
      <DunningSettings tenant={tenant} currency={t?.currency ?? currency} csv={t?.source === 'csv'} />
      <SenderSettings tenant={tenant} />
      <PaymentSettings tenant={tenant} />
      <PeopleSettings tenant={tenant} />
      {session}
    </div>
  );
}
