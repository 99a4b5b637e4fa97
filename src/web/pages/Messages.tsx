import { useEffect, useId, useRef, useState } from 'react';
import {
  type DunningMessage,
  EmailFrame,
  MessageBadge,
  type MessageStatus,
  MessageWhy,
  messageInvoices,
  messageTotal,
  type RenderedEmail,
} from '../components/dunning';
import { Empty, ErrorBanner, Loading, PageHeader } from '../components/ui';
import { api, apiPath } from '../lib/api';
import { formatInstant } from '../lib/format';
import { useLocation } from '../lib/router';
import type { PageProps } from '../nav';
import '../components/dunning.css';

const STATUSES: MessageStatus[] = [
  'planned',
  'awaiting_approval',
  'queued',
  'sending',
  'sent',
  'skipped',
  'failed',
];
/** The API's maximum. No "load more": messages planned together share a created_at, so the API's `before` cursor
 * could skip some of them; the page says when the list is cut off instead. */
const LIMIT = 500;

export function MessagesPage({ tenant }: PageProps) {
  const [status, setStatus] = useState('');
  const [rows, setRows] = useState<DunningMessage[]>([]);
  const [cut, setCut] = useState(false);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<Error | null>(null);
  // /messages?message=<id> (links from a customer's timeline) opens that message, even when it is not in the list.
  const linked = useLocation().search.get('message');
  const [openId, setOpenId] = useState<string | null>(linked);
  const [linkedMessage, setLinkedMessage] = useState<DunningMessage | null>(null);
  const statusId = useId();
  useEffect(() => {
    if (!linked) return;
    setOpenId(linked);
    api
      .get<DunningMessage>(apiPath(tenant, `dunning/messages/${encodeURIComponent(linked)}`))
      .then(setLinkedMessage, (e: Error) => setError(e));
  }, [tenant, linked]);

  // Only the latest request may fill the table: an earlier, slower answer (the unfiltered list requested before
  // the filter changed) must not overwrite the filtered one.
  const latest = useRef(0);
  const load = async () => {
    const request = ++latest.current;
    setLoading(true);
    setError(null);
    try {
      const r = await api.get<{ items: DunningMessage[] }>(
        apiPath(tenant, 'dunning/messages', { status, limit: LIMIT }),
      );
      if (request !== latest.current) return;
      setRows(r.items);
      setCut(r.items.length === LIMIT);
    } catch (e) {
      if (request === latest.current) setError(e as Error);
    } finally {
      if (request === latest.current) setLoading(false);
    }
  };
  // A new filter closes the open message; the first load (and React re-running effects) keeps a linked one open.
  const filteredBy = useRef(status);
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload on tenant or filter change only
  useEffect(() => {
    if (filteredBy.current !== status) setOpenId(null);
    filteredBy.current = status;
    load();
  }, [tenant, status]);

  const open = rows.find((r) => r.id === openId) ?? (linkedMessage?.id === openId ? linkedMessage : null);
  return (
    <>
      <PageHeader
        title="Messages"
        subtitle="Outbox and log: every reminder with its status, delivery and reason"
        actions={
          <button type="button" className="btn btn-secondary" onClick={() => load()}>
            Refresh
          </button>
        }
      />
      <div className="filters">
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select id={statusId} value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBanner error={error} />
      <div aria-live="polite" className="sr-only">
        {loading ? 'Loading messages' : `${rows.length} messages shown`}
      </div>
      {open ? <MessageDetail key={open.id} tenant={tenant} m={open} onClose={() => setOpenId(null)} /> : null}
      {rows.length ? (
        <div className="table-wrap">
          <table className="table message-table" data-testid="messages-table">
            <caption className="sr-only">Dunning messages, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Send time</th>
                <th scope="col">Recipient</th>
                <th scope="col">Status</th>
                <th scope="col">Delivery</th>
                <th scope="col">Invoices</th>
                <th scope="col" className="num">
                  Amount
                </th>
                <th scope="col">Reason</th>
                <th scope="col">
                  <span className="sr-only">Open</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.id} aria-selected={m.id === openId}>
                  <td>{formatInstant(m.sentAt ?? m.sendAt)}</td>
                  <td className="wrap-cell">{m.to.join(', ')}</td>
                  <td>
                    <MessageBadge status={m.status} />
                    {m.kind !== 'reminder' ? <span className="muted small"> {m.kind}</span> : null}
                  </td>
                  <td>
                    {m.deliveryStatus ?? (m.events.length ? m.events.at(-1)!.type : '—')}
                    {m.providerId?.startsWith('outbox:') ? (
                      <span className="muted small"> (outbox)</span>
                    ) : null}
                  </td>
                  <td className="wrap-cell">{messageInvoices(m)}</td>
                  <td className="num">{messageTotal(m)}</td>
                  <td className="reason-cell">
                    {m.why.statusReason && m.status !== 'sent'
                      ? `${m.why.reason} — ${m.why.statusReason}`
                      : m.why.reason}
                  </td>
                  <td>
                    <button type="button" className="btn btn-ghost" onClick={() => setOpenId(m.id)}>
                      Open<span className="sr-only"> message to {m.to.join(', ')}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {!loading && !error && rows.length === 0 ? (
        <Empty>No messages{status ? ` with status ${status.replace(/_/g, ' ')}` : ''} yet.</Empty>
      ) : null}
      {loading ? <Loading label="Loading messages…" /> : null}
      {cut && !loading ? (
        <p className="note">Showing the newest {LIMIT} messages. Filter by status to see others.</p>
      ) : null}
    </>
  );
}

function MessageDetail({ tenant, m, onClose }: { tenant: string; m: DunningMessage; onClose: () => void }) {
  const [email, setEmail] = useState<RenderedEmail | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [view, setView] = useState<'html' | 'text'>('html');
  const ref = useRef<HTMLElement>(null);
  const h = useId();

  useEffect(() => {
    ref.current?.focus();
    let live = true;
    api.get<RenderedEmail>(apiPath(tenant, `dunning/messages/${encodeURIComponent(m.id)}/rendered`)).then(
      (r) => live && setEmail(r),
      (e: Error) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [tenant, m.id]);

  return (
    <section className="card" aria-labelledby={h} tabIndex={-1} ref={ref} data-testid="message-detail">
      <div className="msg-card-head">
        <h2 id={h} className="card-title">
          {email?.subject ?? m.subject ?? 'Message'} <MessageBadge status={m.status} />
        </h2>
        <button type="button" className="btn btn-ghost" onClick={onClose}>
          Close
        </button>
      </div>
      <dl className="facts why">
        <dt>To</dt>
        <dd>{m.to.join(', ')}</dd>
        <dt>{m.sentAt ? 'Sent' : 'Send time'}</dt>
        <dd>{formatInstant(m.sentAt ?? m.sendAt)}</dd>
        {m.providerId ? (
          <>
            <dt>Provider id</dt>
            <dd className="mono">{m.providerId}</dd>
          </>
        ) : null}
        {m.error ? (
          <>
            <dt>Error</dt>
            <dd className="error-text">{m.error}</dd>
          </>
        ) : null}
        <dt>Delivery events</dt>
        <dd>
          {m.events.length ? (
            <ul className="events">
              {m.events.map((e) => (
                <li key={`${e.type}-${e.at}`}>
                  {e.type} · {formatInstant(e.at)}
                  {e.detail ? <span className="muted"> — {e.detail}</span> : null}
                </li>
              ))}
            </ul>
          ) : (
            <span className="muted">none recorded</span>
          )}
        </dd>
      </dl>
      <MessageWhy m={m} />
      <ErrorBanner error={error} />
      {email ? (
        <>
          <fieldset className="segmented">
            <legend className="sr-only">Email format</legend>
            <button type="button" aria-pressed={view === 'html'} onClick={() => setView('html')}>
              HTML
            </button>
            <button type="button" aria-pressed={view === 'text'} onClick={() => setView('text')}>
              Text
            </button>
          </fieldset>
          {m.status !== 'sent' ? (
            <p className="note">Not sent yet: this is the email as it would be sent now.</p>
          ) : null}
          {view === 'html' ? (
            <EmailFrame html={email.html} title={`Email: ${email.subject}`} />
          ) : (
            <pre className="email-text" data-testid="email-text">
              {email.text}
            </pre>
          )}
        </>
      ) : error ? null : (
        <Loading label="Loading email…" />
      )}
    </section>
  );
}
