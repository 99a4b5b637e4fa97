/** The Connections page's credential connect (e.g. NetSuite) and the lapse warning, rendered to HTML. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { connectorFor } from '../../connectors';
import { parseNetsuiteConfig } from '../../connectors/netsuite';
import { connectorAvailability } from '../../src/demo-company';
import type { Connection, Integrations } from '../../src/web/lib/types';
import type { Loaded } from '../../src/web/lib/use-api';
import { expiryWarning, reconnectAction } from '../../src/web/pages/connections/ConnectionList';
import { CredentialConnect } from '../../src/web/pages/connections/CredentialConnect';
import { needsOwnEmail, OwnEmail } from '../../src/web/pages/connections/OwnEmail';
import { ProviderCards, providerSections } from '../../src/web/pages/connections/ProviderCards';
import { connectionName } from '../../src/web/pages/connections/QuickbooksConnect';

const env = {
  NETSUITE_CONSUMER_KEY: 'ck',
  NETSUITE_CONSUMER_SECRET: 'cs',
  NETSUITE_CLIENT_ID: 'id',
  NETSUITE_CLIENT_SECRET: 'secret',
};

describe('credential connect on the Connections page', () => {
  it('offers the OAuth 2.0 button, the TBA form and the role checklist', () => {
    const info = connectorAvailability(parseNetsuiteConfig(env) as never, connectorFor('netsuite' as never));
    const html = renderToStaticMarkup(<CredentialConnect tenant="acme" info={info} onConnected={() => {}} />);
    expect(html).toContain('href="/connect/netsuite"');
    expect(html).toContain('Connect with OAuth 2.0');
    expect(html).toContain('Token ID');
    expect(html).toContain('type="password"');
    expect(html).not.toContain('Certificate ID');
    expect(html).toContain('REST Web Services (Full)');
    expect(html).toContain('Transactions &gt; Invoice (View)');
  });

  it('an unconfigured connector says so and offers nothing', () => {
    const info = connectorAvailability(parseNetsuiteConfig({}) as never, connectorFor('netsuite' as never));
    expect(info.mode).toBe('unconfigured');
    const html = renderToStaticMarkup(<CredentialConnect tenant="acme" info={info} onConnected={() => {}} />);
    expect(html).toContain('not set up');
    expect(html).not.toContain('<form');
  });

  it('warns two days before a grant lapses, and once it has', () => {
    const now = Date.parse('2026-11-27T10:00:00Z');
    const at = (h: number) => new Date(now + h * 3600_000).toISOString();
    expect(expiryWarning({ status: 'active', refreshExpiresAt: at(72) }, now)).toBeNull();
    expect(expiryWarning({ status: 'active', refreshExpiresAt: null }, now)).toBeNull();
    expect(expiryWarning({ status: 'active', refreshExpiresAt: at(30) }, now)).toMatch(
      /reconnect before then/,
    );
    expect(expiryWarning({ status: 'active', refreshExpiresAt: at(-1) }, now)).toMatch(/has lapsed/);
    expect(expiryWarning({ status: 'reconnect_needed', refreshExpiresAt: at(1) }, now)).toBeNull();
  });

  it('Reconnect of a credential connection opens the form for its account; an OAuth one goes to the OAuth flow', () => {
    const base = { provider: 'netsuite', externalId: '1234567_SB1', status: 'reconnect_needed' as const };
    expect(
      reconnectAction({ ...base, reconnectUrl: null, reconnectWith: 'credentials', reconnectType: 'tba' }),
    ).toEqual({ kind: 'form', provider: 'netsuite', accountId: '1234567_SB1', type: 'tba' });
    expect(
      reconnectAction({
        ...base,
        reconnectUrl: '/connect/netsuite',
        reconnectWith: 'oauth',
        reconnectType: null,
      }),
    ).toEqual({ kind: 'link', href: '/connect/netsuite' });
    // Disconnected in Duely: the same company comes back through its row's Reconnect.
    expect(
      reconnectAction({
        ...base,
        status: 'disconnected',
        reconnectUrl: null,
        reconnectWith: 'credentials',
        reconnectType: null,
      }),
    ).toEqual({ kind: 'form', provider: 'netsuite', accountId: '1234567_SB1', type: null });
    expect(
      reconnectAction({
        ...base,
        status: 'active',
        reconnectUrl: null,
        reconnectWith: null,
        reconnectType: null,
      }),
    ).toBeNull();
  });

  it('the reconnect form is prefilled with the account and says it reconnects', () => {
    const info = connectorAvailability(parseNetsuiteConfig(env) as never, connectorFor('netsuite' as never));
    const html = renderToStaticMarkup(
      <CredentialConnect
        tenant="acme"
        info={info}
        onConnected={() => {}}
        reconnect={{ accountId: '1234567_SB1', type: 'tba' }}
      />,
    );
    expect(html).toContain('data-testid="reconnect-form-1234567_SB1"');
    expect(html).toMatch(/<input[^>]*value="1234567_SB1"/);
    // The secrets are not prefilled.
    expect(html).not.toMatch(/type="password"[^>]*value="[^"]/);
    const fresh = renderToStaticMarkup(
      <CredentialConnect tenant="acme" info={info} onConnected={() => {}} />,
    );
    expect(fresh).not.toContain('1234567_SB1');
  });

  it("a NetSuite account's row is named with its host", () => {
    const info = { quickbooks: { demo: null }, netsuite: { displayName: 'Oracle NetSuite' } } as never;
    expect(connectionName({ externalId: '1234567_SB1', provider: 'netsuite' }, info)).toBe(
      'Oracle NetSuite account 1234567_SB1',
    );
    expect(connectionName({ externalId: '7', provider: 'quickbooks' }, info)).toBe('Company 7');
  });

  describe('one card per provider', () => {
    const netsuiteInfo = connectorAvailability(
      parseNetsuiteConfig(env) as never,
      connectorFor('netsuite' as never),
    );
    const integrations = {
      quickbooks: {
        provider: 'quickbooks',
        displayName: 'QuickBooks Online',
        mode: 'demo',
        methods: ['oauth'],
        connectUrl: '/connect/quickbooks',
        credentialFields: [],
        permissions: [],
        pollMinutes: null,
        note: null,
        demo: { realmId: '9130300020261127', customers: 150, invoices: 5000 },
      },
      netsuite: netsuiteInfo,
    } as Integrations;
    const conn = (over: Partial<Connection>): Connection => ({
      id: 'c1',
      provider: 'quickbooks',
      externalId: '9130300020261127',
      status: 'active',
      statusReason: null,
      reconnectUrl: null,
      pingSecretAvailable: false,
      reconnectWith: null,
      reconnectType: null,
      lastSyncAt: null,
      refreshExpiresAt: null,
      createdAt: '2026-11-27T09:00:00Z',
      lastRun: null,
      runningSync: null,
      ...over,
    });
    const loaded = <T,>(data: T | null, error: Error | null = null) =>
      ({ data, error, loading: false, reload: () => {} }) as Loaded<T>;
    /** The rendered page's cards by title: each card's HTML. */
    const cards = (
      items: Connection[],
      info: Integrations | null = integrations,
      error: Error | null = null,
    ) => {
      const html = renderToStaticMarkup(
        <ProviderCards
          tenant="acme"
          conns={loaded({ items })}
          integrations={loaded(info, error)}
          onChange={() => {}}
          reconnect={null}
          onReconnect={() => {}}
          onConnected={() => {}}
        />,
      );
      const out = new Map<string, string>();
      for (const part of html.split('<section').slice(1)) {
        out.set(/aria-label="([^"]+)"/.exec(part)![1]!, part);
      }
      return out;
    };

    it("a NetSuite connection shows under the connector's NetSuite heading, never under QuickBooks", () => {
      const soon = new Date(Date.now() + 24 * 3600_000).toISOString();
      const got = cards([
        conn({
          id: 'n1',
          provider: 'netsuite',
          externalId: '1234567_SB1',
          refreshExpiresAt: soon,
          reconnectWith: 'oauth',
        }),
      ]);
      expect([...got.keys()]).toEqual(['QuickBooks Online', 'Oracle NetSuite']);
      const ns = got.get('Oracle NetSuite')!;
      const qb = got.get('QuickBooks Online')!;
      expect(ns).toContain('<h2 class="card-title">Oracle NetSuite</h2>');
      expect(ns).toContain('data-testid="connection-1234567_SB1"');
      expect(ns).toContain('Oracle NetSuite account 1234567_SB1');
      // Its 7-day grant's lapse warning is in its own card, with a reconnect to NetSuite.
      expect(ns).toContain('data-testid="expiry-warning"');
      expect(ns).toContain('href="/connect/netsuite?account=1234567_SB1"');
      expect(ns).toContain('data-testid="connect-netsuite"');
      // Its row is not in QuickBooks' card (which only names it as the company this one holds).
      expect(qb).not.toContain('data-testid="connection-1234567_SB1"');
      expect(qb.replace(/<p[^>]*data-testid="one-company-note"[\s\S]*?<\/p>/, '')).not.toContain(
        '1234567_SB1',
      );
      expect(qb).not.toContain('expiry-warning');
      // The demo company offer is QuickBooks' and nowhere else; this company holds a NetSuite account's books, so
      // it is not offered there either (one Duely company, one company's books: below).
      expect(qb).not.toContain('data-testid="demo-offer"');
      expect(ns).not.toContain('demo-offer');
      expect(cards([]).get('QuickBooks Online')).toContain('data-testid="demo-offer"');
      expect(ns).not.toContain('QuickBooks');
    });

    it('each provider lists only its own rows, with its own status', () => {
      const got = cards([
        conn({ id: 'q1', status: 'reconnect_needed', reconnectUrl: '/connect/quickbooks' }),
        conn({ id: 'n1', provider: 'netsuite', externalId: '1234567_SB1' }),
      ]);
      const qb = got.get('QuickBooks Online')!;
      const ns = got.get('Oracle NetSuite')!;
      expect(qb).toContain('data-testid="connection-9130300020261127"');
      expect(qb).toContain('Demo company');
      expect(qb).toMatch(/QuickBooks Online\s+no longer accepts/);
      // The demo company is connected: its offer steps back, and NetSuite's card stays free of it.
      expect(qb).not.toContain('data-testid="demo-offer"');
      expect(ns).not.toContain('9130300020261127');
      expect(ns).not.toContain('no longer accepts');
      expect(ns).toContain('data-testid="connection-1234567_SB1"');
    });

    it("a company that holds a company's books is offered no connect of another: only its own Reconnect", () => {
      // One Duely company holds one company's books: the server refuses another (tenant_holds_other_books), so
      // neither "Connect to QuickBooks", the demo offer nor NetSuite's form for a new account is offered once it
      // holds one; before, every one of them was, and each could only end in a refusal.
      const none = cards([]);
      expect(none.get('QuickBooks Online')).toContain('data-testid="demo-offer"');
      expect(none.get('Oracle NetSuite')).toContain('<form');
      expect(none.get('Oracle NetSuite')).toContain('Connect with OAuth 2.0');

      const held = cards([conn({ id: 'n1', provider: 'netsuite', externalId: '1234567_SB1' })]);
      const qb = held.get('QuickBooks Online')!;
      const ns = held.get('Oracle NetSuite')!;
      expect(qb).not.toContain('data-testid="demo-offer"');
      expect(qb).not.toContain('href="/connect/quickbooks"');
      expect(ns).not.toContain('<form');
      expect(ns).not.toContain('Connect with OAuth 2.0');
      for (const card of [qb, ns]) {
        expect(card).toContain('data-testid="one-company-note"');
        expect(card).toContain('Oracle NetSuite account 1234567_SB1');
      }

      // Disconnected in Duely, it is still this company's: its row offers Reconnect (the server renews that same
      // connection), and nothing else.
      const off = cards([
        conn({
          id: 'q1',
          externalId: '777',
          status: 'disconnected',
          reconnectUrl: '/connect/quickbooks',
          reconnectWith: 'oauth',
        }),
      ]).get('QuickBooks Online')!;
      expect(off).toMatch(/<a class="btn" href="\/connect\/quickbooks" target="_top">Reconnect<\/a>/);
      expect(off).not.toContain('Connect to QuickBooks');
      expect(off).not.toContain('data-testid="demo-offer"');

      // The form of a credential connection's Reconnect is for its own account only: the account is not editable.
      const form = renderToStaticMarkup(
        <ProviderCards
          tenant="acme"
          conns={loaded({
            items: [
              conn({
                id: 'n1',
                provider: 'netsuite',
                externalId: '1234567_SB1',
                status: 'reconnect_needed',
                reconnectWith: 'credentials',
                reconnectType: 'tba',
              }),
            ],
          })}
          integrations={loaded(integrations)}
          onChange={() => {}}
          reconnect={{ provider: 'netsuite', accountId: '1234567_SB1', type: 'tba', n: 1 }}
          onReconnect={() => {}}
          onConnected={() => {}}
        />,
      );
      expect(form).toContain('data-testid="reconnect-form-1234567_SB1"');
      expect(form).toMatch(
        /<input[^>]*readOnly=""[^>]*value="1234567_SB1"|<input[^>]*value="1234567_SB1"[^>]*readOnly=""/,
      );
    });

    it('sections follow the registry; a provider no longer offered keeps its rows under its id', () => {
      expect(providerSections(integrations, []).map((s) => [s.provider, s.title])).toEqual([
        ['quickbooks', 'QuickBooks Online'],
        ['netsuite', 'Oracle NetSuite'],
      ]);
      expect(
        providerSections(null, [conn({ provider: 'xero', externalId: 'x1' })]).map((s) => s.title),
      ).toEqual(['QuickBooks Online', 'xero']);
    });
  });

  it("asks the connect's first admin (a placeholder address) for their email, and nobody else", () => {
    const session = (email: string | null, id: string | null = 'u1') =>
      ({ user: id ? { id, method: 'connect', email, name: null } : null }) as never;
    expect(needsOwnEmail(session('netsuite-7654321@users.invalid'))).toBe(true);
    expect(needsOwnEmail(session('controller@example.com'))).toBe(false);
    expect(needsOwnEmail(session(null, null))).toBe(false);
    const html = renderToStaticMarkup(<OwnEmail session={session('netsuite-7654321@users.invalid')} />);
    expect(html).toContain('type="email"');
    expect(html).toContain('Send confirmation link');
    expect(renderToStaticMarkup(<OwnEmail session={session('controller@example.com')} />)).toBe('');
  });
});
