/**
 * The key a company's own change-ping script signs with (NetSuite: a SuiteScript user-event script), shown to
 * admins on request: GET /api/v1/tenants/:tenant/connections/:id/ping-secret. Each account has its own key, so a
 * script can only ask Duely to poll its own account.
 */
import { useState } from 'react';
import { ErrorBanner } from '../../components/ui';
import { api, apiPath } from '../../lib/api';
import type { PingSecretAnswer } from '../../lib/contracts';

export function PingSecret(props: { tenant: string; connectionId: string }) {
  const [answer, setAnswer] = useState<PingSecretAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);

  async function show() {
    setBusy(true);
    setError(null);
    try {
      setAnswer(
        await api.get<PingSecretAnswer>(
          apiPath(props.tenant, `connections/${props.connectionId}/ping-secret`),
        ),
      );
    } catch (e) {
      setError(e as Error);
    } finally {
      setBusy(false);
    }
  }

  if (!answer) {
    return (
      <div className="small">
        <button type="button" className="btn btn-link" disabled={busy} onClick={show}>
          {busy ? 'Loading…' : 'Show the ping key for a SuiteScript'}
        </button>
        <ErrorBanner error={error} />
      </div>
    );
  }
  return (
    <div className="small" data-testid="ping-secret">
      <p>
        Optional: a SuiteScript in this account can tell Duely that records changed, so the next poll runs at
        once. It posts the changed ids to <code>{answer.url}</code> with the header{' '}
        <code>x-duely-timestamp</code> (Unix seconds) and <code>{answer.signatureHeader}: v1=</code>base64
        HMAC-SHA256 of <code>timestamp.body</code> under this key. The key works for this account only; keep
        it in the script's deployment parameters, not in its source.
      </p>
      <label>
        Ping key{' '}
        <input
          type="text"
          readOnly
          value={answer.secret}
          size={48}
          onFocus={(e) => e.currentTarget.select()}
        />
      </label>
    </div>
  );
}
