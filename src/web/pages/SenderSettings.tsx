import { useId, useState } from 'react';
import { describedBy, FieldError, fieldIds, SaveStatus, useEditorFocus } from '../components/form-field';
import { Card, ErrorBanner, Loading } from '../components/ui';
import { api, apiPath } from '../lib/api';
import { type FieldIssue, serverFieldErrors } from '../lib/field-errors';
import { useApi } from '../lib/use-api';

/** The sender block of dunning emails as GET/PATCH /settings return it (src/dunning/sender-settings.ts). */
export interface Sender {
  companyName: string;
  replyTo: string;
  address: string[];
  phone?: string;
}

interface SettingsResponse {
  sender: Sender;
  senderCustomised: boolean;
  /** The From header (the operator's MAIL_FROM), or null when emails stay in the outbox. */
  mailFrom: string | null;
}

const FIELDS = ['companyName', 'replyTo', 'address', 'phone'] as const;
type Field = (typeof FIELDS)[number];

interface Draft {
  companyName: string;
  replyTo: string;
  address: string;
  phone: string;
}

/** The textarea's lines as the API takes them: trimmed, blank lines dropped. */
export function addressLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
}

/** What the debtor sees, as one line each: "From: … · Reply-to: …" and the footer's signature. */
export function senderPreview(sender: Sender, mailFrom: string | null): { header: string; footer: string } {
  return {
    header: `From: ${mailFrom ?? 'not configured (messages stay in the outbox)'} · Reply-to: ${sender.replyTo || '—'}`,
    footer: [sender.companyName || '—', ...sender.address, sender.phone].filter(Boolean).join(' · '),
  };
}

/**
 * Who the debtor is dealing with: the company name, reply-to address, postal address and phone in every dunning
 * email (PATCH /settings `sender`; `null` returns to the defaults). The From header is the operator's MAIL_FROM, so
 * the preview shows it as it is, not as the tenant might wish it to be.
 */
export function SenderSettings({ tenant }: { tenant: string }) {
  const settings = useApi<SettingsResponse>(apiPath(tenant, 'settings'));
  const [latest, setLatest] = useState<SettingsResponse | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const id = useId();
  const editing = draft !== null;

  const { form, editButton, focusInvalidNext } = useEditorFocus(editing, 'input, textarea');

  const current = latest ?? settings.data;
  if (settings.loading && !current) return <Loading label="Loading the email sender…" />;
  if (!current) return <ErrorBanner error={settings.error} />;

  const errors = serverFieldErrors(serverError, 'sender', FIELDS);
  const issues = (f: Field) => (errors.byField[f] ?? []).map((i) => issueText(f, i));

  const edit = () => {
    const s = current.sender;
    setDraft({
      companyName: s.companyName,
      replyTo: s.replyTo,
      address: s.address.join('\n'),
      phone: s.phone ?? '',
    });
    setServerError(null);
    setStatus('');
  };
  const close = (message: string) => {
    setDraft(null);
    setServerError(null);
    setStatus(message);
  };
  const send = async (sender: Sender | null, done: string) => {
    setSaving(true);
    setServerError(null);
    setStatus('');
    try {
      const r = await api.patch<SettingsResponse>(apiPath(tenant, 'settings'), { sender });
      setLatest(r);
      close(done);
    } catch (err) {
      setServerError(err);
      setStatus('Nothing was changed: see the messages above.');
      focusInvalidNext();
    } finally {
      setSaving(false);
    }
  };
  const save = (e: React.FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    const phone = draft.phone.trim();
    void send(
      {
        companyName: draft.companyName,
        replyTo: draft.replyTo,
        address: addressLines(draft.address),
        ...(phone ? { phone } : {}),
      },
      'Email sender saved.',
    );
  };

  const shown: Sender = draft
    ? { ...draft, address: addressLines(draft.address), phone: draft.phone.trim() || undefined }
    : current.sender;
  const preview = senderPreview(shown, current.mailFrom);
  const ids = (f: string) => fieldIds(id, f);
  const statusLine = <SaveStatus status={status} failed={editing} />;

  return (
    <Card title="Email sender" className="settings-card">
      <p className="muted">
        How your company appears in reminders, statements and receipts.{' '}
        {current.senderCustomised
          ? 'Set by you.'
          : "Until you set it: the company name, and replies to the app's sender address."}
      </p>
      <div className="sender-preview" data-testid="sender-preview">
        <span className="sr-only">{draft ? 'Preview of your changes: ' : 'In use: '}</span>
        <div>{preview.header}</div>
        <div className="muted">Signed: {preview.footer}</div>
      </div>
      {!draft ? (
        <>
          {statusLine}
          <button ref={editButton} type="button" className="btn btn-secondary" onClick={edit}>
            Edit email sender
          </button>
        </>
      ) : (
        <form ref={form} className="settings-form" onSubmit={save} noValidate aria-label="Email sender">
          <div className="settings-row">
            <div className="field settings-grow">
              <label htmlFor={ids('company').input}>Company name</label>
              <input
                id={ids('company').input}
                required
                maxLength={120}
                autoComplete="organization"
                value={draft.companyName}
                onChange={(e) => setDraft({ ...draft, companyName: e.target.value })}
                {...describedBy(ids('company').err, issues('companyName'))}
              />
              <FieldError id={ids('company').err} messages={issues('companyName')} />
            </div>
            <div className="field settings-grow">
              <label htmlFor={ids('reply').input}>Reply-to email</label>
              <input
                id={ids('reply').input}
                type="email"
                required
                autoComplete="email"
                value={draft.replyTo}
                onChange={(e) => setDraft({ ...draft, replyTo: e.target.value })}
                {...describedBy(ids('reply').err, issues('replyTo'), ids('reply').hint)}
              />
              <span id={ids('reply').hint} className="field-hint">
                Where debtors' replies go, such as your accounts-receivable mailbox.
              </span>
              <FieldError id={ids('reply').err} messages={issues('replyTo')} />
            </div>
          </div>
          <div className="settings-row">
            <div className="field settings-grow">
              <label htmlFor={ids('address').input}>Postal address (up to 4 lines)</label>
              <textarea
                id={ids('address').input}
                rows={4}
                autoComplete="street-address"
                value={draft.address}
                onChange={(e) => setDraft({ ...draft, address: e.target.value })}
                {...describedBy(ids('address').err, issues('address'), ids('address').hint)}
              />
              <span id={ids('address').hint} className="field-hint">
                Shown in every email's footer; commercial email rules require a postal address.
              </span>
              <FieldError id={ids('address').err} messages={issues('address')} />
            </div>
            <div className="field">
              <label htmlFor={ids('phone').input}>Phone (optional)</label>
              <input
                id={ids('phone').input}
                type="tel"
                autoComplete="tel"
                value={draft.phone}
                onChange={(e) => setDraft({ ...draft, phone: e.target.value })}
                {...describedBy(ids('phone').err, issues('phone'))}
              />
              <FieldError id={ids('phone').err} messages={issues('phone')} />
            </div>
          </div>
          {errors.other.length ? (
            <div className="banner banner-error" role="alert">
              {errors.other.join('; ')}
            </div>
          ) : null}
          {statusLine}
          <div className="settings-actions">
            <button type="submit" className="btn" disabled={saving}>
              {saving ? 'Saving…' : 'Save email sender'}
            </button>
            <button type="button" className="btn btn-ghost" onClick={() => close('')} disabled={saving}>
              Cancel
            </button>
            {current.senderCustomised ? (
              <button
                type="button"
                className="btn btn-danger"
                disabled={saving}
                onClick={() => void send(null, 'Email sender reset to the defaults.')}
              >
                Use the defaults
              </button>
            ) : null}
          </div>
        </form>
      )}
    </Card>
  );
}

/** "address.1" → "line 2: …". */
function issueText(field: Field, issue: FieldIssue): string {
  if (field === 'address' && /^\d+$/.test(issue.at)) return `line ${Number(issue.at) + 1}: ${issue.message}`;
  return issue.message;
}
