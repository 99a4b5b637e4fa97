/** The Connections page's credential connect (e.g. NetSuite) and the lapse warning, rendered to HTML. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { connectorAvailability } from '../../src/demo-company';
import { connectorFor } from '../../connectors';
import { parseNetsuiteConfig } from '../../connectors/netsuite';
import { expiryWarning } from '../../src/web/pages/connections/ConnectionList';
import { CredentialConnect } from '../../src/web/pages/connections/CredentialConnect';

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
});
