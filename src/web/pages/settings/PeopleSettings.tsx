import { useId, useRef, useState } from 'react';
import { Card, ErrorBanner, Loading } from '../../components/ui';
import { api, apiPath } from '../../lib/api';
import { formatInstant } from '../../lib/format';
import { type Role, useCan } from '../../lib/role';
import { useApi } from '../../lib/use-api';

/** A person of the company as GET /users returns it (src/http/routes/users.ts). */
export interface Person {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  status: 'invited' | 'active' | 'disabled';
  invitedBy: string | null;
  lastSignInAt: string | null;
}

/** A person an admin removed (GET /users `removed`): kept out of Sign in with Intuit until let back. */
export interface RemovedPerson {
  id: string;
  email: string | null;
  name: string | null;
  intuitAccount: boolean;
  removedBy: string;
  removedAt: string;
}

/** How the Removed list names someone: name and address, or the Intuit account when Duely never had an address. */
const removedLabel = (r: RemovedPerson) =>
  [r.name, r.email ?? (r.intuitAccount ? 'Intuit account, no email address' : null)]
    .filter(Boolean)
    .join(' · ');

const ROLE_TEXT: Record<Role, string> = {
  viewer: 'Viewer — reads everything, changes nothing',
  collector: 'Collector — approves, skips and edits reminders; works tasks, promises, disputes and pauses',
  admin: 'Admin — also settings, sequences, connections and people',
};

const STATUS_TEXT: Record<Person['status'], string> = {
  invited: 'Invited (has not signed in yet)',
  active: 'Active',
  disabled: 'Access turned off',
};

/**
 * People: who can use Duely for this company and what they may do. Admins invite by email (the invitation holds a
 * one-time link valid 7 days), change roles, turn access off or remove someone; everyone else sees the list. The
 * people removed are listed apart: an admin invites them again or, for someone Duely knows only by their Intuit
 * account, allows them again. The operator (the server's own sign-in, every company) is no person of the company:
 * they act as its admin and are told so, and a company nobody was invited to yet says so instead of an empty table.
 */
export function PeopleSettings({ tenant }: { tenant: string }) {
  const people = useApi<{ items: Person[]; removed?: RemovedPerson[] }>(apiPath(tenant, 'users'));
  const isAdmin = useCan('admin');
  const operator = api.current?.operator === true;
  const emailRef = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<Error | null>(null);
  const [notice, setNotice] = useState('');
  const [draft, setDraft] = useState({ email: '', name: '', role: 'collector' as Role });
  const [busy, setBusy] = useState(false);
  const ids = { email: useId(), name: useId(), role: useId() };

  const act = async (work: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    try {
      setNotice(await work());
      await people.reload();
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };

  const invite = () =>
    act(async () => {
      const r = await api.post<{ user: Person; invitation: { delivery: 'sent' | 'outbox' | 'failed' } }>(
        apiPath(tenant, 'users'),
        { email: draft.email, ...(draft.name ? { name: draft.name } : {}), role: draft.role },
      );
      setDraft({ email: '', name: '', role: draft.role });
      return r.invitation.delivery === 'sent'
        ? `Invitation sent to ${r.user.email}.`
        : r.invitation.delivery === 'outbox'
          ? `${r.user.email} was added. No email provider is configured (RESEND_API_KEY and MAIL_FROM), so ` +
            'the invitation waits in the local outbox; until email is set up, the server operator can print ' +
            `their link with: npx duely login --tenant ${tenant} --email ${r.user.email}`
          : `${r.user.email} was added, but the invitation email failed: they can ask for a link on the sign-in page.`;
    });

  if (people.loading && !people.data) return <Loading label="Loading people…" />;
  const items = people.data?.items ?? [];
  const removed = people.data?.removed ?? [];
  return (
    <Card title="People">
      <p className="muted">
        Everyone who works on this company's receivables in Duely. Each person signs in with a link sent to
        their email (or with Intuit); the audit trail names them.
      </p>
      {operator ? (
        <p className="notice" data-testid="people-operator-note">
          You are signed in as the operator (the server's own sign-in link), not as a person of this company,
          so you are not listed here. The operator sees every company and acts as its admin: what you change
          is recorded as the operator's.
        </p>
      ) : null}
      <ErrorBanner error={error ?? people.error} />
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {people.data && items.length === 0 ? (
        <p className="muted" data-testid="people-none">
          Nobody has been invited to this company yet{isAdmin ? ': invite its first admin below.' : '.'} Until
          then only the operator can open it.
        </p>
      ) : null}
      <div className="table-wrap" hidden={items.length === 0}>
        <table className="table">
          <caption className="sr-only">People of this company</caption>
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Last sign-in</th>
              {isAdmin ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {items.map((p) => (
              <tr key={p.id}>
                <td>
                  {p.name ? (
                    <>
                      {p.name}
                      <br />
                    </>
                  ) : null}
                  <span className="mono small">{p.email}</span>
                </td>
                <td>
                  {isAdmin ? (
                    <select
                      aria-label={`Role of ${p.name ?? p.email}`}
                      value={p.role}
                      disabled={busy}
                      onChange={(e) =>
                        act(async () => {
                          await api.patch(apiPath(tenant, `users/${p.id}`), { role: e.target.value });
                          return `${p.email} is now ${e.target.value}.`;
                        })
                      }
                    >
                      <option value="viewer">Viewer</option>
                      <option value="collector">Collector</option>
                      <option value="admin">Admin</option>
                    </select>
                  ) : (
                    p.role
                  )}
                </td>
                <td>{STATUS_TEXT[p.status]}</td>
                <td>{p.lastSignInAt ? formatInstant(p.lastSignInAt) : '—'}</td>
                {isAdmin ? (
                  <td className="actions">
                    <button
                      type="button"
                      className="btn btn-secondary"
                      disabled={busy}
                      onClick={() =>
                        act(async () => {
                          const status = p.status === 'disabled' ? 'active' : 'disabled';
                          await api.patch(apiPath(tenant, `users/${p.id}`), { status });
                          return status === 'disabled'
                            ? `${p.email} can no longer sign in; their sessions ended.`
                            : `${p.email} can sign in again.`;
                        })
                      }
                    >
                      {p.status === 'disabled' ? 'Turn access on' : 'Turn access off'}
                    </button>{' '}
                    <button
                      type="button"
                      className="btn btn-danger"
                      disabled={busy}
                      onClick={() => {
                        if (
                          !window.confirm(
                            `Remove ${p.email} from this company in Duely? They can no longer sign in, with Intuit either, until an admin invites them again.`,
                          )
                        )
                          return;
                        void act(async () => {
                          await api.delete(apiPath(tenant, `users/${p.id}`));
                          return `${p.email} was removed; inviting them again lets them back in.`;
                        });
                      }}
                    >
                      Remove
                    </button>
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {removed.length > 0 ? (
        <>
          <h3>Removed</h3>
          <p className="muted">
            A person removed cannot sign in, with Intuit either, until an admin invites their address again.
            Someone Duely knows only by their Intuit account (no email address) is let back with Allow again:
            their next Sign in with Intuit makes them a viewer.
          </p>
          <div className="table-wrap">
            <table className="table" data-testid="people-removed">
              <caption className="sr-only">People removed from this company</caption>
              <thead>
                <tr>
                  <th scope="col">Person</th>
                  <th scope="col">Removed by</th>
                  <th scope="col">When</th>
                  {isAdmin ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {removed.map((r) => (
                  <tr key={r.id}>
                    <td>{removedLabel(r)}</td>
                    <td>{r.removedBy}</td>
                    <td>{formatInstant(r.removedAt)}</td>
                    {isAdmin ? (
                      <td className="actions">
                        {r.email ? (
                          <>
                            <button
                              type="button"
                              className="btn btn-secondary"
                              disabled={busy}
                              onClick={() => {
                                setDraft({ ...draft, email: r.email ?? '', name: r.name ?? '' });
                                setNotice(
                                  `Choose ${r.email}'s role and send the invitation to let them back.`,
                                );
                                emailRef.current?.scrollIntoView({ block: 'center' });
                                emailRef.current?.focus();
                              }}
                            >
                              Invite again
                            </button>{' '}
                          </>
                        ) : null}
                        <button
                          type="button"
                          className="btn btn-secondary"
                          disabled={busy}
                          onClick={() =>
                            act(async () => {
                              await api.delete(apiPath(tenant, `users/removed/${r.id}`));
                              return `${removedLabel(r)} may sign in with Intuit again (as a viewer until an admin says more).`;
                            })
                          }
                        >
                          Allow again
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {isAdmin ? (
        <form
          className="invite-form"
          onSubmit={(e) => {
            e.preventDefault();
            void invite();
          }}
        >
          <h3>Invite someone</h3>
          <label htmlFor={ids.email}>Email</label>
          <input
            ref={emailRef}
            id={ids.email}
            type="email"
            required
            maxLength={254}
            value={draft.email}
            onChange={(e) => setDraft({ ...draft, email: e.target.value })}
          />
          <label htmlFor={ids.name}>Name (optional)</label>
          <input
            id={ids.name}
            maxLength={120}
            value={draft.name}
            onChange={(e) => setDraft({ ...draft, name: e.target.value })}
          />
          <label htmlFor={ids.role}>Role</label>
          <select
            id={ids.role}
            value={draft.role}
            onChange={(e) => setDraft({ ...draft, role: e.target.value as Role })}
          >
            {(Object.keys(ROLE_TEXT) as Role[]).map((r) => (
              <option key={r} value={r}>
                {ROLE_TEXT[r]}
              </option>
            ))}
          </select>
          <button type="submit" className="btn" disabled={busy}>
            Send invitation
          </button>
        </form>
      ) : null}
    </Card>
  );
}
