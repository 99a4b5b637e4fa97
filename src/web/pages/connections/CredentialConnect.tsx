/**
 * Connecting a ledger whose connector offers a credential form and/or an OAuth button (GET /api/v1/integrations
 * `methods`, `credentialFields`, `permissions`): e.g. NetSuite's OAuth 2.0 button (to /connect/netsuite?account=…)
 * and its Token-Based Authentication form, with the role's permission checklist beside it.
 */
import { useId, useState } from 'react';
import { ErrorBanner } from '../../components/ui';
import { api, apiPath } from '../../lib/api';
import type { ConnectionCreatedAnswer } from '../../lib/contracts';
import type { ConnectorAvailability } from '../../lib/types';

type Created = ConnectionCreatedAnswer;

const TYPE_LABELS: Record<string, string> = {
  tba: 'Token-Based Authentication (token ID + secret)',
  m2m: 'OAuth 2.0 client credentials (certificate ID)',
};

export function CredentialConnect({
  tenant,
  info,
  onConnected,
  reconnect,
  connectOffered = true,
}: {
  tenant: string;
  info: ConnectorAvailability;
  onConnected: () => void;
  /**
   * Whether a connect of a new account is offered: not once the company holds a company's books (the server refuses
   * another). Then only a Reconnect opens the form, for that account, and the answer of a connect just made stays.
   */
  connectOffered?: boolean;
  /**
   * Reconnecting an existing connection (its Reconnect button): the form opens for that account (and credential
   * type), and submitting it re-activates the same connection. The parent remounts the form (key) per request.
   */
  reconnect?: { accountId: string; type: string | null } | null;
}) {
  const formId = useId();
  const [values, setValues] = useState<Record<string, string>>(() =>
    reconnect ? { accountId: reconnect.accountId, ...(reconnect.type ? { type: reconnect.type } : {}) } : {},
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  const typeField = info.credentialFields.find((f) => f.name === 'type' && f.choices);
  const type = values.type ?? typeField?.choices?.[0] ?? '';
  const accountField = info.credentialFields.find((f) => f.name === 'accountId');
  const visible = info.credentialFields.filter(
    (f) => f !== typeField && (!f.forTypes || f.forTypes.includes(type)),
  );

  if (info.mode === 'unconfigured') {
    return (
      <div className="muted">
        <p>
          {info.displayName} is not set up on this server yet: whoever runs Duely for your company can set it
          up.
        </p>
        {info.note ? (
          <details>
            <summary>What they need to do</summary>
            <p className="small">{info.note}</p>
          </details>
        ) : null}
      </div>
    );
  }

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const auth: Record<string, string> = typeField ? { type } : {};
      const top: Record<string, string> = {};
      for (const f of visible) {
        const v = values[f.name]?.trim() ?? '';
        if (f.name === 'accountId') top[f.name] = v;
        else auth[f.name] = v;
      }
      const res = await api.post<Created>(apiPath(tenant, 'connections'), {
        provider: info.provider,
        ...top,
        auth,
      });
      setCreated(res);
      setValues((v) =>
        Object.fromEntries(Object.entries(v).filter(([k]) => k === 'accountId' || k === 'type')),
      );
      onConnected();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const account = values.accountId?.trim() ?? '';
  const offered = connectOffered || Boolean(reconnect);
  return (
    <div data-testid={`connect-${info.provider}`}>
      {offered && info.methods.includes('oauth') && info.connectUrl ? (
        <p>
          <a
            className="btn"
            target="_top"
            href={account ? `${info.connectUrl}?account=${encodeURIComponent(account)}` : info.connectUrl}
          >
            Connect with OAuth 2.0
          </a>{' '}
          <span className="muted small">
            {accountField ? 'Fill in the account ID below first to go straight to your account. ' : ''}
            Refresh tokens lapse after 7 days: token-based authentication suits unattended syncs.
          </span>
        </p>
      ) : null}
      {reconnect && !created ? (
        <p className="banner banner-warn" role="note" data-testid={`reconnect-form-${reconnect.accountId}`}>
          Reconnect account {reconnect.accountId}: enter a new token (the old one was revoked or expired). The
          connection resumes syncing where it stopped.
        </p>
      ) : null}
      {offered && info.methods.includes('credentials') ? (
        <form id={formId} onSubmit={submit} className="upload">
          {typeField && (typeField.choices?.length ?? 0) > 1 ? (
            <div className="field">
              <label htmlFor={`${formId}-type`}>{typeField.label}</label>
              <select
                id={`${formId}-type`}
                value={type}
                onChange={(e) => setValues((v) => ({ ...v, type: e.target.value }))}
              >
                {typeField.choices?.map((c) => (
                  <option key={c} value={c}>
                    {TYPE_LABELS[c] ?? c}
                  </option>
                ))}
              </select>
            </div>
          ) : null}
          {visible.map((f) => (
            <div className="field" key={f.name}>
              <label htmlFor={`${formId}-${f.name}`}>{f.label}</label>
              <input
                id={`${formId}-${f.name}`}
                type={f.secret ? 'password' : 'text'}
                autoComplete="off"
                required={!f.optional}
                // A Reconnect is for its own account: another would be refused as another company's books.
                readOnly={Boolean(reconnect) && f.name === 'accountId'}
                value={values[f.name] ?? ''}
                onChange={(e) => setValues((v) => ({ ...v, [f.name]: e.target.value }))}
              />
            </div>
          ))}
          <button type="submit" className="btn" disabled={busy}>
            {busy ? 'Checking…' : `Connect ${info.displayName}`}
          </button>
        </form>
      ) : null}
      <div role="status" aria-live="polite">
        {created ? (
          <div className={`banner banner-${created.missingPermissions.length ? 'warn' : 'ok'}`}>
            {created.reattached
              ? `Reconnected account ${created.externalId}; syncing resumes now.`
              : `Connected account ${created.externalId}; the first sync has started.`}
            {created.missingPermissions.length
              ? ` The role lacks: ${created.missingPermissions.join('; ')}.`
              : ''}
          </div>
        ) : null}
      </div>
      <ErrorBanner error={error} />
      {offered && info.permissions.length ? (
        <details>
          <summary>What Duely's role needs (Setup &gt; Users/Roles &gt; Manage Roles)</summary>
          <ul className="small" data-testid={`permissions-${info.provider}`}>
            {info.permissions.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </details>
      ) : null}
    </div>
  );
}
