/**
 * Dunning controls for one customer: pause reminders until a date, exclude from automation, force a sequence,
 * send to other addresses (one override row, saved whole: the API replaces every field), record a promise to pay,
 * open or resolve a dispute. Errors appear next to their fields (checked here first, then the API's own); after a
 * change the page reloads its timeline and this card.
 */
import { type ReactNode, useId, useRef, useState } from 'react';
import type { Sequence } from '../../components/dunning';
import { ApiError, api, apiPath } from '../../lib/api';
import { daysText, formatDate, formatMoney } from '../../lib/format';
import type { InvoiceRow } from '../../lib/types';
import {
  addDays,
  apiFieldErrors,
  type DisputeForm,
  type DisputeRow,
  type FieldErrors,
  type OverrideForm,
  type OverrideRow,
  overrideFormOf,
  overrideSummary,
  type PromiseForm,
  type PromiseRow,
  promiseState,
  validateDispute,
  validateOverride,
  validatePromise,
} from './customer-timeline';

export interface OverridesProps {
  tenant: string;
  customer: { id: string; name: string; emails: string[] };
  invoices: InvoiceRow[];
  override: OverrideRow | null;
  promises: PromiseRow[];
  disputes: DisputeRow[];
  sequences: Sequence[];
  today: string | null;
  onChanged: () => Promise<void> | void;
}

const json = (v: unknown) => JSON.stringify(v);
const invoiceLabel = (i: InvoiceRow) => i.number ?? i.externalId;

/** A labelled control with its hint and error; the control gets aria-invalid and aria-describedby. */
function Field({
  id,
  label,
  hint,
  error,
  children,
}: {
  id: string;
  label: string;
  hint?: string;
  error?: string;
  children: (a11y: { id: string; 'aria-invalid'?: boolean; 'aria-describedby'?: string }) => ReactNode;
}) {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(error ? { 'aria-invalid': true } : {}),
        ...(described ? { 'aria-describedby': described } : {}),
      })}
      {hint ? (
        <span className="muted small" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span className="error-text small" id={`${id}-err`}>
          {error}
        </span>
      ) : null}
    </div>
  );
}

/**
 * Runs a change; a 400 becomes field errors, anything else a message; success is announced and reloads. While one
 * runs, buttons are aria-disabled (not disabled: a disabled button drops the keyboard focus) and clicks are ignored.
 */
function useSubmit(onChanged: () => Promise<void> | void) {
  const [busy, setBusy] = useState(false);
  const running = useRef(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const run = async (fn: () => Promise<unknown>, done: string, local?: FieldErrors) => {
    if (local && Object.keys(local).length) {
      setErrors(local);
      setStatus({ ok: false, text: 'Check the highlighted fields.' });
      return false;
    }
    if (running.current) return false;
    running.current = true;
    setBusy(true);
    setStatus(null);
    try {
      await fn();
      setErrors({});
      setStatus({ ok: true, text: done });
      await onChanged();
      return true;
    } catch (e) {
      const fields = e instanceof ApiError && e.status === 400 ? apiFieldErrors(e.details) : {};
      setErrors(fields);
      setStatus({ ok: false, text: (e as Error).message });
      return false;
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return { busy, errors, status, run };
}

function Status({ status }: { status: { ok: boolean; text: string } | null }) {
  return (
    <p role="status" className={status ? `banner ${status.ok ? 'banner-ok' : 'banner-error'}` : 'sr-only'}>
      {status?.text ?? ''}
    </p>
  );
}

export function Overrides(props: OverridesProps) {
  const seqName = (id: string) => props.sequences.find((s) => s.id === id)?.name ?? id;
  const summary = overrideSummary(props.override, seqName);
  const open = props.invoices.filter((i) => i.status === 'open');
  const byId = new Map(props.invoices.map((i) => [i.id, i]));
  const disputes = props.disputes.filter((d) => byId.has(d.invoiceId));
  return (
    <section className="card" aria-labelledby="overrides-h" data-testid="overrides">
      <h2 className="card-title" id="overrides-h">
        Dunning controls
      </h2>
      <div className="ov-summary" data-testid="override-summary">
        {summary.length ? (
          <ul className="ov-flags">
            {summary.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ul>
        ) : (
          <p className="muted">Reminders follow the policy: no overrides for {props.customer.name}.</p>
        )}
        {props.override?.note ? <p className="small muted">Note: {props.override.note}</p> : null}
      </div>
      <div className="ov-grid">
        <RemindersForm {...props} />
        <PromiseFormCard {...props} open={open} byId={byId} />
        <DisputeFormCard {...props} open={open} byId={byId} disputes={disputes} />
      </div>
    </section>
  );
}

function RemindersForm(props: OverridesProps) {
  const [form, setForm] = useState<OverrideForm>(() => overrideFormOf(props.override));
  // The form follows the stored override whenever it changes (after a save, or a change elsewhere), keeping the
  // "Saved" status that a remount would lose.
  const submitRef = useRef<HTMLButtonElement>(null);
  const [shown, setShown] = useState(props.override);
  if (shown !== props.override) {
    setShown(props.override);
    setForm(overrideFormOf(props.override));
  }
  const { busy, errors, status, run } = useSubmit(props.onChanged);
  const id = useId();
  const set = (patch: Partial<OverrideForm>) => setForm((f) => ({ ...f, ...patch }));
  const minPause = props.today ? addDays(props.today, 1) : undefined;

  const save = async () => {
    const v = validateOverride(
      props.customer.id,
      form,
      props.today,
      props.sequences.map((s) => s.id),
      props.override?.pausedUntil ?? null,
    );
    const body = v.ok ? v.body : null;
    const done = body?.pausedUntil
      ? `Saved. Reminders paused until ${formatDate(String(body.pausedUntil))}.`
      : 'Saved. The next planning run follows these settings.';
    await run(
      () => api.request('PUT', apiPath(props.tenant, 'dunning/overrides'), json(body), 'application/json'),
      done,
      v.ok ? undefined : v.errors,
    );
  };
  const clear = async () => {
    if (!props.override) return;
    const ok = await run(
      () => api.request('DELETE', apiPath(props.tenant, `dunning/overrides/${props.override!.id}`)),
      'Overrides removed. Reminders follow the policy again.',
    );
    // The button is gone with the override: the keyboard focus goes to the form's own button.
    if (ok) submitRef.current?.focus();
  };

  return (
    <form
      className="ov-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        save();
      }}
    >
      <fieldset>
        <legend>Reminders</legend>
        <Field
          id={`${id}-pause`}
          label="Pause reminders until"
          hint="Blank: not paused. Reminders may resume on this date."
          error={errors.pausedUntil}
        >
          {(a) => (
            <input
              {...a}
              type="date"
              min={minPause}
              value={form.pausedUntil}
              onChange={(e) => set({ pausedUntil: e.target.value })}
            />
          )}
        </Field>
        <div className="field field-check">
          <input
            id={`${id}-excluded`}
            type="checkbox"
            checked={form.excluded}
            onChange={(e) => set({ excluded: e.target.checked })}
            aria-describedby={`${id}-excluded-hint`}
          />
          <label htmlFor={`${id}-excluded`}>Exclude from automation</label>
        </div>
        <p className="muted small ov-hint" id={`${id}-excluded-hint`}>
          No automatic reminders at all until this is cleared.
        </p>
        <Field id={`${id}-seq`} label="Sequence" error={errors.sequenceId}>
          {(a) => (
            <select {...a} value={form.sequenceId} onChange={(e) => set({ sequenceId: e.target.value })}>
              <option value="">Chosen by the policy</option>
              {props.sequences.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field
          id={`${id}-emails`}
          label="Send reminders to"
          hint={`Comma-separated; used instead of an invoice’s own bill-to email too. Blank: an invoice’s bill-to email, else ${props.customer.emails.join(', ') || 'the customer’s billing emails (none on file)'}.`}
          error={errors.contactEmails}
        >
          {(a) => (
            <input
              {...a}
              type="text"
              inputMode="email"
              autoComplete="off"
              value={form.contactEmails}
              onChange={(e) => set({ contactEmails: e.target.value })}
            />
          )}
        </Field>
        <Field id={`${id}-note`} label="Note (optional)" error={errors.note}>
          {(a) => (
            <textarea {...a} rows={2} value={form.note} onChange={(e) => set({ note: e.target.value })} />
          )}
        </Field>
        <div className="ov-actions">
          <button type="submit" className="btn" aria-disabled={busy || undefined} ref={submitRef}>
            {busy ? 'Saving…' : 'Save reminder settings'}
          </button>
          {props.override ? (
            <button
              type="button"
              className="btn btn-secondary"
              aria-disabled={busy || undefined}
              onClick={clear}
            >
              Clear overrides
            </button>
          ) : null}
        </div>
        <Status status={status} />
      </fieldset>
    </form>
  );
}

function PromiseFormCard(props: OverridesProps & { open: InvoiceRow[]; byId: Map<string, InvoiceRow> }) {
  const overdue = props.open.filter((i) => i.daysOverdue > 0).map((i) => i.id);
  const empty = (): PromiseForm => ({ invoiceIds: overdue, promisedDate: '', amount: '', note: '' });
  const [form, setForm] = useState<PromiseForm>(empty);
  const { busy, errors, status, run } = useSubmit(props.onChanged);
  const id = useId();
  const set = (patch: Partial<PromiseForm>) => setForm((f) => ({ ...f, ...patch }));
  const currency = props.byId.get(form.invoiceIds[0] ?? '')?.currency ?? props.open[0]?.currency ?? 'USD';
  const selectedOpen = form.invoiceIds.reduce((sum, i) => sum + (props.byId.get(i)?.balanceMinor ?? 0), 0);

  const save = async () => {
    const v = validatePromise(props.customer.id, form, props.today, currency);
    const ok = await run(
      () => api.post(apiPath(props.tenant, 'dunning/promises'), v.ok ? v.body : undefined),
      `Promise recorded: pay by ${formatDate(form.promisedDate)}. Reminders on those invoices wait until then.`,
      v.ok ? undefined : v.errors,
    );
    if (ok) setForm(empty());
  };
  const submitRef = useRef<HTMLButtonElement>(null);
  const cancel = async (p: PromiseRow) => {
    const ok = await run(
      () => api.request('DELETE', apiPath(props.tenant, `dunning/promises/${p.id}`)),
      `Promise to pay by ${formatDate(p.promisedDate)} cancelled.`,
    );
    if (ok) submitRef.current?.focus();
  };

  return (
    <div className="ov-form">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <fieldset>
          <legend>Record a promise to pay</legend>
          {props.open.length === 0 ? (
            <p className="muted">No open invoices.</p>
          ) : (
            <fieldset
              className="ov-invoices"
              aria-describedby={errors.invoiceIds ? `${id}-inv-err` : undefined}
            >
              <legend className="ov-sublegend">Invoices</legend>
              <ul className="plain">
                {props.open.map((i) => (
                  <li key={i.id} className="field field-check">
                    <input
                      id={`${id}-inv-${i.id}`}
                      type="checkbox"
                      checked={form.invoiceIds.includes(i.id)}
                      onChange={(e) =>
                        set({
                          invoiceIds: e.target.checked
                            ? [...form.invoiceIds, i.id]
                            : form.invoiceIds.filter((x) => x !== i.id),
                        })
                      }
                    />
                    <label htmlFor={`${id}-inv-${i.id}`}>
                      {invoiceLabel(i)} · {formatMoney(i.balanceMinor, i.currency)}
                      {i.daysOverdue > 0 ? (
                        <span className="muted"> · {daysText(i.daysOverdue)} overdue</span>
                      ) : null}
                    </label>
                  </li>
                ))}
              </ul>
              {errors.invoiceIds ? (
                <span className="error-text small" id={`${id}-inv-err`}>
                  {errors.invoiceIds}
                </span>
              ) : null}
            </fieldset>
          )}
          <Field id={`${id}-date`} label="Promised payment date" error={errors.promisedDate}>
            {(a) => (
              <input
                {...a}
                type="date"
                min={props.today ?? undefined}
                value={form.promisedDate}
                onChange={(e) => set({ promisedDate: e.target.value })}
              />
            )}
          </Field>
          <Field
            id={`${id}-amount`}
            label={`Amount in ${currency} (optional)`}
            hint={
              selectedOpen ? `Selected invoices: ${formatMoney(selectedOpen, currency)} open.` : undefined
            }
            error={errors.amountMinor}
          >
            {(a) => (
              <input
                {...a}
                type="text"
                inputMode="decimal"
                autoComplete="off"
                value={form.amount}
                onChange={(e) => set({ amount: e.target.value })}
              />
            )}
          </Field>
          <Field id={`${id}-note`} label="Note (optional)" error={errors.note}>
            {(a) => (
              <textarea {...a} rows={2} value={form.note} onChange={(e) => set({ note: e.target.value })} />
            )}
          </Field>
          <div className="ov-actions">
            <button
              type="submit"
              className="btn"
              disabled={props.open.length === 0}
              aria-disabled={busy || undefined}
              ref={submitRef}
            >
              {busy ? 'Saving…' : 'Record promise'}
            </button>
          </div>
          <Status status={status} />
        </fieldset>
      </form>
      {props.promises.length ? (
        <div className="ov-list">
          <h3 className="ov-list-title">Promises</h3>
          <ul className="plain">
            {props.promises.map((p) => {
              const st = promiseState(p, props.byId, props.today);
              return (
                <li key={p.id} className="ov-row">
                  <span>
                    By {formatDate(p.promisedDate)}
                    {p.amountMinor !== null
                      ? `, ${formatMoney(p.amountMinor, props.byId.get(p.invoiceIds[0] ?? '')?.currency ?? currency)}`
                      : ''}{' '}
                    <span className={`badge badge-${st.tone}`}>{st.label}</span>
                  </span>
                  <button
                    type="button"
                    className="btn btn-ghost"
                    aria-disabled={busy || undefined}
                    onClick={() => cancel(p)}
                  >
                    Cancel<span className="sr-only"> promise to pay by {formatDate(p.promisedDate)}</span>
                  </button>
                </li>
              );
            })}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

function DisputeFormCard(
  props: OverridesProps & { open: InvoiceRow[]; byId: Map<string, InvoiceRow>; disputes: DisputeRow[] },
) {
  const empty = (): DisputeForm => ({ invoiceId: '', reason: '', until: '' });
  const [form, setForm] = useState<DisputeForm>(empty);
  const { busy, errors, status, run } = useSubmit(props.onChanged);
  const id = useId();
  const set = (patch: Partial<DisputeForm>) => setForm((f) => ({ ...f, ...patch }));
  const openDisputes = props.disputes.filter((d) => !d.resolvedAt);
  const label = (invoiceId: string) => {
    const i = props.byId.get(invoiceId);
    return i ? invoiceLabel(i) : 'invoice';
  };

  const save = async () => {
    const v = validateDispute(form, props.today);
    const ok = await run(
      () => api.post(apiPath(props.tenant, 'dunning/disputes'), v.ok ? v.body : undefined),
      `Dispute opened on ${label(form.invoiceId)}. No reminders for it until resolved.`,
      v.ok ? undefined : v.errors,
    );
    if (ok) setForm(empty());
  };
  const submitRef = useRef<HTMLButtonElement>(null);
  const resolve = async (d: DisputeRow) => {
    const ok = await run(
      () => api.patch(apiPath(props.tenant, `dunning/disputes/${d.id}`), { resolved: true }),
      `Dispute on ${label(d.invoiceId)} resolved. Reminders may resume.`,
    );
    if (ok) submitRef.current?.focus();
  };

  return (
    <div className="ov-form">
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <fieldset>
          <legend>Open a dispute</legend>
          <Field id={`${id}-inv`} label="Disputed invoice" error={errors.invoiceId}>
            {(a) => (
              <select {...a} value={form.invoiceId} onChange={(e) => set({ invoiceId: e.target.value })}>
                <option value="">Choose an invoice…</option>
                {props.open.map((i) => (
                  <option key={i.id} value={i.id}>
                    {invoiceLabel(i)} · {formatMoney(i.balanceMinor, i.currency)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id={`${id}-reason`} label="What is disputed" error={errors.reason}>
            {(a) => (
              <textarea
                {...a}
                rows={2}
                value={form.reason}
                onChange={(e) => set({ reason: e.target.value })}
              />
            )}
          </Field>
          <Field
            id={`${id}-until`}
            label="Hold reminders until (optional)"
            hint="Blank: until the dispute is resolved."
            error={errors.until}
          >
            {(a) => (
              <input
                {...a}
                type="date"
                min={props.today ? addDays(props.today, 1) : undefined}
                value={form.until}
                onChange={(e) => set({ until: e.target.value })}
              />
            )}
          </Field>
          <div className="ov-actions">
            <button
              type="submit"
              className="btn"
              disabled={props.open.length === 0}
              aria-disabled={busy || undefined}
              ref={submitRef}
            >
              {busy ? 'Saving…' : 'Open dispute'}
            </button>
          </div>
          <Status status={status} />
        </fieldset>
      </form>
      {openDisputes.length ? (
        <div className="ov-list">
          <h3 className="ov-list-title">Open disputes</h3>
          <ul className="plain">
            {openDisputes.map((d) => (
              <li key={d.id} className="ov-row">
                <span>
                  {label(d.invoiceId)} since {formatDate(d.openedOn)}
                  {d.reason ? <span className="muted"> — {d.reason}</span> : null}
                </span>
                <button
                  type="button"
                  className="btn btn-secondary"
                  aria-disabled={busy || undefined}
                  onClick={() => resolve(d)}
                >
                  Resolve<span className="sr-only"> dispute on {label(d.invoiceId)}</span>
                </button>
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </div>
  );
}
