/**
 * Disconnect with a confirm step: DELETE /api/v1/tenants/:tenant/connections/:id revokes the grant at QuickBooks
 * (when it still can), forgets the stored tokens and marks the connection disconnected (src/http/routes/connections.ts).
 */
import { useEffect, useRef, useState } from 'react';
import { ErrorBanner } from '../../components/ui';
import { api, apiPath } from '../../lib/api';
import type { DisconnectAnswer } from '../../lib/contracts';

/** `revoked` false: the provider could not be told; `adminAction`: what the admin does at the provider. */
export type DisconnectResult = DisconnectAnswer;

export function disconnectMessage(name: string, r: DisconnectResult): string {
  if (r.adminAction) return `${name} is disconnected: Duely deleted its credentials. ${r.adminAction}`;
  return r.revoked
    ? `${name} is disconnected: Duely's access was revoked at QuickBooks and its tokens deleted.`
    : `${name} is disconnected: Duely deleted its tokens (QuickBooks could not confirm the revocation; the access may already have ended).`;
}

export function DisconnectButton(props: {
  tenant: string;
  connectionId: string;
  name: string;
  onDone: (result: DisconnectResult) => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | null>(null);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const openRef = useRef<HTMLButtonElement>(null);
  const wasConfirming = useRef(false);

  // Focus follows the step: onto "Disconnect" when asked, back to the button when cancelled.
  useEffect(() => {
    if (confirming) confirmRef.current?.focus();
    else if (wasConfirming.current) openRef.current?.focus();
    wasConfirming.current = confirming;
  }, [confirming]);

  const disconnect = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.request<DisconnectResult>(
        'DELETE',
        apiPath(props.tenant, `connections/${props.connectionId}`),
      );
      setConfirming(false);
      props.onDone(r);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  if (!confirming) {
    return (
      <button ref={openRef} type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
        Disconnect
      </button>
    );
  }
  return (
    <fieldset className="confirm-disconnect">
      <legend>Disconnect {props.name}?</legend>
      <p>
        Duely stops syncing it, revokes its access at QuickBooks and stops sending reminders for it (balances
        could no longer be checked). Customers and invoices already synced stay in Duely; you can connect again at
        any time.
      </p>
      <div className="confirm-actions">
        <button
          ref={confirmRef}
          type="button"
          className="btn btn-danger"
          disabled={busy}
          onClick={disconnect}
        >
          {busy ? 'Disconnecting…' : 'Yes, disconnect'}
        </button>
        <button type="button" className="btn btn-ghost" disabled={busy} onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
      <ErrorBanner error={error} />
    </fieldset>
  );
}
