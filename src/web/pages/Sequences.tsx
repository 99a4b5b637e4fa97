import { useEffect, useId, useMemo, useState } from 'react';
import {
  type ApprovalRule,
  type DunningConfig,
  EmailFrame,
  type Policy,
  type Step,
  TONES,
  type Tone,
} from '../components/dunning';
import { addDays } from '../../../connectors/dates';
import { fromMinor, parseAmountMinor } from '../../../connectors/money';
import { SequencesReviewed } from '../components/go-live';
import { Card, Empty, ErrorBanner, Loading, PageHeader } from '../components/ui';
import { ApiError, api, apiPath } from '../lib/api';
import { formatDate, formatMoney } from '../lib/format';
import type { InvoiceRow } from '../lib/types';
import { useApi } from '../lib/use-api';
import type { PageProps } from '../page-props';
import '../components/dunning.css';

/** GET …/dunning/preview (the saved step) and POST (an unsaved draft of it) answer the same shape. */
interface Preview {
  sequence: string;
  step: number;
  tone: Tone;
  template: Step['template'];
  offsetDays: number;
  sendsOn: string;
  /** The step's day for this invoice passed before today: the planner would be past this step for it. */
  stepDayPassed: boolean;
  subject: string;
  html: string;
  text: string;
  templateVersion: string | null;
  source: 'saved' | 'draft';
}

/** Edits are previewed once typing pauses this long, not on every keystroke. */
export const DRAFT_PREVIEW_DELAY_MS = 300;

/** "draft.offsetDays: at most 365 …" details of a refused draft preview → readable lines. */
export function draftErrors(err: unknown): string[] {
  if (!(err instanceof ApiError) || err.status !== 400 || !Array.isArray(err.details)) return [];
  return (err.details as { field?: string; message?: string }[]).map((d) => {
    const field = (d.field ?? '').replace(/^draft\.?/, '');
    return field ? `${field}: ${d.message ?? ''}` : (d.message ?? '');
  });
}

/** "policy.sequences[0].steps[1].offsetDays: duplicate …" details → { "sequences[0].steps[1].offsetDays": [...] }. */
export function fieldErrors(err: unknown): { byField: Map<string, string[]>; other: string[] } {
  const byField = new Map<string, string[]>();
  const other: string[] = [];
  const details = err instanceof ApiError && Array.isArray(err.details) ? (err.details as { field?: string; message?: string }[]) : [];
  for (const d of details) {
    const field = (d.field ?? '').replace(/^policy\./, '');
    const msg = d.message ?? '';
    if (/^sequences\[\d+\]/.test(field)) byField.set(field, [...(byField.get(field) ?? []), msg]);
    else other.push(field && field !== 'policy' ? `${field}: ${msg}` : msg);
  }
  return { byField, other };
}

const approvalLabels: Record<ApprovalRule['type'], string> = {
  never: 'No approval',
  always: 'Always needs approval',
  above_amount: 'Above an amount',
  high_risk: 'High-risk customers',
};

/** "1200.50" → 120050 minor units: the money kernel's rule for typed amounts. Null when it refuses the text. */
export const parseMajor = parseAmountMinor;

/** 120050 → "1200.50" (no grouping: the field shows what was saved). */
const toMajor = fromMinor;

type PreviewInvoice = Pick<InvoiceRow, 'id' | 'dueDate' | 'daysOverdue'>;

/**
 * The ledger's "today" as the server counts days overdue (the service clock, which a demo sets), read off an overdue
 * invoice: its due date plus its days overdue. Without one, the browser's date.
 */
export function ledgerToday(rows: readonly PreviewInvoice[], fallback: string): string {
  const overdue = rows.find((r) => r.daysOverdue > 0);
  return overdue ? addDays(overdue.dueDate, overdue.daysOverdue) : fallback;
}

/**
 * The invoice a step is previewed with until someone picks one: one this step would still be sent for (its due date
 * plus the step's offset is today or later), the soonest such; else the youngest. The oldest overdue invoice for every
 * step previewed a pre-due nudge of a 699-days-overdue invoice "on Jan 4, 2025".
 */
export function previewInvoiceFor(
  rows: readonly PreviewInvoice[],
  offsetDays: number,
  today: string,
): string | undefined {
  const stepDay = (r: PreviewInvoice) => addDays(r.dueDate, offsetDays);
  const ahead = rows.filter((r) => stepDay(r) >= today).sort((a, b) => stepDay(a).localeCompare(stepDay(b)));
  if (ahead[0]) return ahead[0].id;
  return [...rows].sort((a, b) => b.dueDate.localeCompare(a.dueDate))[0]?.id;
}

function sameStep(a: Step | undefined, b: Step | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function SequencesPage({ tenant, currency }: PageProps) {
  const config = useApi<DunningConfig>(apiPath(tenant, 'dunning/policy'));
  const invoices = useApi<{ items: InvoiceRow[] }>(apiPath(tenant, 'invoices', { status: 'open', limit: 100 }));
  // The youngest open invoices too: a pre-due step is previewed with an invoice not due yet.
  const youngest = useApi<{ items: InvoiceRow[] }>(
    apiPath(tenant, 'invoices', { status: 'open', sort: '-dueDate', limit: 100 }),
  );
  const [saved, setSaved] = useState<DunningConfig | null>(null);
  const [draft, setDraft] = useState<Policy | null>(null);
  const [seqIndex, setSeqIndex] = useState(0);
  const [previewStep, setPreviewStep] = useState(0);
  // The invoice someone picked; until then each step is previewed with one it would be sent for.
  const [pickedInvoice, setInvoiceId] = useState('');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [status, setStatus] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewError, setPreviewError] = useState<Error | null>(null);
  const [previewLoading, setPreviewLoading] = useState(false);
  const ids = { seq: useId(), invoice: useId(), name: useId() };

  useEffect(() => {
    if (config.data && !saved) {
      setSaved(config.data);
      setDraft(structuredClone(config.data.policy));
    }
  }, [config.data, saved]);

  // Overdue invoices first: those are the ones reminders are about.
  const invoiceOptions = useMemo(() => {
    const byId = new Map([...(invoices.data?.items ?? []), ...(youngest.data?.items ?? [])].map((i) => [i.id, i]));
    return [...byId.values()].sort((a, b) => b.daysOverdue - a.daysOverdue || a.dueDate.localeCompare(b.dueDate));
  }, [invoices.data, youngest.data]);

  const seq = draft?.sequences[seqIndex];
  // Chosen once per previewed step (not on each edit of its days, which would swap the invoice while typing).
  const pickKey = `${seq?.id ?? ''}:${previewStep}`;
  const stepOffset = seq?.steps[previewStep]?.offsetDays ?? 0;
  const [autoInvoice, setAutoInvoice] = useState<{ key: string; id: string } | null>(null);
  useEffect(() => {
    // Both lists first: picked from the oldest alone, a pre-due step would keep an overdue invoice.
    if (autoInvoice?.key === pickKey || invoices.loading || youngest.loading) return;
    const today = ledgerToday(invoiceOptions, new Date().toISOString().slice(0, 10));
    const id = previewInvoiceFor(invoiceOptions, stepOffset, today);
    if (id) setAutoInvoice({ key: pickKey, id });
  }, [autoInvoice, pickKey, invoiceOptions, stepOffset, invoices.loading, youngest.loading]);
  const invoiceId = pickedInvoice || (autoInvoice?.key === pickKey ? autoInvoice.id : '');
  const seqId = seq?.id;
  const savedSeq = saved?.policy.sequences.find((s) => s.id === seq?.id);
  const savedStep = savedSeq?.steps[previewStep];
  const draftStep = seq?.steps[previewStep];
  const unsaved = Boolean(draftStep) && !sameStep(savedStep, draftStep);
  // Keys, not objects: every edit clones the policy, but only a change of this step should re-render it.
  const draftKey = draftStep ? JSON.stringify(draftStep) : '';
  const savedKey = savedStep ? JSON.stringify(savedStep) : '';

  // The saved step renders at once (GET); an unsaved edit of it, or a step not saved yet, renders as a draft (POST)
  // once the edits pause. Only the latest request may fill the preview.
  useEffect(() => {
    if (!seqId || !invoiceId || (!savedKey && !draftKey)) {
      setPreview(null);
      return;
    }
    let live = true;
    setPreviewLoading(true);
    setPreviewError(null);
    const load = () =>
      (unsaved
        ? api.post<Preview>(apiPath(tenant, 'dunning/preview'), {
            invoice: invoiceId,
            sequence: seqId,
            step: previewStep,
            draft: JSON.parse(draftKey) as Step,
          })
        : api.get<Preview>(apiPath(tenant, 'dunning/preview', { invoice: invoiceId, sequence: seqId, step: previewStep }))
      )
        .then(
          (p) => live && setPreview(p),
          (e: Error) => {
            if (!live) return;
            setPreview(null);
            setPreviewError(e);
          },
        )
        .finally(() => live && setPreviewLoading(false));
    const timer = setTimeout(load, unsaved ? DRAFT_PREVIEW_DELAY_MS : 0);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [tenant, seqId, previewStep, invoiceId, unsaved, draftKey, savedKey]);

  if (config.loading && !config.data) return <Loading label="Loading sequences…" />;
  if (config.error) return <ErrorBanner error={config.error} />;
  if (!draft || !saved || !seq) return null;

  const errs = fieldErrors(saveError);
  const errorsFor = (path: string) => errs.byField.get(`sequences[${seqIndex}].${path}`) ?? [];
  const dirty = JSON.stringify(draft) !== JSON.stringify(saved.policy);

  const updateStep = (i: number, patch: Partial<Step>) => {
    setDraft((d) => {
      if (!d) return d;
      const next = structuredClone(d);
      const s = next.sequences[seqIndex]!.steps[i]!;
      Object.assign(s, patch);
      return next;
    });
  };
  const updateSeq = (fn: (steps: Step[]) => Step[]) =>
    setDraft((d) => {
      if (!d) return d;
      const next = structuredClone(d);
      next.sequences[seqIndex]!.steps = fn(next.sequences[seqIndex]!.steps);
      return next;
    });

  const save = async () => {
    setSaving(true);
    setSaveError(null);
    setStatus('');
    try {
      const r = await api.request<{ version: number; policy: Policy; settings: DunningConfig['settings'] }>(
        'PUT',
        apiPath(tenant, 'dunning/policy'),
        JSON.stringify({ policy: draft }),
        'application/json',
      );
      setSaved({ version: r.version, policy: r.policy, settings: r.settings });
      setDraft(structuredClone(r.policy));
      setStatus(`Saved as version ${r.version}.`);
    } catch (e) {
      setSaveError(e);
      setStatus('Not saved: fix the errors below.');
    } finally {
      setSaving(false);
    }
  };

  const selectedInvoice = invoiceOptions.find((i) => i.id === invoiceId);
  const generalErrors = [
    ...errs.other,
    ...[...errs.byField.entries()]
      .filter(([f]) => !f.startsWith(`sequences[${seqIndex}].steps[`))
      .map(([f, m]) => `${f}: ${m.join('; ')}`),
  ];

  return (
    <>
      <PageHeader
        title="Sequences"
        subtitle={`Reminder steps by days from the due date · ${saved.version === 0 ? 'Duely’s defaults, not changed yet' : `settings saved ${saved.version} time${saved.version === 1 ? '' : 's'}`}`}
        actions={
          <>
            <SequencesReviewed tenant={tenant} dirty={dirty} />
            <button type="button" className="btn btn-ghost" disabled={!dirty || saving} onClick={() => {
                setDraft(structuredClone(saved.policy));
                setSaveError(null);
                setStatus('');
              }}>
              Discard changes
            </button>
            <button type="button" className="btn" disabled={!dirty || saving} onClick={save}>
              {saving ? 'Saving…' : 'Save policy'}
            </button>
          </>
        }
      />
      <div role="status" aria-live="polite" className={status ? `banner ${saveError ? 'banner-error' : 'banner-ok'}` : 'sr-only'}>
        {status}
      </div>
      {generalErrors.length ? (
        <div className="banner banner-error" role="alert">
          <ul className="plain">
            {generalErrors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="filters">
        <div className="field">
          <label htmlFor={ids.seq}>Sequence</label>
          <select
            id={ids.seq}
            value={seqIndex}
            onChange={(e) => {
              setSeqIndex(Number(e.target.value));
              setPreviewStep(0);
            }}
          >
            {draft.sequences.map((s, i) => (
              <option key={s.id} value={i}>
                {s.name}
                {s.id === draft.defaultSequenceId ? ' (default)' : ''}
              </option>
            ))}
          </select>
        </div>
        <p className="note seq-meta">
          <span className="mono">{seq.id}</span> · {seq.steps.length} step{seq.steps.length === 1 ? '' : 's'}
          {seq.repeat ? ` · then every ${seq.repeat.everyDays} days, at most ${seq.repeat.maxRepeats} times` : ''}
          {draft.rules.length
            ? ` · ${draft.rules.length} rule${draft.rules.length === 1 ? '' : 's'} pick${draft.rules.length === 1 ? 's' : ''} sequences per customer`
            : ''}
        </p>
      </div>
      <div className="seq-layout">
        <Card title={`Steps of “${seq.name}”`}>
          {errorsFor('steps').map((m) => (
            <p key={m} className="error-text small" role="alert">
              {m}
            </p>
          ))}
          <ol className="steps">
            {seq.steps.map((step, i) => (
              <StepEditor
                // biome-ignore lint/suspicious/noArrayIndexKey: steps have no id; position is their identity
                key={i}
                index={i}
                step={step}
                currency={currency}
                errors={(f) => errorsFor(`steps[${i}]${f ? `.${f}` : ''}`)}
                previewing={previewStep === i}
                onPreview={() => setPreviewStep(i)}
                onChange={(patch) => updateStep(i, patch)}
                onRemove={
                  seq.steps.length > 1
                    ? () => {
                        updateSeq((steps) => steps.filter((_, j) => j !== i));
                        setPreviewStep((p) => (p >= i && p > 0 ? p - 1 : p));
                      }
                    : undefined
                }
              />
            ))}
          </ol>
          <button
            type="button"
            className="btn btn-secondary"
            disabled={seq.steps.length >= 12}
            onClick={() =>
              updateSeq((steps) => {
                const last = steps.at(-1);
                return [
                  ...steps,
                  {
                    offsetDays: (last?.offsetDays ?? 0) + 7,
                    tone: last?.tone === 'friendly' ? 'neutral' : 'firm',
                    channel: 'email',
                    template: 'reminder',
                    approval: { type: 'never' },
                    onlyIfPredictedLate: false,
                  },
                ];
              })
            }
          >
            Add step
          </button>
          <p className="note">Steps run in order of days from the due date; a final notice must be the last step.</p>
        </Card>
        <section className="card preview-card" aria-labelledby={`${ids.invoice}-h`}>
          <h2 className="card-title" id={`${ids.invoice}-h`}>
            Preview: step {previewStep + 1}
          </h2>
          <div className="field">
            <label htmlFor={ids.invoice}>Invoice</label>
            <select id={ids.invoice} value={invoiceId} onChange={(e) => setInvoiceId(e.target.value)} disabled={!invoiceOptions.length}>
              {invoiceOptions.map((inv) => (
                <option key={inv.id} value={inv.id}>
                  {inv.number ?? inv.externalId} · {inv.customerName ?? inv.customerExternalId ?? ''} ·{' '}
                  {formatMoney(inv.balanceMinor, inv.currency)}
                  {inv.daysOverdue > 0 ? ` · ${inv.daysOverdue}d overdue` : ''}
                </option>
              ))}
            </select>
          </div>
          {invoices.error ? <ErrorBanner error={invoices.error} /> : null}
          {!invoices.loading && !invoiceOptions.length ? <Empty>No open invoices to preview with.</Empty> : null}
          {previewError && draftErrors(previewError).length ? (
            <div className="banner banner-warn" role="alert" data-testid="preview-draft-errors">
              Can’t preview this draft yet:
              <ul className="plain">
                {draftErrors(previewError).map((e) => (
                  <li key={e}>{e}</li>
                ))}
              </ul>
            </div>
          ) : (
            <ErrorBanner error={previewError} />
          )}
          {preview ? (
            <div data-testid="sequence-preview" aria-busy={previewLoading}>
              <p
                className={preview.source === 'draft' ? 'banner banner-warn' : 'note'}
                data-testid="preview-source"
                aria-live="polite"
              >
                {preview.source === 'draft' ? 'Preview of unsaved changes' : 'Saved version'}
                {previewLoading ? <span className="note small"> · updating…</span> : null}
              </p>
              <dl className="facts preview-facts">
                <dt>Subject</dt>
                <dd data-testid="preview-subject">{preview.subject}</dd>
                <dt>Tone</dt>
                <dd data-testid="preview-tone">{preview.tone}</dd>
                <dt>Would send on</dt>
                <dd data-testid="preview-sends-on">
                  {preview.stepDayPassed
                    ? 'Not for this invoice: its day for this step has passed, so the planner would send a later step. Pick an invoice due more recently.'
                    : `${formatDate(preview.sendsOn)}${selectedInvoice ? ` (due ${formatDate(selectedInvoice.dueDate)})` : ''}`}
                </dd>
              </dl>
              <EmailFrame html={preview.html} title={`Email preview: ${preview.subject}`} />
            </div>
          ) : previewLoading ? (
            <Loading label="Rendering preview…" />
          ) : null}
        </section>
      </div>
    </>
  );
}

/** The step's wording after an edit; empty parts fall back to the built-in copy (and an empty copy is dropped). */
export function copyPatch(
  copy: Step['copy'],
  change: { subject?: string; body?: string },
): Step['copy'] {
  const next = { ...copy, ...change };
  const out: NonNullable<Step['copy']> = {};
  if (next.subject?.trim()) out.subject = next.subject;
  if (next.body?.trim()) out.body = next.body;
  return out.subject || out.body ? out : undefined;
}

function StepEditor(props: {
  index: number;
  step: Step;
  currency: string;
  errors: (field: string) => string[];
  previewing: boolean;
  onPreview: () => void;
  onChange: (patch: Partial<Step>) => void;
  onRemove?: () => void;
}) {
  const { index, step, currency, errors } = props;
  const base = useId();
  const [amount, setAmount] = useState(
    step.approval.type === 'above_amount' && step.approval.amountMinor ? toMajor(step.approval.amountMinor, currency) : '',
  );
  // Keep the typed amount, but follow changes made elsewhere (discard, another step removed).
  const ruleAmount = step.approval.type === 'above_amount' ? step.approval.amountMinor : undefined;
  useEffect(() => {
    setAmount((a) => (parseMajor(a, currency) ?? undefined) === ruleAmount ? a : ruleAmount ? toMajor(ruleAmount, currency) : '');
  }, [ruleAmount, currency]);
  const n = index + 1;
  const field = (name: string, label: string, input: React.ReactNode, path: string) => {
    const errs = errors(path);
    return (
      <div className="field">
        <label htmlFor={`${base}-${name}`}>{label}</label>
        {input}
        {errs.length ? (
          <span className="error-text small" id={`${base}-${name}-err`}>
            {errs.join('; ')}
          </span>
        ) : null}
      </div>
    );
  };
  const errAttrs = (name: string, path: string) =>
    errors(path).length ? { 'aria-invalid': true, 'aria-describedby': `${base}-${name}-err` } : {};
  const stepErrors = errors('');
  return (
    <li className={`step ${props.previewing ? 'step-previewing' : ''}`} aria-label={`Step ${n}`}>
      <div className="step-head">
        <span className="step-num">Step {n}</span>
        <span className="step-actions">
          <button type="button" className="btn btn-ghost" aria-pressed={props.previewing} onClick={props.onPreview}>
            {props.previewing ? 'Previewing' : 'Preview'}
            <span className="sr-only"> step {n}</span>
          </button>
          {props.onRemove ? (
            <button type="button" className="btn btn-danger" onClick={props.onRemove}>
              Remove<span className="sr-only"> step {n}</span>
            </button>
          ) : null}
        </span>
      </div>
      {stepErrors.map((m) => (
        <p key={m} className="error-text small">
          {m}
        </p>
      ))}
      <div className="step-fields">
        {field(
          'offset',
          `Days from due date (step ${n})`,
          <input
            id={`${base}-offset`}
            type="number"
            min={-30}
            max={365}
            step={1}
            value={Number.isFinite(step.offsetDays) ? step.offsetDays : ''}
            onChange={(e) => props.onChange({ offsetDays: e.target.value === '' ? Number.NaN : Number(e.target.value) })}
            {...errAttrs('offset', 'offsetDays')}
          />,
          'offsetDays',
        )}
        {field(
          'tone',
          `Tone (step ${n})`,
          <select id={`${base}-tone`} value={step.tone} onChange={(e) => props.onChange({ tone: e.target.value as Tone })} {...errAttrs('tone', 'tone')}>
            {TONES.map((t) => (
              <option key={t} value={t}>
                {t[0]!.toUpperCase() + t.slice(1)}
              </option>
            ))}
          </select>,
          'tone',
        )}
        {field(
          'template',
          `Template (step ${n})`,
          <select
            id={`${base}-template`}
            value={step.template}
            onChange={(e) => props.onChange({ template: e.target.value as Step['template'] })}
            {...errAttrs('template', 'template')}
          >
            <option value="reminder">Reminder</option>
            <option value="statement">Statement of account</option>
          </select>,
          'template',
        )}
        {field(
          'approval',
          `Approval (step ${n})`,
          <select
            id={`${base}-approval`}
            value={step.approval.type}
            onChange={(e) => {
              const type = e.target.value as ApprovalRule['type'];
              const amountMinor = parseMajor(amount, currency);
              props.onChange({
                approval: type === 'above_amount' && amountMinor ? { type, amountMinor } : ({ type } as ApprovalRule),
              });
            }}
            {...errAttrs('approval', 'approval')}
          >
            {(Object.keys(approvalLabels) as ApprovalRule['type'][]).map((t) => (
              <option key={t} value={t}>
                {approvalLabels[t]}
              </option>
            ))}
          </select>,
          'approval',
        )}
        {step.approval.type === 'above_amount'
          ? field(
              'amount',
              `Approval above (${currency}, blank = company threshold)`,
              <input
                id={`${base}-amount`}
                inputMode="decimal"
                value={amount}
                onChange={(e) => {
                  setAmount(e.target.value);
                  const amountMinor = parseMajor(e.target.value, currency);
                  props.onChange({ approval: amountMinor ? { type: 'above_amount', amountMinor } : { type: 'above_amount' } });
                }}
                {...errAttrs('amount', 'approval.amountMinor')}
              />,
              'approval.amountMinor',
            )
          : null}
        <div className="field field-check">
          <input
            id={`${base}-late`}
            type="checkbox"
            checked={step.onlyIfPredictedLate}
            onChange={(e) => props.onChange({ onlyIfPredictedLate: e.target.checked })}
          />
          <label htmlFor={`${base}-late`}>Only if predicted late</label>
        </div>
      </div>
      <div className="step-fields step-copy">
        {field(
          'subject',
          `Own subject (step ${n}, optional)`,
          <input
            id={`${base}-subject`}
            type="text"
            maxLength={200}
            placeholder="Built-in subject of the tone"
            value={step.copy?.subject ?? ''}
            onChange={(e) => props.onChange({ copy: copyPatch(step.copy, { subject: e.target.value }) })}
            {...errAttrs('subject', 'copy.subject')}
          />,
          'copy.subject',
        )}
        {field(
          'body',
          `Own wording (step ${n}, optional; blank lines separate paragraphs)`,
          <textarea
            id={`${base}-body`}
            rows={4}
            maxLength={5000}
            placeholder="Built-in wording of the tone"
            value={step.copy?.body ?? ''}
            onChange={(e) => props.onChange({ copy: copyPatch(step.copy, { body: e.target.value }) })}
            {...errAttrs('body', 'copy.body')}
          />,
          'copy.body',
        )}
        <p className="note small">
          Merge fields: {'{{customer}} {{contact}} {{invoice_list}} {{total}} {{overdue_total}} {{days_overdue}} {{pay_link}} {{sender}}'}.
          The greeting, invoice table and footer are always added.
        </p>
      </div>
      {errors('channel').length ? <p className="error-text small">{errors('channel').join('; ')}</p> : null}
    </li>
  );
}
