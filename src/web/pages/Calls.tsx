/**
 * The call list: where automation hands over to a person (a bounced address, no contact, a final notice that went
 * unanswered), one card per customer task with its talking points; filtered by kind, customer and amount.
 */
import { useId, useRef, useState } from 'react';
import { chanceText, expectedPayText, NOT_EXPECTED_SOON } from '../components/InvoiceTable';
import { SearchBox, useList, useQueryState } from '../components/list';
import { Empty, ErrorBanner, Link, Loading, PageHeader } from '../components/ui';
import { parseAmountInput } from '../lib/amount-input';
import { api, apiPath, canWork } from '../lib/api';
import { daysText, displayZone, formatDate, formatInstant, formatMoney } from '../lib/format';
import type { PageProps } from '../page-props';
import '../components/dunning.css';

const PARAMS = ['q', 'kind', 'minAmountMinor', 'sort'] as const;

/** "on average 11 days late" / "on average 11 days early" / "on time on average". */
export function historyText(avgDaysLate: number | null): string {
  if (avgDaysLate === null) return '';
  const days = Math.round(Math.abs(avgDaysLate));
  if (days === 0) return ', on time on average';
  return `, on average ${days} day${days === 1 ? '' : 's'} ${avgDaysLate > 0 ? 'late' : 'early'}`;
}

/** One prediction in the talking points: "12% chance paid within 30 days, 40% within 90, not expected within 90 days". */
export function predictionText(
  p: Parameters<typeof chanceText>[0] & Parameters<typeof expectedPayText>[0],
): string {
  const when = expectedPayText(p);
  return `${chanceText(p)}, ${when === NOT_EXPECTED_SOON ? when : `expected ${when}`}`;
}

/** One open item in the talking points: "INV287: $1,884.39, 1 day overdue" / "…, due Jul 2, 2013". */
export function openItemText(o: {
  number: string;
  openMinor: number;
  currency: string;
  dueDate: string;
  daysOverdue: number;
}): string {
  const when = o.daysOverdue > 0 ? `${daysText(o.daysOverdue)} overdue` : `due ${formatDate(o.dueDate)}`;
  return `${o.number}: ${formatMoney(o.openMinor, o.currency)}, ${when}`;
}

export function CallsPage({ tenant, currency }: PageProps) {
  const state = useQueryState(PARAMS);
  const params = state.params;
  const list = useList<Task>(tenant, 'dunning/tasks', { ...params, sort: params.sort ?? 'dueOn' }, 100);
  const [announce, setAnnounce] = useState('');
  const [amount, setAmount] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const ids = { kind: useId(), amount: useId(), sort: useId() };
  const total = list.answer?.total ?? 0;
  return (
    <>
      <PageHeader
        title="Call list"
        subtitle="Customers who need a person: calls, missing contacts, reviews"
        actions={
          <>
            <Link href="/approvals" className="btn btn-secondary">
              Approvals
            </Link>
            <button type="button" className="btn btn-secondary" onClick={() => list.reload()}>
              Refresh
            </button>
          </>
        }
      />
      <search className="filters" aria-label="Filter the call list">
        <SearchBox
          label="Customer"
          placeholder="Name, ID or email"
          value={params.q ?? ''}
          onSearch={(q) => state.set({ q: q || null })}
        />
        <div className="field">
          <label htmlFor={ids.kind}>Kind</label>
          <select
            id={ids.kind}
            value={params.kind ?? ''}
            onChange={(e) => state.set({ kind: e.target.value || null })}
          >
            <option value="">Any</option>
            <option value="call">Call</option>
            <option value="find_contact">Find a contact</option>
            <option value="review">Review</option>
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
          <label htmlFor={ids.amount}>Open at least ({currency})</label>
          <input
            id={ids.amount}
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.target.value)}
            onBlur={(e) => e.currentTarget.form?.requestSubmit()}
          />
        </form>
        <div className="field">
          <label htmlFor={ids.sort}>Order</label>
          <select
            id={ids.sort}
            value={params.sort ?? 'dueOn'}
            onChange={(e) => state.set({ sort: e.target.value })}
          >
            <option value="dueOn">Due first</option>
            <option value="-amount">Largest balance first</option>
            <option value="customer">Customer A–Z</option>
          </select>
        </div>
      </search>
      <div role="status" aria-live="polite" className="sr-only">
        {announce}
      </div>
      <h2 className="section-title" tabIndex={-1} ref={heading}>
        Open tasks {list.answer ? <span className="muted">({total})</span> : null}
      </h2>
      {list.loading && !list.answer ? <Loading label="Loading call list…" /> : null}
      <ErrorBanner error={list.error} />
      {list.answer && list.rows.length === 0 ? <Empty>No open calls or follow-ups.</Empty> : null}
      {list.rows.map((t) => (
        <TaskCard
          key={t.id}
          tenant={tenant}
          currency={currency}
          t={t}
          onDone={() => {
            list.drop((x) => x.id === t.id);
            setAnnounce(`Task “${t.title}” done.`);
            heading.current?.focus();
          }}
        />
      ))}
      {list.hasMore && !list.loading ? (
        <div className="more">
          <button type="button" className="btn btn-secondary" onClick={list.loadMore}>
            Load more ({list.rows.length} of {total})
          </button>
        </div>
      ) : null}
    </>
  );
}

export interface Task {
  id: string;
  customerId: string;
  kind: 'call' | 'find_contact' | 'review';
  title: string;
  dueOn: string | null;
  messageId: string | null;
  customer: { name: string; emails: string[]; externalId?: string };
  openMinor?: number;
  talkingPoints: {
    openItems?: {
      number: string;
      dueDate: string;
      daysOverdue: number;
      openMinor: number;
      currency: string;
    }[];
    predictions?: {
      number: string;
      pLate: number;
      predictedPayDate: string;
      riskBand: string;
      reasons: string[];
      /** Absent in tasks opened before these were gathered. */
      daysOverdue?: number;
      pCollect30?: number | null;
      pCollect90?: number | null;
    }[];
    customerRisk?: { score: number; slowingAlert: boolean; message: string | null } | null;
    lastContacts?: {
      at: string;
      tone: string | null;
      status: string;
      deliveryStatus: string | null;
      reason: string;
    }[];
    history?: { paidInvoices: number; avgDaysLate: number | null };
    /** A review task opened because credit on account covers what the customer owes: apply it in the ledger. */
    creditOnAccount?: {
      credits: { currency: string; creditMinor: number }[];
      invoices: { invoiceId: string; number: string; currency: string; openBalanceMinor: number }[];
    };
  };
}

function TaskCard({
  tenant,
  currency,
  t,
  onDone,
}: {
  tenant: string;
  currency: string;
  t: Task;
  onDone: () => void;
}) {
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [email, setEmail] = useState('');
  const ids = { h: useId(), note: useId(), email: useId() };
  const work = canWork();
  const tp = t.talkingPoints;
  return (
    <article className="card" aria-labelledby={ids.h} data-testid="task">
      <div className="msg-card-head">
        <h3 id={ids.h}>
          <Link href={`/customers/${encodeURIComponent(t.customerId)}`}>{t.customer.name}</Link>
          {t.openMinor ? (
            <span className="muted small"> · {formatMoney(t.openMinor, currency)} open</span>
          ) : null}
        </h3>
        <span className="small muted">
          {t.kind.replace(/_/g, ' ')} · due {formatDate(t.dueOn)}
        </span>
      </div>
      <p className="small">
        <strong>{t.title}</strong>
        {t.customer.emails.length ? ` · ${t.customer.emails.join(', ')}` : ' · no email on file'}
      </p>
      <div className="task-points">
        {tp.creditOnAccount ? (
          <div>
            <h4>Credit to apply</h4>
            <p className="small">
              {tp.creditOnAccount.credits.map((c) => formatMoney(c.creditMinor, c.currency)).join(' and ')} of
              unapplied payments and credits on account when the task opened; apply it in the ledger to
              settle:
            </p>
            <ul className="plain">
              {tp.creditOnAccount.invoices.map((i) => (
                <li key={i.invoiceId}>
                  {i.number}: {formatMoney(i.openBalanceMinor, i.currency)}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {tp.openItems?.length ? (
          <div>
            <h4>Open items</h4>
            <ul className="plain">
              {tp.openItems.map((o) => (
                <li key={o.number}>{openItemText(o)}</li>
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
                  {p.number}: {predictionText({ ...p, daysOverdue: p.daysOverdue ?? 0 })}
                  {p.reasons.length ? (
                    <span className="muted"> ({p.reasons.slice(0, 2).join('; ')})</span>
                  ) : null}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {tp.lastContacts?.length ? (
          <div>
            <h4>Last contacts ({displayZone()})</h4>
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
              {historyText(tp.history.avgDaysLate)}
            </p>
          </div>
        ) : null}
      </div>
      <ErrorBanner error={error} />
      {t.kind === 'find_contact' && work ? (
        <form
          className="filters"
          aria-label={`Add a contact for ${t.customer.name}`}
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              await api.post(apiPath(tenant, `dunning/tasks/${t.id}/contact`), { email: email.trim() });
              onDone();
            } catch (err) {
              setError(err as Error);
            } finally {
              setBusy(false);
            }
          }}
        >
          <div className="field">
            <label htmlFor={ids.email}>Billing email for {t.customer.name}</label>
            <input
              id={ids.email}
              type="email"
              required
              value={email}
              maxLength={320}
              autoComplete="off"
              onChange={(e) => setEmail(e.target.value)}
            />
          </div>
          <div className="field field-actions">
            <button type="submit" className="btn" disabled={busy || !email.trim()}>
              Save address and close task
            </button>
          </div>
        </form>
      ) : null}
      {work ? (
        <form
          className="filters"
          aria-label={`Complete ${t.title}`}
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              await api.post(
                apiPath(tenant, `dunning/tasks/${t.id}/done`),
                note.trim() ? { note: note.trim() } : {},
              );
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
      ) : null}
    </article>
  );
}
