/**
 * One card per ledger provider on the Connections page, titled by the connector's display name (GET
 * /api/v1/integrations): the provider's own connections (status, expiry warning, progress, Reconnect, Disconnect)
 * and how to connect a company of it (QuickBooks' connect button or demo offer; a credential form / OAuth button for
 * the others). A connection of one provider never shows in another's card. One Duely company holds one company's
 * books (the server refuses another: tenant_holds_other_books), so once it holds one (a connection in any state) no
 * card offers a connect: the company's own row has Reconnect, and each card says where another company goes.
 */
import { Card, Loading } from '../../components/ui';
import { api } from '../../lib/api';
import { useCan } from '../../lib/role';
import type { Connection, ConnectorAvailability, Integrations } from '../../lib/types';
import type { Loaded } from '../../lib/use-api';
import { ConnectionList, ownConnections, type ReconnectAction } from './ConnectionList';
import { CredentialConnect } from './CredentialConnect';
import { connectionName, QuickbooksConnect } from './QuickbooksConnect';

/** The provider that carries the built-in demo company and the classic connect route (an older server's only one). */
const CLASSIC = 'quickbooks';
const CLASSIC_TITLE = 'QuickBooks Online';

export interface ProviderSection {
  provider: string;
  /** The connector's display name ("QuickBooks Online", "Oracle NetSuite"). */
  title: string;
  /** What the server says about connecting this provider; null when the integrations API gave nothing. */
  availability: ConnectorAvailability | null;
}

/**
 * The cards to show, in the registry's order (the integrations API's keys), then any provider a connection names
 * that the server no longer offers (titled by its id, so its rows stay reachable). Without the integrations
 * answer (an older server: 404, or an error) the classic provider's card stands for the connect button.
 */
export function providerSections(info: Integrations | null, connections: Connection[]): ProviderSection[] {
  const byProvider = info as Record<string, ConnectorAvailability | undefined> | null;
  const sections: ProviderSection[] = info
    ? Object.keys(info).map((provider) => {
        const availability = byProvider?.[provider] ?? null;
        return { provider, title: availability?.displayName ?? provider, availability };
      })
    : [{ provider: CLASSIC, title: CLASSIC_TITLE, availability: null }];
  for (const c of connections) {
    if (!sections.some((s) => s.provider === c.provider))
      sections.push({ provider: c.provider, title: c.provider, availability: null });
  }
  return sections;
}

export function ProviderCards(props: {
  tenant: string;
  conns: Loaded<{ items: Connection[] }>;
  integrations: Loaded<Integrations>;
  onChange: () => void;
  /** A credential connection's Reconnect: the form of its provider, for that account (n remounts it per click). */
  reconnect: { provider: string; accountId: string; type: string | null; n: number } | null;
  onReconnect: (action: Extract<ReconnectAction, { kind: 'form' }>) => void;
  /** A credential form connected an account: reload what depends on it. */
  onConnected: () => void;
}) {
  const { tenant, conns, integrations, onChange, reconnect, onReconnect, onConnected } = props;
  // Connecting a company is an admin's change (the connect pages and POST …/connections refuse anyone else).
  const mayConnect = useCan('admin');
  // Wait for the integrations answer (the titles come from it) unless it failed.
  if (!integrations.data && !integrations.error) return <Loading />;
  const all = conns.data?.items ?? [];
  // The company this Duely company holds (its first connection, whatever its state); until the list is in, nothing
  // is offered that it might refuse.
  const held = all[0] ?? null;
  const listed = Boolean(conns.data) || Boolean(conns.error);
  // The operator's session is bound to no company: an OAuth connect there makes another Duely company, never a
  // refusal (a credential form posts to this company: refused like anyone's).
  const operator = Boolean(api.current?.operator);
  const oneCompanyNote = held ? (
    <p className="muted small" data-testid="one-company-note">
      This Duely company holds the books of {connectionName(held, integrations.data)}; one Duely company holds
      one company's books. {held.status === 'active' ? '' : 'Reconnect it from its row. '}To add another
      company, sign out of Duely and connect it there: it gets a Duely company of its own.
    </p>
  ) : null;
  return (
    <>
      {providerSections(integrations.data, all).map((section) => {
        const { provider, availability } = section;
        const mine = ownConnections(all, provider);
        return (
          <Card key={provider} title={section.title}>
            <ConnectionList
              tenant={tenant}
              conns={conns}
              provider={provider}
              info={integrations.data}
              onChange={onChange}
              onReconnect={onReconnect}
            />
            {!mayConnect || !listed ? null : provider === CLASSIC ? (
              held && !operator ? (
                oneCompanyNote
              ) : (
                <QuickbooksConnect
                  info={integrations}
                  connected={mine.filter((c) => c.status !== 'disconnected').map((c) => c.externalId)}
                />
              )
            ) : availability ? (
              <>
                <CredentialConnect
                  key={reconnect?.provider === provider ? `reconnect-${reconnect.n}` : 'connect'}
                  tenant={tenant}
                  info={availability}
                  reconnect={reconnect?.provider === provider ? reconnect : null}
                  // Held: the form is its own account's Reconnect only (a connect it just made keeps its answer).
                  connectOffered={!held}
                  onConnected={onConnected}
                />
                {held && reconnect?.provider !== provider ? oneCompanyNote : null}
              </>
            ) : null}
          </Card>
        );
      })}
    </>
  );
}
