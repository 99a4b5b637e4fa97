/** The Connections page's sync logic (progress bar, finished message, polling) and its pieces rendered to HTML. */
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { DEMO_RESTARTED } from '../../src/demo-company';
import { RoleContext } from '../../src/web/lib/role';
import type { Connection, Integrations, SyncRunView } from '../../src/web/lib/types';
import type { Loaded } from '../../src/web/lib/use-api';
import { disconnectMessage } from '../../src/web/pages/connections/DisconnectButton';
import { ProviderCards } from '../../src/web/pages/connections/ProviderCards';
import { connectionName, QuickbooksConnect } from '../../src/web/pages/connections/QuickbooksConnect';
import { SyncProgressBar } from '../../src/web/pages/connections/SyncProgressBar';
import {
  finishedRun,
  syncFinishedMessage,
  syncOvertakenMessage,
  syncPending,
  syncProgressView,
  syncRefusedMessage,
} from '../../src/web/pages/connections/sync-progress';

const e = (rows: number, done: boolean, total?: number) => ({
  pages: rows ? 1 : 0,
  rows,
  done,
  ...(total === undefined ? {} : { total }),
});

const run = (over: Partial<SyncRunView> = {}): SyncRunView => ({
  id: 'r1',
  kind: 'full',
  status: 'running',
  startedAt: '2026-11-27T10:00:00Z',
  finishedAt: null,
  progress: { entities: {} },
  stats: {},
  error: null,
  ...over,
});

const conn = (over: Partial<Connection> = {}): Connection => ({
  id: 'c1',
  provider: 'quickbooks',
  externalId: '9130300020261127',
  status: 'active',
  statusReason: null,
  reconnectUrl: null,
  pingSecretAvailable: false,
  lastSyncAt: null,
  refreshExpiresAt: null,
  createdAt: '2026-11-27T09:00:00Z',
  lastRun: null,
  runningSync: null,
  ...over,
});

describe('syncProgressView', () => {
  it('queued (no run yet): indeterminate, waiting', () => {
    expect(syncProgressView(null)).toMatchObject({ determinate: false, percent: null, rows: 0 });
    expect(syncProgressView(null).text).toMatch(/Waiting/);
  });

  it('full sync without totals: determinate by kinds done, with the rows read so far', () => {
    const v = syncProgressView(
      run({
        progress: {
          entities: {
            customers: e(20, true),
            invoices: e(150, false),
            creditMemos: e(0, false),
            payments: e(0, false),
          },
        },
      }),
    );
    expect(v).toMatchObject({
      determinate: true,
      value: 1,
      max: 4,
      percent: 25,
      rows: 170,
      current: 'invoices',
    });
    expect(v.text).toBe('1 of 4 kinds done, reading invoices: 20 customers, 150 invoices');
  });

  it('full sync at its very start counts the four kinds even before progress lists them', () => {
    const v = syncProgressView(run({ progress: { entities: {} } }));
    expect(v).toMatchObject({ determinate: true, value: 0, max: 4, percent: 0, current: 'customers' });
    expect(v.text).toMatch(/nothing read yet/);
  });

  it('all done: 100%', () => {
    const all = {
      customers: e(2, true),
      invoices: e(3, true),
      creditMemos: e(0, true),
      payments: e(1, true),
    };
    expect(syncProgressView(run({ progress: { entities: all } }))).toMatchObject({
      value: 4,
      max: 4,
      percent: 100,
      current: null,
    });
  });

  it('totals known: determinate by rows, capped at each total', () => {
    const v = syncProgressView(
      run({
        kind: 'incremental',
        progress: { entities: { customers: e(20, true, 20), invoices: e(250, false, 200) } },
      }),
    );
    expect(v).toMatchObject({ determinate: true, value: 220, max: 220, percent: 100 });
    const half = syncProgressView(
      run({ progress: { entities: { customers: e(10, false, 20), invoices: e(0, false, 180) } } }),
    );
    expect(half).toMatchObject({ value: 10, max: 200, percent: 5 });
    expect(half.text).toBe('10 of 200 records (5%): 10 customers');
  });

  it('incremental sync without totals: indeterminate with counts', () => {
    const v = syncProgressView(
      run({
        kind: 'incremental',
        progress: { entities: { invoices: e(3, false), payments: e(1_200, false) } },
      }),
    );
    expect(v).toMatchObject({ determinate: false, percent: null, rows: 1_203 });
    expect(v.text).toBe('Reading changes: 3 invoices, 1,200 payments');
  });
});

describe('syncFinishedMessage', () => {
  it('counts from the run stats, falling back to rows read', () => {
    expect(
      syncFinishedMessage(
        run({
          status: 'succeeded',
          stats: { customers: 20, invoices: 200, payments: 160, pages: 7 },
          progress: { entities: { creditMemos: e(14, true) } },
        }),
      ),
    ).toBe('Sync finished: 20 customers, 200 invoices, 14 credit memos, 160 payments.');
  });

  it('says why a run failed', () => {
    expect(syncFinishedMessage(run({ status: 'failed', error: 'QuickBooks is unavailable' }))).toBe(
      'Sync failed: QuickBooks is unavailable',
    );
  });
});

describe('"Sync now" refused: the connection changed since the page loaded it', () => {
  // A background call (e.g. reading pay links) met the revoked grant and marked the connection before the user
  // pressed "Sync now" (seen on Postgres): the row says why, and the page reloads into the reconnect prompt.
  it('a 409 reconnect_needed or disconnected answer is said on the row', () => {
    const msg = 'The connection needs to be reconnected before it can sync.';
    expect(syncRefusedMessage({ status: 409, code: 'reconnect_needed', message: msg })).toBe(
      `Sync failed: ${msg}`,
    );
    expect(
      syncRefusedMessage({ status: 409, code: 'disconnected', message: 'The connection is disconnected.' }),
    ).toBe('Sync failed: The connection is disconnected.');
  });

  it('any other error stays a banner', () => {
    expect(syncRefusedMessage({ status: 500, code: 'internal', message: 'boom' })).toBeNull();
    expect(syncRefusedMessage({ status: 409, code: 'conflict', message: 'other' })).toBeNull();
    expect(syncRefusedMessage({ status: 403, code: 'forbidden', message: 'viewer' })).toBeNull();
  });
});

describe('polling: pending and finished', () => {
  it('pending while running, while the first sync after connecting is queued, or after "Sync now"', () => {
    expect(syncPending(conn())).toBe(true);
    expect(syncPending(conn({ runningSync: run() }))).toBe(true);
    const synced = conn({ lastRun: run({ status: 'succeeded' }), lastSyncAt: '2026-11-27T10:01:00Z' });
    expect(syncPending(synced)).toBe(false);
    expect(syncPending(synced, 'r1')).toBe(true);
    expect(syncPending({ ...synced, lastRun: run({ id: 'r2', status: 'succeeded' }) }, 'r1')).toBe(false);
    expect(syncPending(conn({ status: 'disconnected' }))).toBe(false);
    expect(syncPending(conn({ status: 'reconnect_needed' }))).toBe(false);
    // The grant was rejected mid-run: the run is still being recorded.
    expect(syncPending(conn({ status: 'reconnect_needed', runningSync: run() }))).toBe(true);
  });

  it('a run finished between two polls: the new last run, once', () => {
    const before = conn({ runningSync: run() });
    const after = conn({ lastRun: run({ status: 'succeeded' }) });
    expect(finishedRun(before, after)?.id).toBe('r1');
    expect(finishedRun(after, after)).toBeNull();
    expect(finishedRun(before, before)).toBeNull();
    // Queued → finished without ever being seen running.
    expect(finishedRun(conn(), after)?.id).toBe('r1');
  });

  it('a requested sync overtaken by a revoked grant or a disconnect is answered on the row, once', () => {
    // "Sync now" was pressed (last run r1); a background job met the revoked grant before the sync started, and the
    // worker skipped the queued sync without recording a run (stop 26's CI: the row said nothing).
    const last = run({ status: 'succeeded' });
    const before = conn({ lastRun: last, lastSyncAt: '2026-11-27T10:01:00Z' });
    const marked = { ...before, status: 'reconnect_needed' as const };
    expect(syncOvertakenMessage(before, marked)).toMatch(
      /^Sync failed: .*no longer accepts Duely.s access.*Reconnect/,
    );
    expect(syncOvertakenMessage(before, { ...before, status: 'disconnected' })).toMatch(
      /^Sync failed: the connection was disconnected/,
    );
    // Still active, still being recorded, or a run finished (its own message): nothing from here.
    expect(syncOvertakenMessage(before, before)).toBeNull();
    expect(syncOvertakenMessage(before, { ...marked, runningSync: run() })).toBeNull();
    expect(
      syncOvertakenMessage(before, {
        ...marked,
        lastRun: run({ id: 'r2', status: 'failed', error: 'revoked' }),
      }),
    ).toBeNull();
    // Already marked when the poll before was taken: said once, not on every poll.
    expect(syncOvertakenMessage(marked, marked)).toBeNull();
  });
});

describe('rendered pieces', () => {
  it('a determinate bar has role progressbar and its values; an indeterminate one has no valuenow', () => {
    const html = renderToStaticMarkup(
      <SyncProgressBar
        name="Demo company"
        run={run({ progress: { entities: { customers: e(20, true), invoices: e(40, false) } } })}
      />,
    );
    expect(html).toContain('role="progressbar"');
    expect(html).toContain('aria-valuenow="1"');
    expect(html).toContain('aria-valuemax="4"');
    expect(html).toContain('aria-label="Sync of Demo company"');
    expect(html).toContain('width:25%');
    const waiting = renderToStaticMarkup(<SyncProgressBar name="X" run={null} />);
    expect(waiting).toContain('role="progressbar"');
    expect(waiting).not.toContain('aria-valuenow');
    expect(waiting).toContain('progress-indeterminate');
  });

  /** The fields every connector's availability has; the cases below vary QuickBooks' own. */
  const qbBase = {
    provider: 'quickbooks',
    displayName: 'QuickBooks Online',
    methods: [],
    credentialFields: [],
    permissions: [],
    pollMinutes: null,
  } satisfies Partial<Integrations['quickbooks']>;
  const loaded = (
    quickbooks: Omit<Integrations['quickbooks'], keyof typeof qbBase> | null,
    error: Error | null = null,
  ) =>
    ({
      data: quickbooks ? { quickbooks: { ...qbBase, ...quickbooks } } : null,
      error,
      loading: false,
      reload: () => {},
    }) as Loaded<Integrations>;

  it('offers the demo company, a real connect button, or the server’s reason', () => {
    const demo = renderToStaticMarkup(
      <QuickbooksConnect
        info={loaded({
          mode: 'demo',
          connectUrl: '/connect/quickbooks',
          demo: { realmId: '1', customers: 150, invoices: 5000 },
          note: null,
        })}
      />,
    );
    expect(demo).toContain('Try the demo company');
    expect(demo).toContain('150 customers and 5,000 invoices');
    expect(demo).toContain('target="_top"');
    expect(demo).not.toContain('Connect to QuickBooks');
    // Once the demo company is connected here, its row takes over: only the hint about a real app stays.
    const connected = renderToStaticMarkup(
      <QuickbooksConnect
        connected={['1']}
        info={loaded({
          mode: 'demo',
          connectUrl: '/connect/quickbooks',
          demo: { realmId: '1', customers: 150, invoices: 5000 },
          note: null,
        })}
      />,
    );
    expect(connected).not.toContain('Try the demo company');
    expect(connected).toContain('QUICKBOOKS_CLIENT_ID');
    const live = renderToStaticMarkup(
      <QuickbooksConnect
        info={loaded({ mode: 'live', connectUrl: '/connect/quickbooks', demo: null, note: null })}
      />,
    );
    expect(live).toContain('Connect to QuickBooks');
    expect(live).not.toContain('demo');
    const none = renderToStaticMarkup(
      <QuickbooksConnect
        info={loaded({
          mode: 'unconfigured',
          connectUrl: null,
          demo: null,
          note: 'needs the single-process mode',
        })}
      />,
    );
    expect(none).toContain('needs the single-process mode');
    expect(none).not.toContain('href');
  });

  it('names the demo connection and words the disconnect result', () => {
    const info = {
      quickbooks: {
        ...qbBase,
        mode: 'demo' as const,
        connectUrl: '/x',
        demo: { realmId: '42', customers: 1, invoices: 1 },
        note: null,
      },
    };
    expect(connectionName({ externalId: '42' }, info)).toBe('Demo company');
    expect(connectionName({ externalId: '7' }, info)).toBe('Company 7');
    expect(disconnectMessage('Demo company', { id: 'c', status: 'disconnected', revoked: true })).toMatch(
      /revoked at QuickBooks/,
    );
    expect(disconnectMessage('X', { id: 'c', status: 'disconnected', revoked: false })).toMatch(
      /could not confirm/,
    );
  });

  it('a connection to reconnect says why in words, not the provider error; the restarted demo company says so', () => {
    const rows = (info: Loaded<Integrations>, statusReason: string) =>
      renderToStaticMarkup(
        <RoleContext.Provider value="admin">
          <ProviderCards
            tenant="acme"
            conns={{
              data: {
                items: [
                  conn({
                    externalId: '42',
                    status: 'reconnect_needed',
                    statusReason,
                    reconnectUrl: '/connect/quickbooks',
                  }),
                ],
              },
              error: null,
              loading: false,
              reload: () => {},
            }}
            integrations={info}
            onChange={() => {}}
            reconnect={null}
            onReconnect={() => {}}
            onConnected={() => {}}
          />
        </RoleContext.Provider>,
      );
    const demo = rows(
      loaded({
        mode: 'demo',
        connectUrl: '/connect/quickbooks',
        demo: { realmId: '42', customers: 1, invoices: 1 },
        note: null,
      }),
      DEMO_RESTARTED,
    );
    expect(demo).not.toContain('invalid_grant');
    expect(demo).toMatch(/demo company lives in memory and started afresh when Duely restarted/);
    expect(demo).toContain('>Reconnect<');
    // Revoked or expired (the demo company's too): the provider's error stays off the page.
    const live = rows(
      loaded({ mode: 'live', connectUrl: '/connect/quickbooks', demo: null, note: null }),
      'connection c1 needs to be reconnected: refresh token rejected (invalid_grant)',
    );
    expect(live).not.toContain('invalid_grant');
    expect(live).toMatch(
      /no longer accepts Duely.{1,6}s access to this company \(it was revoked or has expired\)/,
    );
  });

  it('offers Sync now to collectors and admins, Connect, Reconnect and Disconnect to admins only', () => {
    const info = loaded({ mode: 'live', connectUrl: '/connect/quickbooks', demo: null, note: null });
    const conns = {
      data: {
        items: [
          conn({
            lastSyncAt: '2026-11-27T10:05:00Z',
            lastRun: run({ status: 'succeeded', finishedAt: '2026-11-27T10:05:00Z' }),
          }),
          conn({
            id: 'c2',
            externalId: '42',
            status: 'reconnect_needed',
            reconnectUrl: '/connect/quickbooks',
          }),
          conn({ id: 'c3', externalId: '43', pingSecretAvailable: true }),
        ],
      },
      error: null,
      loading: false,
      reload: () => {},
    } as Loaded<{ items: Connection[] }>;
    const page = (role: 'viewer' | 'collector' | 'admin') =>
      renderToStaticMarkup(
        <RoleContext.Provider value={role}>
          <ProviderCards
            tenant="acme"
            conns={conns}
            integrations={info}
            onChange={() => {}}
            reconnect={null}
            onReconnect={() => {}}
            onConnected={() => {}}
          />
        </RoleContext.Provider>,
      );
    const admin = page('admin');
    for (const offered of ['Sync now', 'Disconnect', 'Reconnect', 'Show the ping key']) {
      expect(admin).toContain(offered);
    }
    // This company holds a company's books: no connect of another (the server refuses it); one holding none is
    // offered the connect (tests/web/credential-connect.test.tsx, "one card per provider").
    expect(admin).not.toContain('Connect to QuickBooks');
    expect(admin).toContain('data-testid="one-company-note"');
    expect(
      renderToStaticMarkup(
        <RoleContext.Provider value="admin">
          <ProviderCards
            tenant="acme"
            conns={{ ...conns, data: { items: [] } }}
            integrations={info}
            onChange={() => {}}
            reconnect={null}
            onReconnect={() => {}}
            onConnected={() => {}}
          />
        </RoleContext.Provider>,
      ),
    ).toContain('Connect to QuickBooks');
    expect(admin.match(/Show the ping key/g)).toHaveLength(1);
    const collector = page('collector');
    expect(collector).toContain('Sync now');
    const viewer = page('viewer');
    expect(viewer).not.toContain('Sync now');
    for (const html of [collector, viewer]) {
      // The rows stay readable; what the server would refuse is not offered.
      expect(html).toContain('data-testid="connection-42"');
      for (const refused of [
        'Disconnect',
        '>Reconnect<',
        'Connect to QuickBooks',
        'href="/connect/',
        'Show the ping key',
      ]) {
        expect(html).not.toContain(refused);
      }
    }
  });
});
