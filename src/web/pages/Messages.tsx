import { useEffect, useId, useRef, useState } from 'react';
import {
  type DunningMessage,
  EmailFrame,
  MessageBadge,
  type MessageStatus,
  MessageWhy,
  messageInvoices,
  messageStatusLabel,
  messageTotal,
  type RenderedEmail,
} from '../components/dunning';
import { ExportLink, SearchBox, SortHeader, useList, useQueryState } from '../components/list';
import { Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { api, apiPath } from '../lib/api';
import { displayZone, formatInstant } from '../lib/format';
import { useLocation } from '../lib/router';
import type { PageProps } from '../page-props';
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
/** The filter names a status as its badge does: "Would send", not "planned"; "Awaiting approval", not "awaiting approval". */
const sentenceCase = (t: string) => `${t.charAt(0).toUpperCase()}${t.slice(1)}`;
const PARAMS = ['status', 'q', 'sort', 'from', 'to', 'tone', 'customer'] as const;

type Row = DunningMessage & { customerName?: string; amountMinor?: number };

export function MessagesPage({ tenant }: PageProps) {
  const state = useQueryState(PARAMS);
  const params = state.params;
  const status = params.status ?? '';
  // Newest first by what the first column shows (the send time), not by when the message was planned.
  const sort = params.sort ?? '-sendAt';
  const list = useList<Row>(tenant, 'dunning/messages', params, 100);
  const rows = list.rows;
  const [error, setError] = useState<Error | null>(null);
  // /messages?message=<id> (links from a customer's timeline) opens that message, even when it is not in the list.
  const linked = useLocation().search.get('message');
  const [openId, setOpenId] = useState<string | null>(linked);
  const [linkedMessage, setLinkedMessage] = useState<DunningMessage | null>(null);
  const ids = { status: useId(), from: useId(), to: useId() };
  useEffect(() => {
    if (!linked) return;
    setOpenId(linked);
    api
      .get<DunningMessage>(apiPath(tenant, `dunning/messages/${encodeURIComponent(linked)}`))
      .then(setLinkedMessage, (e: Error) => setError(e));
  }, [tenant, linked]);
  // A new filter closes the open message; the first load keeps a linked one open.
  const filteredBy = useRef(JSON.stringify(params));
  useEffect(() => {
    const key = JSON.stringify(params);
    if (filteredBy.current !== key) setOpenId(null);
    filteredBy.current = key;
  });
  const onSort = (s: string) => state.set({ sort: s });
  const zone = displayZone();

  const open = rows.find((r) => r.id === openId) ?? (linkedMessage?.id === openId ? linkedMessage : null);
  return (
    <>
      <PageHeader
        title="Messages"
        subtitle="Outbox and log: every reminder with its customer, status, delivery and reason"
        actions={
          <>
            <ExportLink tenant={tenant} resource="dunning/messages" params={params} />
            <button type="button" className="btn btn-secondary" onClick={() => list.reload()}>
              Refresh
            </button>
          </>
        }
      />
      <search className="filters" aria-label="Filter messages">
        <SearchBox
          label="Search"
          placeholder="Customer, recipient, invoice number"
          value={params.q ?? ''}
          onSearch={(q) => state.set({ q: q || null })}
        />
        <div className="field">
          <label htmlFor={ids.status}>Status</label>
          <select
            id={ids.status}
            value={status}
            onChange={(e) => state.set({ status: e.target.value || null })}
          >
            <option value="">All</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {sentenceCase(messageStatusLabel(s))}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={ids.from}>Sent from</label>
          <input
            id={ids.from}
            type="date"
            value={params.from ?? ''}
            onChange={(e) => state.set({ from: e.target.value || null })}
          />
        </div>
        <div className="field">
          <label htmlFor={ids.to}>to</label>
          <input
            id={ids.to}
            type="date"
            value={params.to ?? ''}
            onChange={(e) => state.set({ to: e.target.value || null })}
          />
        </div>
      </search>
      <ErrorBanner error={list.error ?? error} />
      <div aria-live="polite" className="sr-only">
        {list.loading ? 'Loading messages' : `${rows.length} of ${list.answer?.total ?? 0} messages shown`}
      </div>
      {list.answer ? (
        <p className="list-totals" data-testid="list-totals">
          <span>
            <strong>{list.answer.total}</strong> messages
          </span>
        </p>
      ) : null}
      {open ? <MessageDetail key={open.id} tenant={tenant} m={open} onClose={() => setOpenId(null)} /> : null}
      {rows.length ? (
        <div className="table-wrap">
          <table className="table message-table list-table" data-testid="messages-table">
            <caption className="sr-only">Dunning messages</caption>
            <thead>
              <tr>
                <SortHeader
                  label={`Send time (${zone})`}
                  sortKey="sendAt"
                  sort={sort}
                  onSort={onSort}
                  firstDesc
                />
                <SortHeader label="Customer" sortKey="customer" sort={sort} onSort={onSort} />
                <th scope="col">Recipient</th>
                <SortHeader label="Status" sortKey="status" sort={sort} onSort={onSort} />
                <th scope="col">Delivery</th>
                <th scope="col">Invoices</th>
                <SortHeader
                  label="Amount"
                  sortKey="amount"
                  sort={sort}
                  onSort={onSort}
                  className="num"
                  firstDesc
                />
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
                  <td className="name-cell">
                    <Link href={`/customers/${encodeURIComponent(m.customerId)}`}>
                      {m.customerName ?? 'Customer'}
                    </Link>
                  </td>
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
      {!list.loading && !list.error && rows.length === 0 ? (
        PARAMS.some((p) => p !== 'sort' && params[p]) ? (
          <Empty>No messages{status ? ` with status ${status.replace(/_/g, ' ')}` : ''} match.</Empty>
        ) : (
          // A new company's outbox: not "no messages match" (no filter is set), but why there are none yet.
          <Empty>
            No messages yet. Duely plans a reminder when an invoice is due or overdue and its customer has an
            email address; customers without one are on the{' '}
            <Link href="/calls?kind=find_contact">Call list</Link>.
          </Empty>
        )
      ) : null}
      {list.loading ? <Loading label="Loading messages…" /> : null}
      {list.hasMore && !list.loading ? (
        <div className="more">
          <button type="button" className="btn btn-secondary" onClick={list.loadMore}>
            Load more ({rows.length} of {list.answer?.total})
          </button>
        </div>
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
        <dt>
          {m.sentAt ? 'Sent' : 'Send time'} ({displayZone()})
        </dt>
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
