/**
 * The first admin of a company created by a connect whose provider names no person (e.g. NetSuite OAuth 2.0) has
 * a placeholder address (…@users.invalid): this card asks for their email. It becomes theirs only when they open
 * the link mailed to it (POST /api/v1/session/email, then /verify-email); nothing else is mailed to it before.
 */
import { useId, useState } from 'react';
import { ErrorBanner } from '../../components/ui';
import { api, type SessionInfo } from '../../lib/api';

export const needsOwnEmail = (session: SessionInfo | null): boolean =>
  Boolean(session?.user?.id && session.user.email?.toLowerCase().endsWith('@users.invalid'));

export function OwnEmail({ session }: { session: SessionInfo | null }) {
  const id = useId();
  const [email, setEmail] = useState('');
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);
  if (!needsOwnEmail(session)) return null;
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api.post<{ sent: boolean; email: string }>('/api/v1/session/email', { email });
      setSent(r.email);
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-label="Your email" data-testid="own-email">
      <h2 className="card-title">Your email</h2>
      <p className="muted">
        You connected this company and are its admin. Enter your email so you can sign in again later; we send
        one link to confirm it, and nothing else until you open it.
      </p>
      <form onSubmit={submit} className="upload">
        <div className="field">
          <label htmlFor={id}>Email</label>
          <input id={id} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </div>
        <button type="submit" className="btn" disabled={busy || !email}>
          {busy ? 'Sending…' : 'Send confirmation link'}
        </button>
      </form>
      <div role="status" aria-live="polite">
        {sent ? (
          <div className="banner banner-ok">Check {sent}: open the link in it and press Confirm.</div>
        ) : null}
      </div>
      <ErrorBanner error={error} />
    </section>
  );
}
