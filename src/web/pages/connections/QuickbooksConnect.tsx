/**
 * The "connect QuickBooks" part of the Connections page, by what the server offers (GET /api/v1/integrations):
 * a real Intuit app ("Connect to QuickBooks"), the built-in demo company ("Try the demo company"), or neither
 * (the server's reason). Both buttons leave the app top-level: Intuit's pages refuse to be framed.
 */
import { ErrorBanner } from '../../components/ui';
import { ApiError } from '../../lib/api';
import type { Connection, Integrations } from '../../lib/types';
import { type Loaded, useApi } from '../../lib/use-api';

export const INTEGRATIONS_PATH = '/api/v1/integrations';

/** "Demo company" for the demo realm, else "Company <realm id>". */
export function connectionName(
  c: Pick<Connection, 'externalId'> & Partial<Pick<Connection, 'provider'>>,
  info: Integrations | null,
): string {
  if (info?.quickbooks.demo?.realmId === c.externalId) return 'Demo company';
  // Another host's account is named with the host ("Oracle NetSuite account 1234567_SB1").
  const host =
    c.provider && c.provider !== 'quickbooks'
      ? (info as Record<string, { displayName?: string } | undefined> | null)?.[c.provider]?.displayName
      : undefined;
  return host ? `${host} account ${c.externalId}` : `Company ${c.externalId}`;
}

/**
 * `connected`: realm ids this tenant has connected (not disconnected); the demo offer steps back once the demo
 * company is one of them (its row has Reconnect and Disconnect).
 */
export function QuickbooksConnect({
  info,
  connected = [],
}: {
  info: Loaded<Integrations>;
  connected?: string[];
}) {
  // A server without the integrations API (older build) still has the classic connect route.
  const missing = info.error instanceof ApiError && info.error.status === 404;
  const qb = info.data?.quickbooks;
  if (missing || (qb && qb.mode === 'live')) {
    return (
      <>
        <p className="muted">
          Connect a QuickBooks Online company to sync customers, invoices and payments continuously.
        </p>
        <a className="btn btn-qb" href={qb?.connectUrl ?? '/connect/quickbooks'} target="_top">
          Connect to QuickBooks
        </a>
      </>
    );
  }
  if (!qb) return <ErrorBanner error={info.error} />;
  const ownAppHint = (
    <p className="small muted">
      To connect your own company instead, set <code>QUICKBOOKS_CLIENT_ID</code> and{' '}
      <code>QUICKBOOKS_CLIENT_SECRET</code> (an Intuit developer app) and restart Duely.
    </p>
  );
  if (qb.mode === 'demo' && qb.demo && connected.includes(qb.demo.realmId)) return ownAppHint;
  if (qb.mode === 'demo') {
    const size = qb.demo
      ? `${qb.demo.customers.toLocaleString('en-US')} customers and ${qb.demo.invoices.toLocaleString('en-US')} invoices`
      : 'customers and invoices';
    return (
      <div className="demo-offer" data-testid="demo-offer">
        <h3>Try the demo company</h3>
        <p>
          A generated sample QuickBooks company, {size} with their payments, run by this Duely server. It
          connects through the same QuickBooks sign-in and sync as a real company; nothing leaves your
          machine.
        </p>
        <a className="btn btn-qb" href={qb.connectUrl ?? '/connect/quickbooks'} target="_top">
          Try the demo company
        </a>
        {ownAppHint}
      </div>
    );
  }
  return (
    <p className="qb-note" role="note">
      {qb.note ?? 'QuickBooks is not configured on this server.'}
    </p>
  );
}

/** The same, loading what the server offers itself (the first-import screen of an operator with no company). */
export function QuickbooksConnectCard() {
  const info = useApi<Integrations>(INTEGRATIONS_PATH);
  return (
    <section className="card" aria-label="QuickBooks Online">
      <h2 className="card-title">QuickBooks Online</h2>
      <QuickbooksConnect info={info} />
    </section>
  );
}
