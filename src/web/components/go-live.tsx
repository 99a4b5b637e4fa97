import { useState } from 'react';
import type { GoLiveStatus } from '../../dunning/go-live';
import { api, apiPath } from '../lib/api';
import { useCan } from '../lib/role';
import { useApi } from '../lib/use-api';
import { Card, ErrorBanner, Link, Loading } from './ui';

/**
 * The Dashboard's first-run checklist (GET …/dunning/go-live): shown until the company is live, and while all
 * sending is paused. Nothing is sent before the team switches sending on in Settings.
 */
export function GoLiveChecklist({ tenant }: { tenant: string }) {
  const { data, error } = useApi<GoLiveStatus>(apiPath(tenant, 'dunning/go-live'));
  if (error) return <ErrorBanner error={error} />;
  if (!data || (data.sendingEnabled && !data.sendingPaused)) return null;
  const heading = data.sendingEnabled ? 'All sending is paused' : 'Before Duely writes to your customers';
  return (
    <section className="card go-live-card" aria-labelledby="go-live-h" data-testid="go-live-checklist">
      <h2 className="card-title" id="go-live-h">
        {heading}
      </h2>
      <p className="note" data-testid="would-send">
        {data.sendingEnabled
          ? `Nothing leaves while sending is paused. ${data.wouldSend} message${data.wouldSend === 1 ? '' : 's'} would go out.`
          : `Sending is off: Duely plans what it would send and sends nothing. ${data.wouldSend} message${
              data.wouldSend === 1 ? '' : 's'
            } would go out${data.awaitingApproval > 0 ? `, ${data.awaitingApproval} after approval` : ''}.`}
      </p>
      <ol className="checklist">
        {data.items.map((i) => (
          <li key={i.key} data-testid={`checklist-${i.key}`} data-done={i.done}>
            <span aria-hidden="true">{i.done ? '✓' : '○'}</span> <Link href={i.href}>{i.title}</Link>
            <span className="sr-only">{i.done ? ' (done)' : ' (to do)'}</span>
            <div className="note">{i.detail}</div>
          </li>
        ))}
      </ol>
    </section>
  );
}

interface Switches {
  sendingEnabled: boolean;
  sendingPaused: boolean;
  sequencesReviewed: boolean;
}

/** Settings → Sending: go live, pause all sending, sequences reviewed (PATCH /settings). */
export function SendingSettings({ tenant }: { tenant: string }) {
  const settings = useApi<Switches>(apiPath(tenant, 'settings'));
  const [latest, setLatest] = useState<Switches | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const current = latest ?? settings.data;
  if (!current)
    return settings.error ? <ErrorBanner error={settings.error} /> : <Loading label="Loading sending…" />;
  const save = async (change: Partial<Switches>) => {
    setSaving(true);
    setError(null);
    try {
      setLatest(await api.patch<Switches>(apiPath(tenant, 'settings'), change));
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  return (
    <Card title="Sending">
      <p className="muted" data-testid="sending-state">
        {!current.sendingEnabled
          ? 'Sending is off. Duely plans reminders and shows what it would send, but nothing leaves until you switch it on.'
          : current.sendingPaused
            ? 'All sending is paused. Nothing leaves until you resume; what waited is then re-planned from that moment.'
            : 'Live: reminders go out at their send times.'}
      </p>
      {/* Switching on or resuming re-plans every waiting message before it answers (seconds on a large ledger): the box
          alone, greyed out, looked as if the click had been lost. */}
      {saving ? (
        <p className="note" role="status" data-testid="sending-saving">
          Saving… switching sending on or off re-plans the waiting messages; this can take a few seconds.
        </p>
      ) : null}
      <ErrorBanner error={error} />
      <div className="switches">
        <label>
          <input
            type="checkbox"
            data-testid="sending-enabled"
            checked={current.sendingEnabled}
            disabled={saving}
            onChange={(e) => save({ sendingEnabled: e.target.checked })}
          />{' '}
          Send reminders to customers (go live)
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="sending-paused"
            checked={current.sendingPaused}
            disabled={saving}
            onChange={(e) => save({ sendingPaused: e.target.checked })}
          />{' '}
          Pause all sending
        </label>
        <label>
          <input
            type="checkbox"
            data-testid="sequences-reviewed"
            checked={current.sequencesReviewed}
            disabled={saving}
            onChange={(e) => save({ sequencesReviewed: e.target.checked })}
          />{' '}
          We have reviewed the reminder sequences
        </label>
      </div>
    </Card>
  );
}

/**
 * Sequences: "Mark sequences reviewed", where the sequences are read. The checklist's item links to Sequences and says
 * to mark them reviewed there, but the only switch was a box in Settings → Sending: the page it sent people to had no
 * way to finish the item. Refused while the editor has unsaved changes (what was reviewed is the saved policy).
 */
export function SequencesReviewed({ tenant, dirty }: { tenant: string; dirty: boolean }) {
  const mayChange = useCan('admin');
  const settings = useApi<Switches>(apiPath(tenant, 'settings'));
  const [reviewed, setReviewed] = useState<boolean | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [saving, setSaving] = useState(false);
  const done = reviewed ?? settings.data?.sequencesReviewed;
  if (done === undefined) return null;
  if (done)
    return (
      <span className="muted small" data-testid="sequences-reviewed-note">
        ✓ Sequences reviewed
      </span>
    );
  if (!mayChange) return null;
  const mark = async () => {
    setSaving(true);
    setError(null);
    try {
      setReviewed(
        (await api.patch<Switches>(apiPath(tenant, 'settings'), { sequencesReviewed: true }))
          .sequencesReviewed,
      );
    } catch (err) {
      setError(err as Error);
    } finally {
      setSaving(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className="btn btn-secondary"
        data-testid="mark-sequences-reviewed"
        disabled={dirty || saving}
        title={dirty ? 'Save or discard your changes first' : undefined}
        onClick={mark}
      >
        Mark sequences reviewed
      </button>
      {error ? (
        <span className="error-text small" role="alert">
          {error.message}
        </span>
      ) : null}
    </>
  );
}

interface PaymentDetailsView {
  paymentDetails?: { url?: string; instructions?: string };
}

/**
 * Settings → Payment details: how a customer pays when an invoice has no pay link of its own (a payment page
 * and/or bank details), shown under "How to pay" in every reminder. Going live needs this or pay links.
 */
export function PaymentSettings({ tenant }: { tenant: string }) {
  const settings = useApi<PaymentDetailsView>(apiPath(tenant, 'settings'));
  const [draft, setDraft] = useState<{ url: string; instructions: string } | null>(null);
  const [error, setError] = useState<Error | null>(null);
  const [saved, setSaved] = useState<PaymentDetailsView | null>(null);
  const current = saved ?? settings.data;
  if (!current)
    return settings.error ? (
      <ErrorBanner error={settings.error} />
    ) : (
      <Loading label="Loading payment details…" />
    );
  const d = current.paymentDetails;
  const value = draft ?? { url: d?.url ?? '', instructions: d?.instructions ?? '' };
  const save = async (paymentDetails: PaymentDetailsView['paymentDetails'] | null) => {
    setError(null);
    try {
      setSaved(await api.patch<PaymentDetailsView>(apiPath(tenant, 'settings'), { paymentDetails }));
      setDraft(null);
    } catch (err) {
      setError(err as Error);
    }
  };
  return (
    <Card title="Payment details">
      <p className="muted">
        Shown under “How to pay” in every reminder, for invoices without a pay link of their own (QuickBooks
        online payments give each invoice one).
      </p>
      <ErrorBanner error={error} />
      <form
        onSubmit={(e) => {
          e.preventDefault();
          const url = value.url.trim();
          const instructions = value.instructions.trim();
          void save({ ...(url ? { url } : {}), ...(instructions ? { instructions } : {}) });
        }}
      >
        <label className="field">
          Payment page (https://…)
          <input
            type="url"
            data-testid="payment-url"
            value={value.url}
            onChange={(e) => setDraft({ ...value, url: e.target.value })}
          />
        </label>
        <label className="field">
          Bank details or other instructions
          <textarea
            rows={4}
            data-testid="payment-instructions"
            value={value.instructions}
            onChange={(e) => setDraft({ ...value, instructions: e.target.value })}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={draft === null}>
          Use these payment details
        </button>{' '}
        {d ? (
          <button type="button" className="btn" onClick={() => save(null)}>
            Remove
          </button>
        ) : null}
      </form>
    </Card>
  );
}

interface OptOutTask {
  id: string;
  customerId: string;
  title: string;
  talkingPoints: { optOut?: string };
}

/** Debtors who unsubscribed or complained (open tasks from delivery-events.ts): the team must know at once. */
export function OptOutNotice({ tenant }: { tenant: string }) {
  const { data } = useApi<{ items: OptOutTask[] }>(apiPath(tenant, 'dunning/tasks'));
  const optOuts = (data?.items ?? []).filter((t) => t.talkingPoints?.optOut);
  if (optOuts.length === 0) return null;
  return (
    <section className="card" aria-labelledby="opt-outs-h" data-testid="opt-outs">
      <h2 className="card-title" id="opt-outs-h">
        Customers who opted out
      </h2>
      <ul>
        {optOuts.map((t) => (
          <li key={t.id}>
            <Link href={`/customers/${t.customerId}`}>{t.title}</Link>
          </li>
        ))}
      </ul>
      <p className="note">
        Duely sends them nothing more. <Link href="/approvals">Open the call list</Link> to follow up.
      </p>
    </section>
  );
}
