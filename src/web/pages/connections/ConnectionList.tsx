/**
 * A tenant's ledger connections: status, reconnect prompt, "Sync now", Disconnect, and a live progress bar. While
 * a sync is pending (running, queued right after connecting, or asked for with "Sync now") the list polls every
 * second and stops when none is; a sync seen finishing says so ("Sync finished: …").
 */
import { useEffect, useRef, useState } from 'react';
import { Badge, ErrorBanner } from '../../components/ui';
import { ApiError, api, apiPath } from '../../lib/api';
import { formatInstant } from '../../lib/format';
import { useCan } from '../../lib/role';
import type { Connection, Integrations } from '../../lib/types';
import type { Loaded } from '../../lib/use-api';
import { DisconnectButton, disconnectMessage } from './DisconnectButton';
import { PingSecret } from './PingSecret';
import { connectionName } from './QuickbooksConnect';
import { SyncProgressBar } from './SyncProgressBar';
import {
  finishedRun,
  syncFinishedMessage,
  syncOvertakenMessage,
  syncPending,
  syncRefusedMessage,
} from './sync-progress';
import { useInterval } from './use-interval';

const POLL_MS = 1000;
/** Warn this long before a connection's grant lapses (NetSuite OAuth 2.0 refresh tokens live 7 days). */
export const EXPIRY_WARNING_MS = 48 * 3600_000;

/** "Reconnect before …" when the grant lapses within EXPIRY_WARNING_MS (or has lapsed), else null. */
export function expiryWarning(
  c: Pick<Connection, 'status' | 'refreshExpiresAt'>,
  now = Date.now(),
): string | null {
  if (c.status !== 'active' || !c.refreshExpiresAt) return null;
  const left = Date.parse(c.refreshExpiresAt) - now;
  if (left > EXPIRY_WARNING_MS) return null;
  return left <= 0
    ? 'Duely’s access to this company has lapsed. Reconnect to resume syncing.'
    : `Duely’s access to this company lapses ${formatInstant(c.refreshExpiresAt)}: reconnect before then to keep syncing (or switch to token-based authentication, which does not lapse).`;
}
/** The status reason the server gives a demo connection after a restart (src/demo-company.ts DEMO_RESTARTED). */
const DEMO_RESTARTED = 'the demo company started afresh with the server';

/**
 * Why a connection asks to be reconnected, in a controller's words: the demo company (in memory) started afresh with
 * the server; otherwise the company no longer accepts Duely's access (revoked or expired, the provider's invalid_grant).
 */
export function reconnectNote(
  c: Pick<Connection, 'provider' | 'statusReason'>,
  info: Integrations | null,
): string {
  const held = 'reminders are held until then, since balances cannot be checked.';
  if (c.statusReason === DEMO_RESTARTED) {
    return `The demo company lives in memory and started afresh when Duely restarted, so its earlier connection no longer works. Reconnect to load it again; ${held}`;
  }
  const name =
    (info as Record<string, { displayName?: string } | undefined> | null)?.[c.provider]?.displayName ??
    'The ledger';
  return `${name} no longer accepts Duely's access to this company (it was revoked or has expired). Reconnect to resume syncing; ${held}`;
}

/** What a connection's Reconnect does: re-enter the credential form for its account, or go through OAuth. */
export type ReconnectAction =
  | { kind: 'form'; provider: string; accountId: string; type: string | null }
  | { kind: 'link'; href: string };

export function reconnectAction(
  c: Pick<
    Connection,
    'status' | 'provider' | 'externalId' | 'reconnectUrl' | 'reconnectWith' | 'reconnectType'
  >,
): ReconnectAction | null {
  // Disconnected in Duely, the connection is still this company's: the same company comes back on it (the page offers
  // no connect of another: one Duely company holds one company's books).
  if (c.status !== 'reconnect_needed' && c.status !== 'disconnected') return null;
  if (c.reconnectWith === 'credentials') {
    return { kind: 'form', provider: c.provider, accountId: c.externalId, type: c.reconnectType ?? null };
  }
  return c.reconnectUrl ? { kind: 'link', href: c.reconnectUrl } : null;
}

/** The connections of one provider (all of them when `provider` is absent), in the API's order. */
export function ownConnections(list: Connection[], provider: string | undefined): Connection[] {
  return provider ? list.filter((c) => c.provider === provider) : list;
}

/** A sync queued this long without starting: say where syncs run. */
const NOT_STARTED_HINT_MS = 30_000;

interface Note {
  tone: 'ok' | 'error';
  text: string;
}

export function ConnectionList(props: {
  tenant: string;
  /** GET …/connections, loaded by the page (it also decides what to offer from it). */
  conns: Loaded<{ items: Connection[] }>;
  info: Integrations | null;
  /** A sync started or finished, or a connection changed: the page refreshes what depends on it (the runs table). */
  onChange: () => void;
  /** Reconnect of a connection made with a credential form: the page opens that form for the account. */
  onReconnect?: (action: Extract<ReconnectAction, { kind: 'form' }>) => void;
  /** Only this provider's connections (each provider's card lists its own); all of them when absent. */
  provider?: string;
}) {
  const { tenant, conns, info, onChange, onReconnect, provider } = props;
  const own = (list: Connection[]) => ownConnections(list, provider);
  // Offered only to who may do them (the server refuses the rest): syncing to collectors, the rest to admins.
  const maySync = useCan('collector');
  const mayChange = useCan('admin');
  /** "Sync now" asked: connection id → the id of its last run at the time (null: none yet). */
  const [requested, setRequested] = useState<Record<string, string | null>>({});
  const [notes, setNotes] = useState<Record<string, Note>>({});
  const [error, setError] = useState<Error | null>(null);
  const previous = useRef<Connection[] | null>(null);
  const waitingSince = useRef(new Map<string, number>());
  /** Connections disconnected from this page: a sync that was running then ends with it, and says nothing over it. */
  const disconnectedHere = useRef(new Set<string>());

  // The connections API belongs to the QuickBooks sync; a 404 means this server does not have it.
  const missing = conns.error instanceof ApiError && conns.error.status === 404;
  // A failed poll keeps the last list on screen (and the polling going) rather than blanking it.
  const lastGood = useRef<Connection[]>([]);
  if (conns.data) lastGood.current = own(conns.data.items);
  const items = missing ? [] : lastGood.current;
  const pending = (c: Connection) => syncPending(c, requested[c.id]);
  useInterval(conns.reload, items.some(pending) ? POLL_MS : null);

  useEffect(() => {
    const now = Date.now();
    if (!conns.data) return;
    const raw = conns.data.items;
    const after = ownConnections(raw, provider);
    for (const c of after) {
      if (syncPending(c, requested[c.id]) && !c.runningSync) {
        if (!waitingSince.current.has(c.id)) waitingSince.current.set(c.id, now);
      } else waitingSince.current.delete(c.id);
    }
    const beforeRaw = previous.current;
    previous.current = raw;
    if (!beforeRaw || beforeRaw === raw) return;
    const before = ownConnections(beforeRaw, provider);
    const started = after.some(
      (c) => c.runningSync && c.runningSync.id !== before.find((x) => x.id === c.id)?.runningSync?.id,
    );
    if (started) onChange();
    const done: Record<string, Note> = {};
    for (const c of after) {
      const b = before.find((x) => x.id === c.id);
      if (!b || !syncPending(b, requested[c.id])) continue;
      // Its "disconnected" note stays: before, a sync running when the admin disconnected finished a moment later and
      // its "Sync finished: 0 customers, …" replaced the note saying Duely's access was revoked.
      if (c.status === 'disconnected' && disconnectedHere.current.has(c.id)) continue;
      const run = finishedRun(b, c);
      if (run)
        done[c.id] = { tone: run.status === 'succeeded' ? 'ok' : 'error', text: syncFinishedMessage(run) };
      else {
        const overtaken = syncOvertakenMessage(b, c);
        if (overtaken) done[c.id] = { tone: 'error', text: overtaken };
      }
    }
    if (Object.keys(done).length === 0) return;
    setNotes((n) => ({ ...n, ...done }));
    setRequested((r) => Object.fromEntries(Object.entries(r).filter(([id]) => !(id in done))));
    onChange();
  }, [conns.data, requested, onChange, provider]);

  const syncNow = async (c: Connection) => {
    setError(null);
    try {
      await api.post(apiPath(tenant, `connections/${c.id}/sync`));
      setRequested((r) => ({ ...r, [c.id]: c.lastRun?.id ?? null }));
      setNotes(({ [c.id]: _dropped, ...rest }) => rest);
      conns.reload();
    } catch (err) {
      // The connection changed since this page loaded it (e.g. a background call found the grant revoked): show
      // why on the row and reload, so the reconnect prompt replaces the stale "Sync now".
      const refused = err instanceof ApiError ? syncRefusedMessage(err) : null;
      if (refused === null) {
        setError(err as Error);
        return;
      }
      setNotes((n) => ({ ...n, [c.id]: { tone: 'error', text: refused } }));
      conns.reload();
      onChange();
    }
  };

  if (items.length === 0) return missing ? null : <ErrorBanner error={conns.error} />;
  return (
    <>
      <ul className="plain conn-list" data-testid="connections">
        {items.map((c) => {
          const name = connectionName(c, info);
          const isPending = pending(c);
          const since = waitingSince.current.get(c.id);
          const note = notes[c.id];
          return (
            <li key={c.id} className="conn-item" data-testid={`connection-${c.externalId}`}>
              <div className="conn">
                <div>
                  <strong>{name}</strong> <Badge value={c.status} />
                  <div className="muted small">
                    Last sync {formatInstant(c.lastSyncAt)}
                    {/* A reconnect's reason is the provider's error ("invalid_grant"): the banner below says it in words. */}
                    {c.statusReason && c.status === 'disconnected' ? ` · ${c.statusReason}` : ''}
                  </div>
                </div>
                <div className="conn-actions">
                  {(() => {
                    const action = mayChange ? reconnectAction(c) : null;
                    if (!action) return null;
                    if (action.kind === 'form') {
                      return (
                        <button
                          type="button"
                          className="btn"
                          data-testid={`reconnect-${c.externalId}`}
                          onClick={() => onReconnect?.(action)}
                        >
                          Reconnect
                        </button>
                      );
                    }
                    // OAuth pages refuse to be framed: leave the iframe for the consent screen.
                    return (
                      <a className="btn" href={action.href} target="_top">
                        Reconnect
                      </a>
                    );
                  })()}
                  {maySync && c.status === 'active' ? (
                    <button
                      type="button"
                      className="btn btn-secondary"
                      disabled={isPending}
                      onClick={() => syncNow(c)}
                    >
                      {isPending ? 'Syncing…' : 'Sync now'}
                    </button>
                  ) : null}
                  {mayChange && c.status !== 'disconnected' ? (
                    <DisconnectButton
                      tenant={tenant}
                      connectionId={c.id}
                      name={name}
                      onDone={(r) => {
                        disconnectedHere.current.add(c.id);
                        setNotes((n) => ({ ...n, [c.id]: { tone: 'ok', text: disconnectMessage(name, r) } }));
                        setRequested(({ [c.id]: _dropped, ...rest }) => rest);
                        conns.reload();
                        onChange();
                      }}
                    />
                  ) : null}
                </div>
              </div>
              {c.status === 'reconnect_needed' ? (
                <p className="banner banner-warn" role="note" data-testid="reconnect-note">
                  {reconnectNote(c, info)}
                </p>
              ) : null}
              {expiryWarning(c) ? (
                <p className="banner banner-warn" role="note" data-testid="expiry-warning">
                  {expiryWarning(c)}{' '}
                  {mayChange ? (
                    <a
                      href={`/connect/${c.provider}?account=${encodeURIComponent(c.externalId)}`}
                      target="_top"
                    >
                      Reconnect
                    </a>
                  ) : null}
                </p>
              ) : null}
              {mayChange && c.status === 'active' && c.pingSecretAvailable ? (
                <PingSecret tenant={tenant} connectionId={c.id} />
              ) : null}
              {isPending ? <SyncProgressBar run={c.runningSync} name={name} /> : null}
              {isPending &&
              !c.runningSync &&
              since !== undefined &&
              Date.now() - since > NOT_STARTED_HINT_MS ? (
                <p className="small muted">
                  The sync has not started yet. Syncs run in Duely's worker: check that it is running.
                </p>
              ) : null}
              {/* Always present, so screen readers announce what appears in it. */}
              <div role="status" aria-live="polite" className="conn-status">
                {note ? <div className={`banner banner-${note.tone}`}>{note.text}</div> : null}
              </div>
            </li>
          );
        })}
      </ul>
      <ErrorBanner error={error ?? (missing ? null : conns.error)} />
    </>
  );
}
