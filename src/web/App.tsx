import { useCallback, useEffect, useId, useRef, useState } from 'react';
import { Empty, ErrorBanner, Link, Loading } from './components/ui';
import { ApiError, api, type SessionInfo } from './lib/api';
import type { ImportResult } from './lib/contracts';
import { displayZone, setDisplayZone } from './lib/format';
import { RoleContext } from './lib/role';
import { matchRoute, navigate, useLocation } from './lib/router';
import type { Tenant } from './lib/types';
import { navEntries } from './nav';
import { CsvFormatHint, NewCompanyCsvForm } from './pages/connections/csv-upload';
import { QuickbooksConnectCard } from './pages/connections/QuickbooksConnect';

const TENANT_KEY = 'duely.tenant';

/** The tenant to show: the session's own, else the last chosen (if still visible), else the first. */
export function pickTenant(session: SessionInfo, tenants: Tenant[], remembered: string | null): Tenant | null {
  if (session.tenant) return tenants.find((t) => t.id === session.tenant!.id) ?? null;
  return tenants.find((t) => t.slug === remembered) ?? tenants[0] ?? null;
}

function SignedOut() {
  return (
    <main className="signed-out" id="main">
      <div className="card signin-card">
        <div className="brand brand-lg">Duely</div>
        <h1>Sign in</h1>
        <p className="muted">Your session has ended or this browser is not signed in.</p>
        <p>
          <a className="btn" href="/login">
            Sign in
          </a>
        </p>
        <p className="muted small">On the sign-in page you can have a link emailed to you, or sign in with Intuit.</p>
      </div>
    </main>
  );
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null>(null);
  const [tenants, setTenants] = useState<Tenant[] | null>(null);
  const [tenantSlug, setTenantSlug] = useState<string | null>(() => localStorage.getItem(TENANT_KEY));
  const [error, setError] = useState<Error | null>(null);
  const [signedOut, setSignedOut] = useState(false);
  /** The upload that created a company, shown on the page the switch to it lands on (its form is gone by then). */
  const [imported, setImported] = useState<{ slug: string; result: ImportResult } | null>(null);
  const { pathname } = useLocation();
  const switcherId = useId();
  const mainRef = useRef<HTMLElement>(null);
  const firstPath = useRef(pathname);

  // After client-side navigation, move focus to the page (screen readers announce it) and name the tab.
  useEffect(() => {
    const label = navEntries.find((e) => e.name === matchRoute(navEntries, pathname)?.name)?.label;
    document.title = label ? `${label} · Duely` : 'Duely';
    if (pathname !== firstPath.current) mainRef.current?.focus({ preventScroll: true });
  }, [pathname]);

  const loadTenants = useCallback(async () => {
    const r = await api.get<{ items: Tenant[] }>('/api/v1/tenants');
    // Back from connecting a company (/connections?company=<slug>): show that one, not the one open before.
    const url = new URL(location.href);
    const arrived = url.searchParams.get('company');
    if (arrived !== null) {
      if (r.items.some((t) => t.slug === arrived)) {
        localStorage.setItem(TENANT_KEY, arrived);
        setTenantSlug(arrived);
      }
      url.searchParams.delete('company');
      history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`);
    }
    setTenants(r.items);
    return r.items;
  }, []);

  useEffect(() => {
    api
      .session()
      .then(async (s) => {
        setSession(s);
        await loadTenants();
      })
      .catch((err: Error) => {
        if (err instanceof ApiError && err.status === 401) setSignedOut(true);
        else setError(err);
      });
  }, [loadTenants]);

  const chooseTenant = (slug: string) => {
    localStorage.setItem(TENANT_KEY, slug);
    setTenantSlug(slug);
  };
  /** A CSV uploaded as a new company (Connections): show that company, and what was imported. */
  const onCompanyCreated = async (slug: string, result: ImportResult) => {
    setImported({ slug, result });
    chooseTenant(slug);
    await loadTenants();
  };

  if (signedOut) return <SignedOut />;
  if (error) return <ErrorBanner error={error} />;
  if (!session || !tenants) return <Loading label="Loading Duely…" />;

  const tenant = pickTenant(session, tenants, tenantSlug);
  // One zone for every time shown: the company's, named once in the header (lib/format.ts).
  setDisplayZone(tenant?.timezone);
  const match = matchRoute(navEntries, pathname);
  const entry = navEntries.find((e) => e.name === match?.name);
  const needsTenant = entry && entry.name !== 'connections' && entry.name !== 'settings';

  const role = session.role ?? 'admin';
  const shell = (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          Duely
        </Link>
        <nav aria-label="Main" className="nav">
          <ul>
            {navEntries
              .filter((e) => !e.hidden)
              .map((e) => {
                const current =
                  match?.name === e.name || (e.name === 'customers' && match?.name === 'customer') ? 'page' : undefined;
                return (
                  <li key={e.name}>
                    <Link href={e.pattern} aria-current={current} className="nav-link">
                      {e.label}
                    </Link>
                  </li>
                );
              })}
          </ul>
        </nav>
        <div className="tenant-switch">
          {session.operator && tenants.length > 1 ? (
            <>
              <label htmlFor={switcherId} className="small muted">
                Company
              </label>
              <select
                id={switcherId}
                value={tenant?.slug ?? ''}
                onChange={(e) => {
                  setImported(null);
                  chooseTenant(e.target.value);
                  if (match?.name === 'customer') navigate('/customers');
                }}
              >
                {tenants.map((t) => (
                  <option key={t.id} value={t.slug}>
                    {t.name}
                  </option>
                ))}
              </select>
            </>
          ) : tenant ? (
            <span className="tenant-name">{tenant.name}</span>
          ) : null}
          {session.user?.email || session.user?.name ? (
            <span className="small muted signed-in-as">Signed in as {session.user.name ?? session.user.email}</span>
          ) : null}
        </div>
      </header>
      <main id="main" className="content" tabIndex={-1} ref={mainRef}>
        {tenant ? (
          <p className="small muted time-zone" data-testid="time-zone">
            Times in {displayZone()}
          </p>
        ) : null}
        {role === 'viewer' ? (
          <p className="role-note" role="note">
            You have view-only access. Ask an admin of this company for the collector role to approve reminders or
            change anything.
          </p>
        ) : null}
        {!entry ? (
          <Empty>
            This page does not exist. <Link href="/">Go to the dashboard</Link>.
          </Empty>
        ) : entry.name === 'connections' && !tenant ? (
          <FirstImport onImported={onCompanyCreated} />
        ) : needsTenant && !tenant ? (
          <Empty>
            No company yet. <Link href="/connections">Connect QuickBooks or upload a CSV</Link> to start.
          </Empty>
        ) : (
          <entry.component
            key={`${tenant?.slug}|${entry.name}`}
            tenant={tenant?.slug ?? ''}
            currency={tenant?.currency ?? 'USD'}
            params={match?.params ?? {}}
            onCompanyCreated={onCompanyCreated}
            imported={imported && imported.slug === tenant?.slug ? imported.result : undefined}
          />
        )}
      </main>
    </div>
  );
  return <RoleContext.Provider value={role}>{shell}</RoleContext.Provider>;
}

/** The first import of an operator with no company yet: the CSV creates it under the given name. */
function FirstImport({ onImported }: { onImported: (slug: string, result: ImportResult) => Promise<void> }) {
  return (
    <>
      <header className="page-header">
        <div>
          <h1>Connections</h1>
          <p className="subtitle">Bring in your first ledger</p>
        </div>
      </header>
      <div className="chart-grid">
        <QuickbooksConnectCard />
        <section className="card" aria-label="Upload a CSV">
          <h2 className="card-title">Upload a CSV</h2>
          <CsvFormatHint />
          <NewCompanyCsvForm onImported={onImported} />
        </section>
      </div>
    </>
  );
}
