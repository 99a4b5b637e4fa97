/** The Connections page's credential connect (e.g. NetSuite) and the lapse warning, rendered to HTML. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { connectorAvailability } from '../../src/demo-company';
import { connectorFor } from '../../connectors';
import { parseNetsuiteConfig } from '../../connectors/netsuite';
import { expiryWarning, reconnectAction } from '../../src/web/pages/connections/ConnectionList';
import { CredentialConnect } from '../../src/web/pages/connections/CredentialConnect';
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
});
