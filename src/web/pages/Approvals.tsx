import { useEffect, useId, useRef, useState } from 'react';
import {
  type DunningMessage,
  EmailFrame,
  MessageWhy,
  messageInvoices,
  messageTotal,
  type RenderedEmail,
} from '../components/dunning';
import { Empty, ErrorBanner, Loading, PageHeader } from '../components/ui';
import { api, apiPath } from '../lib/api';
import { formatDate, formatInstant, formatMoney } from '../lib/format';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../nav';
import '../components/dunning.css';

interface Task {
  id: string;
  customerId: string;
  kind: 'call' | 'find_contact' | 'review';
  title: string;
  dueOn: string | null;
  messageId: string | null;
  customer: { name: string; emails: string[] };
  talkingPoints: {
    openItems?: { number: string; dueDate: string; daysOverdue: number; openMinor: number; currency: string }[];
    predictions?: { number: string; pLate: number; predictedPayDate: string; riskBand: string; reasons: string[] }[];
    customerRisk?: { score: number; slowingAlert: boolean; message: string | null } | null;
    lastContacts?: { at: string; tone: string | null; status: string; deliveryStatus: string | null; reason: string }[];
    history?: { paidInvoices: number; avgDaysLate: number | null };
  };
}

export function ApprovalsPage({ tenant }: PageProps) {
  const list = useApi<{ items: DunningMessage[] }>(
    apiPath(tenant, 'dunning/messages', { status: 'awaiting_approval', limit: 200 }),
  );
  const tasks = useApi<{ items: Task[] }>(apiPath(tenant, 'dunning/tasks'));
  const [items, setItems] = useState<DunningMessage[]>([]);
  const [taskItems, setTaskItems] = useState<Task[]>([]);
  const [announce, setAnnounce] = useState('');
  // After a card goes away (approved, skipped, done), focus its section so keyboard users keep their place.
  const approvalsHeading = useRef<HTMLHeadingElement>(null);
  const callsHeading = useRef<HTMLHeadingElement>(null);
  useEffect(() => setItems(list.data?.items ?? []), [list.data]);
  useEffect(() => setTaskItems(tasks.data?.items ?? []), [tasks.data]);

  return (
    <>
      <PageHeader
        title="Approvals"
        subtitle="Reminders waiting for a person, and the call list"
        actions={
          <button
            type="button"
            className="btn btn-secondary"
            onClick={() => {
              list.reload();
              tasks.reload();
            }}
          >
            Refresh
          </button>
        }
      />
      <div role="status" aria-live="polite" className="sr-only">
        {announce}
      </div>
      <section aria-labelledby="approvals-h">
        <h2 id="approvals-h" className="section-title" tabIndex={-1} ref={approvalsHeading}>
          Waiting for approval {list.data ? <span className="muted">({items.length})</span> : null}
        </h2>
        {list.loading && !list.data ? <Loading label="Loading messages…" /> : null}
        <ErrorBanner error={list.error} />
        {list.data && items.length === 0 ? <Empty>Nothing is waiting for approval.</Empty> : null}
        {items.map((m) => (
          <ApprovalCard
            key={m.id}
            tenant={tenant}
            m={m}
            onDecided={(what) => {
              setItems((xs) => xs.filter((x) => x.id !== m.id));
              setAnnounce(`Message to ${m.to.join(', ')} ${what}.`);
              approvalsHeading.current?.focus();
            }}
            onEdited={(next) => setItems((xs) => xs.map((x) => (x.id === next.id ? next : x)))}
          />
        ))}
      </section>
      <section aria-labelledby="calls-h">
        <h2 id="calls-h" className="section-title" tabIndex={-1} ref={callsHeading}>
          Call list {tasks.data ? <span className="muted">({taskItems.length})</span> : null}
        </h2>
        {tasks.loading && !tasks.data ? <Loading label="Loading call list…" /> : null}
        <ErrorBanner error={tasks.error} />
        {tasks.data && taskItems.length === 0 ? <Empty>No open calls or follow-ups.</Empty> : null}
        {taskItems.map((t) => (
          <TaskCard
            key={t.id}
            tenant={tenant}
            t={t}
            onDone={() => {
              setTaskItems((xs) => xs.filter((x) => x.id !== t.id));
              setAnnounce(`Task “${t.title}” done.`);
              callsHeading.current?.focus();
            }}
          />
        ))}
      </section>
    </>
  );
}

function ApprovalCard(props: {
  tenant: string;
  m: DunningMessage;
  onDecided: (what: string) => void;
  onEdited: (m: DunningMessage) => void;
}) {
  const { tenant, m } = props;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [mode, setMode] = useState<'none' | 'edit' | 'skip' | 'preview'>('none');
  const [rendered, setRendered] = useState<RenderedEmail | null>(null);
  const [subject, setSubject] = useState(m.editedSubject ?? '');
  const [intro, setIntro] = useState(m.editedIntro ?? '');
  const [skipReason, setSkipReason] = useState('');
  const ids = { h: useId(), subject: useId(), intro: useId(), skip: useId() };
  const path = (suffix: string) => apiPath(tenant, `dunning/messages/${encodeURIComponent(m.id)}${suffix}`);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  };
  const loadRendered = () =>
    run(async () => {
      setRendered(await api.get<RenderedEmail>(path('/rendered')));
    });

  return (
    <article className="card" aria-labelledby={ids.h} data-testid="approval">
      <div className="msg-card-head">
        <h3 id={ids.h}>
          To {m.to.join(', ')} <span className="muted small">· {messageInvoices(m)}</span>
        </h3>
        <span className="msg-amount">{messageTotal(m)}</span>
      </div>
      <p className="small muted">
        {m.tone ? `${m.tone[0]!.toUpperCase()}${m.tone.slice(1)} ${m.template}` : m.template} · would send{' '}
        {formatInstant(m.sendAt)}
        {m.editedSubject || m.editedIntro ? ' · edited' : ''}
      </p>
      <MessageWhy m={m} />
      <ErrorBanner error={error} />
      <div className="msg-actions">
        <button
          type="button"
          className="btn"
          disabled={busy}
          onClick={() =>
            run(async () => {
              await api.post(path('/approve'));
              props.onDecided('approved and queued');
            })
          }
        >
          Approve<span className="sr-only"> message to {m.to.join(', ')}</span>
        </button>
        <button
          type="button"
          className="btn btn-secondary"
          aria-expanded={mode === 'edit'}
          onClick={() => setMode(mode === 'edit' ? 'none' : 'edit')}
        >
          Edit<span className="sr-only"> message to {m.to.join(', ')}</span>
        </button>
        <button
          type="button"
          className="btn btn-secondary"
          aria-expanded={mode === 'preview'}
          onClick={() => {
            const next = mode === 'preview' ? 'none' : 'preview';
            setMode(next);
            if (next === 'preview') loadRendered();
          }}
        >
          {mode === 'preview' ? 'Hide email' : 'Show email'}
        </button>
        <button
          type="button"
          className="btn btn-danger"
          aria-expanded={mode === 'skip'}
          onClick={() => setMode(mode === 'skip' ? 'none' : 'skip')}
        >
          Skip<span className="sr-only"> message to {m.to.join(', ')}</span>
        </button>
      </div>
      {mode === 'edit' ? (
        <form
          className="edit-form"
          aria-label="Edit message"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              const next = await api.request<DunningMessage>(
                'PATCH',
                path(''),
                JSON.stringify({ subject: subject.trim() || null, intro: intro.trim() || null }),
                'application/json',
              );
              props.onEdited(next);
              setMode('preview');
              await loadRendered();
            });
          }}
        >
          <div className="field">
            <label htmlFor={ids.subject}>Subject (blank = the template's)</label>
            <input id={ids.subject} value={subject} maxLength={200} onChange={(e) => setSubject(e.target.value)} />
          </div>
          <div className="field">
            <label htmlFor={ids.intro}>Introduction (added before the template's text)</label>
            <textarea id={ids.intro} value={intro} maxLength={2000} onChange={(e) => setIntro(e.target.value)} />
          </div>
          <div className="field-actions field">
            <button type="submit" className="btn" disabled={busy}>
              Save edits
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setMode('none')}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {mode === 'skip' ? (
        <form
          className="edit-form"
          aria-label="Skip message"
          onSubmit={(e) => {
            e.preventDefault();
            run(async () => {
              await api.post(path('/skip'), skipReason.trim() ? { reason: skipReason.trim() } : {});
              props.onDecided('skipped');
            });
          }}
        >
          <div className="field">
            <label htmlFor={ids.skip}>Reason (optional)</label>
            <input id={ids.skip} value={skipReason} maxLength={500} onChange={(e) => setSkipReason(e.target.value)} />
          </div>
          <div className="field-actions field">
            <button type="submit" className="btn btn-danger" disabled={busy}>
              Skip this message
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => setMode('none')}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
      {mode === 'preview' ? (
        rendered ? (
          <div>
            <p className="small">
              <strong>Subject:</strong> {rendered.subject}
            </p>
            <EmailFrame html={rendered.html} title={`Email to ${m.to.join(', ')}: ${rendered.subject}`} height={460} />
          </div>
        ) : busy ? (
          <Loading label="Rendering email…" />
        ) : null
      ) : null}
    </article>
  );
}

function TaskCard({ tenant, t, onDone }: { tenant: string; t: Task; onDone: () => void }) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const ids = { h: useId(), note: useId() };
  const tp = t.talkingPoints;
  return (
    <article className="card" aria-labelledby={ids.h} data-testid="task">
      <div className="msg-card-head">
        <h3 id={ids.h}>{t.title}</h3>
        <span className="small muted">
          {t.kind.replace(/_/g, ' ')} · due {formatDate(t.dueOn)}
        </span>
      </div>
      <p className="small">
        <strong>{t.customer.name}</strong>
        {t.customer.emails.length ? ` · ${t.customer.emails.join(', ')}` : ' · no email on file'}
      </p>
      <div className="task-points">
        {tp.openItems?.length ? (
          <div>
            <h4>Open items</h4>
            <ul className="plain">
              {tp.openItems.map((o) => (
                <li key={o.number}>
                  {o.number}: {formatMoney(o.openMinor, o.currency)}
                  {o.daysOverdue > 0 ? `, ${o.daysOverdue} days overdue` : `, due ${formatDate(o.dueDate)}`}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {tp.predictions?.length || tp.customerRisk ? (
          <div>
            <h4>Model</h4>
            {tp.customerRisk?.message ? <p className="small">{tp.customerRisk.message}</p> : null}
            <ul className="plain">
              {(tp.predictions ?? []).slice(0, 5).map((p) => (
                <li key={p.number}>
                  {p.number}: {Math.round(p.pLate * 100)}% likely late, expected {formatDate(p.predictedPayDate)}
                  {p.reasons.length ? <span className="muted"> ({p.reasons.slice(0, 2).join('; ')})</span> : null}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {tp.lastContacts?.length ? (
          <div>
            <h4>Last contacts</h4>
            <ul className="plain">
              {tp.lastContacts.map((c) => (
                <li key={`${c.at}-${c.status}`}>
                  {formatInstant(c.at)}: {c.tone ?? 'message'} {c.status}
                  {c.deliveryStatus ? ` (${c.deliveryStatus})` : ''}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {tp.history ? (
          <div>
            <h4>History</h4>
            <p className="small">
              {tp.history.paidInvoices} paid invoices
              {tp.history.avgDaysLate !== null ? `, on average ${tp.history.avgDaysLate.toFixed(1)} days late` : ''}
            </p>
          </div>
        ) : null}
      </div>
      <ErrorBanner error={error} />
      <form
        className="filters"
        aria-label={`Complete ${t.title}`}
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await api.post(apiPath(tenant, `dunning/tasks/${t.id}/done`), note.trim() ? { note: note.trim() } : {});
            onDone();
          } catch (err) {
            setError(err as Error);
          } finally {
            setBusy(false);
          }
        }}
      >
        <div className="field">
          <label htmlFor={ids.note}>Note (optional)</label>
          <input id={ids.note} value={note} maxLength={2000} onChange={(e) => setNote(e.target.value)} />
        </div>
        <div className="field field-actions">
          <button type="submit" className="btn btn-secondary" disabled={busy}>
            Done
          </button>
        </div>
      </form>
    </article>
  );
}
