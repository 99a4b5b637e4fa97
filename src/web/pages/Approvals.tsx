import { useId, useRef, useState } from 'react';
import {
  type DunningMessage,
  EmailFrame,
  MessageWhy,
  messageInvoices,
  messageTotal,
  type RenderedEmail,
  TONES,
} from '../components/dunning';
import {
  BulkBar,
  type BulkResult,
  bulkSummary,
  bulkTarget,
  type Params,
  SearchBox,
  useList,
  useQueryState,
  useSelection,
} from '../components/list';
import { Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { formatAmountInput, parseAmountInput } from '../lib/amount-input';
import { ApiError, api, apiPath, canWork } from '../lib/api';
import { displayZone, formatInstant } from '../lib/format';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../page-props';
import '../components/dunning.css';

/**
 * When the card's message would go. A planned send time already past (the message waited for this approval) is not
 * "would send 9:28 AM" at 9:40: once approved it takes the next sending slot.
 */
export function sendTimeWords(sendAt: string, now = Date.now()): string {
  const at = `${formatInstant(sendAt)} (${displayZone()})`;
  return new Date(sendAt).getTime() <= now
    ? `planned for ${at}, now passed: once approved it goes at the next sending time`
    : `would send ${at}`;
}

type Row = DunningMessage & { customerName?: string; amountMinor?: number };

const PARAMS = ['q', 'tone', 'minAmountMinor', 'sort'] as const;

/**
 * After an approve refused as changed (409 message_changed): the message as it reads now, to be read again, or null
 * when it no longer waits for approval — withdrawn by a re-plan (deleted, or held) or planned again as needing none —
 * and its card goes. Before, a deleted message's reload answered 404 and the card showed "not found" instead.
 */
export async function reloadChanged(get: () => Promise<DunningMessage>): Promise<DunningMessage | null> {
  try {
    const m = await get();
    return m.status === 'awaiting_approval' ? m : null;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

export function ApprovalsPage({ tenant, currency }: PageProps) {
  const state = useQueryState(PARAMS);
  const params: Params = { ...state.params, status: 'awaiting_approval' };
  const sort = params.sort ?? 'sendAt';
  const list = useList<Row>(tenant, 'dunning/messages', { ...params, sort }, 100);
  const calls = useApi<{ total: number }>(apiPath(tenant, 'dunning/tasks', { limit: 1 }));
  const selection = useSelection(JSON.stringify(params));
  const [announce, setAnnounce] = useState('');
  const [busy, setBusy] = useState(false);
  const [bulkError, setBulkError] = useState<Error | null>(null);
  const [skipReason, setSkipReason] = useState('');
  const [amount, setAmount] = useState(
    params.minAmountMinor ? formatAmountInput(Number(params.minAmountMinor), currency) : '',
  );
  const ids = { tone: useId(), amount: useId(), reason: useId(), sort: useId() };
  const work = canWork();
  // After a card goes away (approved, skipped), focus the section so keyboard users keep their place.
  const approvalsHeading = useRef<HTMLHeadingElement>(null);
  const items = list.rows;
  const total = list.answer?.total ?? 0;
  const pageIds = items.map((m) => m.id);
  const allOnPage = pageIds.length > 0 && pageIds.every((id) => selection.sel.ids.has(id));
  const remove = (gone: string[]) => {
    const g = new Set(gone);
    list.drop((x) => g.has(x.id));
  };

  const bulk = async (action: 'approve' | 'skip') => {
    setBusy(true);
    setBulkError(null);
    try {
      const r = await api.post<BulkResult & { appliedIds: string[] }>(
        apiPath(tenant, 'dunning/messages/bulk'),
        {
          action,
          ...bulkTarget(selection.sel, params),
          // What each selected card showed: one planned again since (other figures, recipients) is left, with why.
          ...(action === 'approve' && !selection.sel.allMatching
            ? {
                versions: Object.fromEntries(
                  items.filter((m) => selection.sel.ids.has(m.id)).map((m) => [m.id, m.approvalVersion]),
                ),
              }
            : {}),
          // "All N matching": the cards loaded as they showed, and when the list was read for the others; one
          // planned, planned again or edited since is left, with why.
          ...(action === 'approve' && selection.sel.allMatching
            ? {
                versions: Object.fromEntries(items.map((m) => [m.id, m.approvalVersion])),
                ...(typeof list.answer?.listedAt === 'string' ? { listedAt: list.answer.listedAt } : {}),
                ...(typeof list.answer?.listedSnapshot === 'string'
                  ? { listedSnapshot: list.answer.listedSnapshot }
                  : {}),
              }
            : {}),
          ...(action === 'skip' && skipReason.trim() ? { reason: skipReason.trim() } : {}),
        },
      );
      setAnnounce(bulkSummary(r, action === 'approve' ? 'approved and queued' : 'skipped'));
      selection.clear();
      remove(r.appliedIds);
      list.reload();
      approvalsHeading.current?.focus();
    } catch (e) {
      setBulkError(e as Error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title="Approvals"
        subtitle="Reminders waiting for a person"
        actions={
          <>
            <Link href="/calls" className="btn btn-secondary">
              Call list{calls.data ? ` (${calls.data.total})` : ''}
            </Link>
            <button type="button" className="btn btn-secondary" onClick={() => list.reload()}>
              Refresh
            </button>
          </>
        }
      />
      <search className="filters" aria-label="Filter approvals">
        <SearchBox
          label="Customer"
          placeholder="Name, email or invoice"
          value={params.q ?? ''}
          onSearch={(q) => state.set({ q: q || null })}
        />
        <div className="field">
          <label htmlFor={ids.tone}>Tone</label>
          <select
            id={ids.tone}
            value={params.tone ?? ''}
            onChange={(e) => state.set({ tone: e.target.value || null })}
          >
            <option value="">Any</option>
            {TONES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <form
          className="field"
          onSubmit={(e) => {
            e.preventDefault();
            const a = parseAmountInput(amount, currency);
            state.set({ minAmountMinor: amount.trim() && a.ok ? String(a.minor) : null });
          }}
        >
          <label htmlFor={ids.amount}>At least ({currency})</label>
          <input
            id={ids.amount}
            inputMode="decimal"
            value={amount}
            placeholder="e.g. 1,000"
            onChange={(e) => setAmount(e.target.value)}
            onBlur={(e) => e.currentTarget.form?.requestSubmit()}
          />
        </form>
        <div className="field">
          <label htmlFor={ids.sort}>Order</label>
          <select id={ids.sort} value={sort} onChange={(e) => state.set({ sort: e.target.value })}>
            <option value="sendAt">Send time, soonest first</option>
            <option value="-amount">Largest amount first</option>
            <option value="customer">Customer A–Z</option>
          </select>
        </div>
      </search>
      <div
        role="status"
        aria-live="polite"
        className={announce ? 'banner banner-ok' : 'sr-only'}
        data-testid="bulk-result"
      >
        {announce}
      </div>
      <ErrorBanner error={bulkError} />
      <section aria-labelledby="approvals-h">
        <h2 id="approvals-h" className="section-title" tabIndex={-1} ref={approvalsHeading}>
          Waiting for approval {list.answer ? <span className="muted">({total})</span> : null}
        </h2>
        {work && items.length > 0 ? (
          <p className="select-page">
            <label>
              <input
                type="checkbox"
                checked={allOnPage}
                onChange={(e) => selection.setPage(pageIds, e.target.checked)}
              />{' '}
              Select all {items.length} shown
            </label>
          </p>
        ) : null}
        {work ? (
          <BulkBar
            sel={selection.sel}
            shown={items.length}
            total={total}
            noun="messages"
            onAllMatching={selection.selectAllMatching}
            onClear={selection.clear}
          >
            <button type="button" className="btn" disabled={busy} onClick={() => bulk('approve')}>
              Approve selected
            </button>
            <div className="field">
              <label htmlFor={ids.reason}>Skip reason (optional)</label>
              <input
                id={ids.reason}
                value={skipReason}
                maxLength={500}
                onChange={(e) => setSkipReason(e.target.value)}
              />
            </div>
            <button type="button" className="btn btn-danger" disabled={busy} onClick={() => bulk('skip')}>
              Skip selected
            </button>
          </BulkBar>
        ) : null}
        {list.loading && !list.answer ? <Loading label="Loading messages…" /> : null}
        <ErrorBanner error={list.error} />
        {list.answer && items.length === 0 ? <Empty>Nothing is waiting for approval.</Empty> : null}
        {items.map((m) => (
          <ApprovalCard
            key={m.id}
            tenant={tenant}
            m={m}
            selected={selection.sel.allMatching || selection.sel.ids.has(m.id)}
            onSelect={work ? () => selection.toggle(m.id) : null}
            onDecided={(what) => {
              remove([m.id]);
              setAnnounce(`Message to ${m.customerName ?? m.to.join(', ')} ${what}.`);
              approvalsHeading.current?.focus();
            }}
            onGone={() => {
              remove([m.id]);
              setAnnounce(
                `Message to ${m.customerName ?? m.to.join(', ')} changed since you viewed it and no longer waits for approval (withdrawn or planned again); nothing was approved.`,
              );
              approvalsHeading.current?.focus();
            }}
            onEdited={(next) =>
              list.setRows((xs) => xs.map((x) => (x.id === next.id ? { ...x, ...next } : x)))
            }
          />
        ))}
        {list.hasMore && !list.loading ? (
          <div className="more">
            <button type="button" className="btn btn-secondary" onClick={list.loadMore}>
              Load more ({items.length} of {total})
            </button>
          </div>
        ) : null}
      </section>
    </>
  );
}

function ApprovalCard(props: {
  tenant: string;
  m: Row;
  selected: boolean;
  onSelect: (() => void) | null;
  onDecided: (what: string) => void;
  /** The message no longer waits for approval (withdrawn or planned again since it was read). */
  onGone: () => void;
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
  // Viewers read the queue; approving, editing and skipping are for collectors and admins.
  const work = canWork();

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
          {props.onSelect ? (
            <input
              type="checkbox"
              className="card-check"
              aria-label={`Select the message to ${m.customerName ?? m.to.join(', ')}`}
              checked={props.selected}
              onChange={props.onSelect}
            />
          ) : null}
          {m.customerName ?? m.to.join(', ')} <span className="muted small">· {messageInvoices(m)}</span>
        </h3>
        <span className="msg-amount">{messageTotal(m)}</span>
      </div>
      <p className="small muted">
        {m.tone ? `${m.tone[0]!.toUpperCase()}${m.tone.slice(1)} ${m.template}` : m.template} ·{' '}
        {sendTimeWords(m.sendAt)} · to {m.to.join(', ')}
        {m.editedSubject || m.editedIntro ? ' · edited' : ''}
      </p>
      <MessageWhy m={m} />
      <ErrorBanner error={error} />
      <div className="msg-actions">
        <button
          type="button"
          className="btn"
          disabled={busy || !work}
          onClick={() =>
            run(async () => {
              try {
                // The version this card shows: the server refuses it when the message reads otherwise now.
                await api.post(path('/approve'), { version: m.approvalVersion });
              } catch (e) {
                // Changed, or gone (taken back by a re-plan before the approve arrived: 404).
                if (e instanceof ApiError && (e.code === 'message_changed' || e.status === 404)) {
                  // Planned again (or edited) while the page was open: show what it says now, to be read again.
                  const now = await reloadChanged(() => api.get<DunningMessage>(path('')));
                  if (!now) return props.onGone();
                  props.onEdited(now);
                  setRendered(mode === 'preview' ? await api.get<RenderedEmail>(path('/rendered')) : null);
                }
                throw e;
              }
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
          disabled={!work}
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
          disabled={!work}
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
              let next: DunningMessage;
              try {
                // The version this card shows: an edit written for it is refused once the message reads otherwise.
                next = await api.request<DunningMessage>(
                  'PATCH',
                  path(''),
                  JSON.stringify({
                    subject: subject.trim() || null,
                    intro: intro.trim() || null,
                    version: m.approvalVersion,
                  }),
                  'application/json',
                );
              } catch (e) {
                if (e instanceof ApiError && e.code === 'message_changed') {
                  // Planned again while the page was open: show what it says now; the edit stays in the form.
                  const now = await reloadChanged(() => api.get<DunningMessage>(path('')));
                  if (!now) return props.onGone();
                  props.onEdited(now);
                }
                throw e;
              }
              props.onEdited(next);
              setMode('preview');
              await loadRendered();
            });
          }}
        >
          <div className="field">
            <label htmlFor={ids.subject}>Subject (blank = the template's)</label>
            <input
              id={ids.subject}
              value={subject}
              maxLength={200}
              onChange={(e) => setSubject(e.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={ids.intro}>Introduction (added before the template's text)</label>
            <textarea
              id={ids.intro}
              value={intro}
              maxLength={2000}
              onChange={(e) => setIntro(e.target.value)}
            />
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
            <input
              id={ids.skip}
              value={skipReason}
              maxLength={500}
              onChange={(e) => setSkipReason(e.target.value)}
            />
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
            <EmailFrame
              html={rendered.html}
              title={`Email to ${m.to.join(', ')}: ${rendered.subject}`}
              height={460}
            />
          </div>
        ) : busy ? (
          <Loading label="Rendering email…" />
        ) : null
      ) : null}
    </article>
  );
}
