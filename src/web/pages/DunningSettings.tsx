import { useId, useRef, useState } from 'react';
import {
  describedBy,
  FieldError,
  fieldIds,
  groupDescribedBy,
  SaveStatus,
  useEditorFocus,
} from '../components/form-field';
import { Card, ErrorBanner, Loading } from '../components/ui';
import { formatAmountInput, parseAmountInput } from '../lib/amount-input';
import { api, apiPath } from '../lib/api';
import { type FieldIssue, serverFieldErrors } from '../lib/field-errors';
import { formatDate, formatMoney } from '../lib/format';
import { useApi } from '../lib/use-api';

/** The tenant's dunning sending settings (dunningSettingsSchema in src/dunning/policy.ts). */
export interface SendingSettings {
  timezone: string;
  /** ISO weekdays, 1 = Monday … 7 = Sunday. */
  businessDays: number[];
  businessHours: { start: number; end: number };
  quietHours: { start: number; end: number } | null;
  holidays: string[];
  approvalThresholdMinor: number;
  sensitivity: 'low' | 'medium' | 'high';
  minDaysBetweenMessages: number;
  /** A CSV company: reminders wait while its latest upload is older than this many days. */
  maxUploadAgeDays: number;
}

interface PolicyResponse {
  version: number;
  settings: SendingSettings;
}

const DAYS = [
  { iso: 1, short: 'Mon', long: 'Monday' },
  { iso: 2, short: 'Tue', long: 'Tuesday' },
  { iso: 3, short: 'Wed', long: 'Wednesday' },
  { iso: 4, short: 'Thu', long: 'Thursday' },
  { iso: 5, short: 'Fri', long: 'Friday' },
  { iso: 6, short: 'Sat', long: 'Saturday' },
  { iso: 7, short: 'Sun', long: 'Sunday' },
];

/** Thresholds on the predicted probability of paying late (P_LATE_THRESHOLD in src/dunning/policy.ts). */
export const NUDGE_OPTIONS: { value: SendingSettings['sensitivity']; label: string }[] = [
  { value: 'low', label: 'Sparing: only when lateness is likely (70% or more)' },
  { value: 'medium', label: 'Balanced: when lateness is more likely than not (50% or more)' },
  { value: 'high', label: 'Early: when lateness is plausible (30% or more)' },
];

const FIELDS = [
  'businessDays',
  'businessHours',
  'quietHours',
  'holidays',
  'approvalThresholdMinor',
  'minDaysBetweenMessages',
  'maxUploadAgeDays',
  'sensitivity',
  'timezone',
] as const;
type Field = (typeof FIELDS)[number];

export const hourLabel = (h: number) => `${String(h).padStart(2, '0')}:00${h === 24 ? ' (midnight)' : ''}`;
const HOURS = Array.from({ length: 25 }, (_, h) => h);

/** [1,2,3,4,5] → "Mon–Fri"; [1,3,6,7] → "Mon, Wed, Sat–Sun". */
export function formatBusinessDays(days: readonly number[]): string {
  const sorted = [...new Set(days)].sort((a, b) => a - b);
  const runs: number[][] = [];
  for (const d of sorted) {
    const run = runs.at(-1);
    if (run && run.at(-1) === d - 1) run.push(d);
    else runs.push([d]);
  }
  const name = (d: number) => DAYS[d - 1]?.short ?? String(d);
  return runs
    .map((r) => (r.length >= 3 ? `${name(r[0]!)}–${name(r.at(-1)!)}` : r.map(name).join(', ')))
    .join(', ');
}

interface Draft {
  businessDays: number[];
  hoursStart: number;
  hoursEnd: number;
  quietOn: boolean;
  quietStart: number;
  quietEnd: number;
  holidays: string[];
  newHoliday: string;
  threshold: string;
  minDays: string;
  maxUploadAge: string;
  sensitivity: SendingSettings['sensitivity'];
  useCompanyTimezone: boolean;
  timezone: string;
}

function toDraft(s: SendingSettings, currency: string, companyTimezone: string | null): Draft {
  return {
    businessDays: [...s.businessDays],
    hoursStart: s.businessHours.start,
    hoursEnd: s.businessHours.end,
    quietOn: s.quietHours !== null,
    quietStart: s.quietHours?.start ?? 12,
    quietEnd: s.quietHours?.end ?? 13,
    holidays: [...s.holidays].sort(),
    newHoliday: '',
    threshold: formatAmountInput(s.approvalThresholdMinor, currency),
    minDays: String(s.minDaysBetweenMessages),
    maxUploadAge: String(s.maxUploadAgeDays),
    sensitivity: s.sensitivity,
    useCompanyTimezone: companyTimezone !== null && s.timezone === companyTimezone,
    timezone: s.timezone,
  };
}

const timeZones = (): string[] => {
  try {
    return Intl.supportedValuesOf('timeZone');
  } catch {
    return [];
  }
};

/**
 * When reminders may go out and what waits for a reviewer: business days and hours, quiet hours, holidays, the
 * approval threshold, the spacing between messages, pre-due nudges, and the time zone for customers without one
 * (PUT dunning/policy with `settings`; the server validates and answers with field paths, shown by each field).
 * A read-only summary until "Edit"; a failed save keeps every edit.
 */
export function DunningSettings({
  tenant,
  currency,
  csv = false,
}: {
  tenant: string;
  currency: string;
  /** A CSV company (its ledger is its latest upload): the upload-age limit is shown and edited. */
  csv?: boolean;
}) {
  const config = useApi<PolicyResponse>(apiPath(tenant, 'dunning/policy'));
  const company = useApi<{ timezone: string }>(apiPath(tenant, 'settings'));
  const [latest, setLatest] = useState<PolicyResponse | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState<unknown>(null);
  const [localErrors, setLocalErrors] = useState<Partial<Record<Field | 'newHoliday', FieldIssue[]>>>({});
  const [status, setStatus] = useState('');
  const id = useId();
  const holidayInput = useRef<HTMLInputElement>(null);

  const current = latest ?? config.data;
  const companyTimezone = company.data?.timezone ?? null;
  const editing = draft !== null;

  // Opening the form focuses its first control and closing it the Edit button; a failed save, the first marked field.
  const { form, editButton, focusInvalidNext } = useEditorFocus(editing, 'input, select');

  if (config.loading && !current) return <Loading label="Loading reminder settings…" />;
  if (!current) return <ErrorBanner error={config.error} />;
  const s = current.settings;

  const server = serverFieldErrors(serverError, 'settings', FIELDS);
  const issues = (f: Field | 'newHoliday'): string[] =>
    [...(localErrors[f] ?? []), ...(f === 'newHoliday' ? [] : (server.byField[f] ?? []))].map((i) =>
      issueText(f, i, draft),
    );

  const edit = () => {
    company.reload();
    setDraft(toDraft(s, currency, companyTimezone));
    setServerError(null);
    setLocalErrors({});
    setStatus('');
  };
  const cancel = () => {
    setDraft(null);
    setServerError(null);
    setLocalErrors({});
    setStatus('');
  };
  const update = (patch: Partial<Draft>) => setDraft((d) => (d ? { ...d, ...patch } : d));

  const addHoliday = () => {
    if (!draft) return;
    const day = draft.newHoliday;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) {
      setLocalErrors((e) => ({ ...e, newHoliday: [{ at: '', message: 'choose a date first' }] }));
      return;
    }
    setLocalErrors((e) => ({ ...e, newHoliday: undefined }));
    update({ holidays: [...new Set([...draft.holidays, day])].sort(), newHoliday: '' });
    holidayInput.current?.focus();
  };
  const removeHoliday = (day: string) => {
    update({ holidays: draft?.holidays.filter((h) => h !== day) ?? [] });
    holidayInput.current?.focus();
  };

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!draft) return;
    const local: Partial<Record<Field, FieldIssue[]>> = {};
    const amount = parseAmountInput(draft.threshold, currency);
    if (!amount.ok) local.approvalThresholdMinor = [{ at: '', message: amount.message }];
    const minDays = /^\s*\d+\s*$/.test(draft.minDays) ? Number(draft.minDays) : Number.NaN;
    if (Number.isNaN(minDays))
      local.minDaysBetweenMessages = [{ at: '', message: 'enter a whole number of days from 1 to 30' }];
    const maxUploadAge = /^\s*\d+\s*$/.test(draft.maxUploadAge) ? Number(draft.maxUploadAge) : Number.NaN;
    if (Number.isNaN(maxUploadAge))
      local.maxUploadAgeDays = [{ at: '', message: 'enter a whole number of days from 1 to 90' }];
    const timezone = draft.useCompanyTimezone && companyTimezone ? companyTimezone : draft.timezone.trim();
    // A date picked but not yet added is part of what the user sees, so it is saved (and listed) too.
    const holidays = [
      ...new Set([...draft.holidays, ...(draft.newHoliday ? [draft.newHoliday] : [])]),
    ].sort();
    if (draft.newHoliday) update({ holidays, newHoliday: '' });
    setServerError(null);
    setLocalErrors(local);
    if (!amount.ok || Object.keys(local).length > 0) {
      setStatus('Nothing was changed: see the messages above.');
      focusInvalidNext();
      return;
    }
    const settings: SendingSettings = {
      ...s,
      timezone,
      businessDays: [...draft.businessDays].sort((a, b) => a - b),
      businessHours: { start: draft.hoursStart, end: draft.hoursEnd },
      quietHours: draft.quietOn ? { start: draft.quietStart, end: draft.quietEnd } : null,
      holidays,
      approvalThresholdMinor: amount.minor,
      sensitivity: draft.sensitivity,
      minDaysBetweenMessages: minDays,
      maxUploadAgeDays: maxUploadAge,
    };
    setSaving(true);
    setStatus('');
    try {
      const r = await api.request<PolicyResponse>(
        'PUT',
        apiPath(tenant, 'dunning/policy'),
        JSON.stringify({ settings }),
        'application/json',
      );
      setLatest({ version: r.version, settings: r.settings });
      setDraft(null);
      setStatus('Reminder settings saved.');
    } catch (err) {
      setServerError(err);
      setStatus('Nothing was changed: see the messages above.');
      focusInvalidNext();
    } finally {
      setSaving(false);
    }
  };

  const ids = (f: string) => fieldIds(id, f);
  const statusLine = <SaveStatus status={status} failed={editing} />;

  return (
    <Card title="Reminder sending rules" className="settings-card">
      <p className="muted">
        When reminders may go out and which ones wait for a reviewer. Hours and holidays apply in each
        customer's own time zone.
      </p>
      {!draft ? (
        <>
          <dl className="facts settings-summary" data-testid="sending-summary">
            <dt>Business days</dt>
            <dd>{formatBusinessDays(s.businessDays)}</dd>
            <dt>Business hours</dt>
            <dd>
              {hourLabel(s.businessHours.start)}–{hourLabel(s.businessHours.end)}
            </dd>
            <dt>Quiet hours</dt>
            <dd>
              {s.quietHours ? `${hourLabel(s.quietHours.start)}–${hourLabel(s.quietHours.end)}` : 'Off'}
            </dd>
            <dt>Holidays</dt>
            <dd>
              {s.holidays.length
                ? [...s.holidays]
                    .sort()
                    .map((h) => formatDate(h))
                    .join('; ')
                : 'None'}
            </dd>
            <dt>Approval needed above</dt>
            <dd>{formatMoney(s.approvalThresholdMinor, currency)}</dd>
            <dt>Spacing</dt>
            <dd>
              At most one message per customer every {s.minDaysBetweenMessages} day
              {s.minDaysBetweenMessages === 1 ? '' : 's'}
            </dd>
            {csv ? (
              <>
                <dt>Oldest upload reminders go out from</dt>
                <dd>
                  {s.maxUploadAgeDays} day{s.maxUploadAgeDays === 1 ? '' : 's'}: after that, reminders wait
                  for a newer upload
                </dd>
              </>
            ) : null}
            <dt>Pre-due nudges for predicted-late invoices</dt>
            <dd>{NUDGE_OPTIONS.find((o) => o.value === s.sensitivity)?.label ?? s.sensitivity}</dd>
            <dt>Time zone for customers without one</dt>
            <dd>
              {s.timezone}
              {companyTimezone && s.timezone === companyTimezone
                ? ' (the company time zone)'
                : companyTimezone
                  ? ` (differs from the company time zone, ${companyTimezone})`
                  : ''}
            </dd>
          </dl>
          {statusLine}
          <button ref={editButton} type="button" className="btn btn-secondary" onClick={edit}>
            Edit reminder sending rules
          </button>
        </>
      ) : (
        <form
          ref={form}
          className="settings-form"
          onSubmit={save}
          noValidate
          aria-label="Reminder sending rules"
        >
          <fieldset {...groupDescribedBy(ids('days').err, issues('businessDays'))}>
            <legend>Business days</legend>
            <div className="settings-checks">
              {DAYS.map((d) => (
                <label key={d.iso} className="settings-check">
                  <input
                    type="checkbox"
                    checked={draft.businessDays.includes(d.iso)}
                    onChange={(e) =>
                      update({
                        businessDays: e.target.checked
                          ? [...draft.businessDays, d.iso]
                          : draft.businessDays.filter((x) => x !== d.iso),
                      })
                    }
                  />
                  <span aria-hidden="true">{d.short}</span>
                  <span className="sr-only">{d.long}</span>
                </label>
              ))}
            </div>
            <FieldError id={ids('days').err} messages={issues('businessDays')} />
          </fieldset>

          <fieldset {...groupDescribedBy(ids('hours').err, issues('businessHours'))}>
            <legend>Business hours</legend>
            <div className="settings-row">
              <HourSelect
                id={ids('hours-start').input}
                label="From"
                value={draft.hoursStart}
                hours={HOURS.slice(0, 24)}
                onChange={(hoursStart) => update({ hoursStart })}
                aria={describedBy(ids('hours').err, issues('businessHours'))}
              />
              <HourSelect
                id={ids('hours-end').input}
                label="Until"
                value={draft.hoursEnd}
                hours={HOURS.slice(1)}
                onChange={(hoursEnd) => update({ hoursEnd })}
                aria={describedBy(ids('hours').err, issues('businessHours'))}
              />
            </div>
            <FieldError id={ids('hours').err} messages={issues('businessHours')} />
          </fieldset>

          <fieldset {...groupDescribedBy(ids('quiet').err, issues('quietHours'), ids('quiet').hint)}>
            <legend>Quiet hours</legend>
            <p id={ids('quiet').hint} className="field-hint">
              No reminder goes out between these hours, even on a business day (for example over lunch). They
              may run past midnight.
            </p>
            <label className="settings-check">
              <input
                type="checkbox"
                checked={draft.quietOn}
                onChange={(e) => update({ quietOn: e.target.checked })}
              />
              Keep quiet hours
            </label>
            <div className="settings-row">
              <HourSelect
                id={ids('quiet-start').input}
                label="From"
                value={draft.quietStart}
                hours={HOURS.slice(0, 24)}
                disabled={!draft.quietOn}
                onChange={(quietStart) => update({ quietStart })}
                aria={describedBy(ids('quiet').err, issues('quietHours'))}
              />
              <HourSelect
                id={ids('quiet-end').input}
                label="Until"
                value={draft.quietEnd}
                hours={HOURS}
                disabled={!draft.quietOn}
                onChange={(quietEnd) => update({ quietEnd })}
                aria={describedBy(ids('quiet').err, issues('quietHours'))}
              />
            </div>
            <FieldError id={ids('quiet').err} messages={issues('quietHours')} />
          </fieldset>

          <fieldset {...groupDescribedBy(ids('holidays').err, issues('holidays'), ids('holidays').hint)}>
            <legend>Holidays</legend>
            <p id={ids('holidays').hint} className="field-hint">
              No reminders on these dates.
            </p>
            <div className="settings-row">
              <div className="field">
                <label htmlFor={ids('holiday').input}>Holiday date</label>
                <input
                  ref={holidayInput}
                  id={ids('holiday').input}
                  type="date"
                  value={draft.newHoliday}
                  onChange={(e) => update({ newHoliday: e.target.value })}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter') {
                      e.preventDefault();
                      addHoliday();
                    }
                  }}
                  {...describedBy(ids('holiday').err, issues('newHoliday'))}
                />
              </div>
              <button type="button" className="btn btn-secondary" onClick={addHoliday}>
                Add holiday
              </button>
            </div>
            <FieldError id={ids('holiday').err} messages={issues('newHoliday')} />
            {draft.holidays.length ? (
              <ul className="settings-chips" aria-label="Holidays">
                {draft.holidays.map((h) => (
                  <li key={h}>
                    <span>{formatDate(h)}</span>
                    <button type="button" className="btn btn-ghost" onClick={() => removeHoliday(h)}>
                      Remove<span className="sr-only"> {formatDate(h)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted small">No holidays yet.</p>
            )}
            <FieldError id={ids('holidays').err} messages={issues('holidays')} />
          </fieldset>

          <div className="settings-row">
            <div className="field">
              <label htmlFor={ids('threshold').input}>Approval needed above ({currency})</label>
              <input
                id={ids('threshold').input}
                inputMode="decimal"
                autoComplete="off"
                value={draft.threshold}
                onChange={(e) => update({ threshold: e.target.value })}
                {...describedBy(
                  ids('threshold').err,
                  issues('approvalThresholdMinor'),
                  ids('threshold').hint,
                )}
              />
              <span id={ids('threshold').hint} className="field-hint">
                For steps set to "Above an amount" without their own amount: a customer's open total beyond
                this waits for a reviewer.
              </span>
              <FieldError id={ids('threshold').err} messages={issues('approvalThresholdMinor')} />
            </div>
            <div className="field">
              <label htmlFor={ids('min-days').input}>Minimum days between messages</label>
              <input
                id={ids('min-days').input}
                type="number"
                min={1}
                max={30}
                step={1}
                value={draft.minDays}
                onChange={(e) => update({ minDays: e.target.value })}
                {...describedBy(ids('min-days').err, issues('minDaysBetweenMessages'), ids('min-days').hint)}
              />
              <span id={ids('min-days').hint} className="field-hint">
                A customer hears from you at most once in this many days.
              </span>
              <FieldError id={ids('min-days').err} messages={issues('minDaysBetweenMessages')} />
            </div>
          </div>

          {csv ? (
            <div className="field">
              <label htmlFor={ids('upload-age').input}>Oldest upload reminders go out from (days)</label>
              <input
                id={ids('upload-age').input}
                type="number"
                min={1}
                max={90}
                step={1}
                value={draft.maxUploadAge}
                onChange={(e) => update({ maxUploadAge: e.target.value })}
                {...describedBy(ids('upload-age').err, issues('maxUploadAgeDays'), ids('upload-age').hint)}
              />
              <span id={ids('upload-age').hint} className="field-hint">
                Reminders are checked against your latest upload. Once it is older than this, they wait until
                you upload a newer export, so a customer who paid since is not chased.
              </span>
              <FieldError id={ids('upload-age').err} messages={issues('maxUploadAgeDays')} />
            </div>
          ) : null}

          <div className="field">
            <label htmlFor={ids('nudge').input}>Pre-due nudges for predicted-late invoices</label>
            <select
              id={ids('nudge').input}
              value={draft.sensitivity}
              onChange={(e) => update({ sensitivity: e.target.value as SendingSettings['sensitivity'] })}
              {...describedBy(ids('nudge').err, issues('sensitivity'), ids('nudge').hint)}
            >
              {NUDGE_OPTIONS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
            <span id={ids('nudge').hint} className="field-hint">
              For steps marked "Only if predicted late" (reminders before the due date). Separate from the
              late-payment sensitivity above, which sets customers' risk bands.
            </span>
            <FieldError id={ids('nudge').err} messages={issues('sensitivity')} />
          </div>

          <fieldset {...groupDescribedBy(ids('tz').err, issues('timezone'), ids('tz').hint)}>
            <legend>Time zone for customers without one</legend>
            <p id={ids('tz').hint} className="field-hint">
              Business hours, quiet hours and holidays are read in this time zone when a customer has none of
              its own.
            </p>
            <label className="settings-check">
              <input
                type="checkbox"
                checked={draft.useCompanyTimezone}
                disabled={!companyTimezone}
                onChange={(e) => update({ useCompanyTimezone: e.target.checked })}
              />
              Same as the company time zone{companyTimezone ? ` (${companyTimezone})` : ''}
            </label>
            {!draft.useCompanyTimezone && (
              <div className="field">
                <label htmlFor={ids('tz').input}>Time zone (IANA name, such as Europe/Berlin)</label>
                <input
                  id={ids('tz').input}
                  list={`${ids('tz').input}-list`}
                  autoComplete="off"
                  value={draft.timezone}
                  onChange={(e) => update({ timezone: e.target.value })}
                  {...describedBy(ids('tz').err, issues('timezone'))}
                />
                <datalist id={`${ids('tz').input}-list`}>
                  {timeZones().map((z) => (
                    <option key={z} value={z} />
                  ))}
                </datalist>
              </div>
            )}
            <FieldError id={ids('tz').err} messages={issues('timezone')} />
          </fieldset>

          {server.other.length ? (
            <div className="banner banner-error" role="alert">
              {server.other.join('; ')}
            </div>
          ) : null}
          {statusLine}
          <div className="settings-actions">
            <button type="submit" className="btn" disabled={saving}>
              {saving ? 'Saving…' : 'Save reminder sending rules'}
            </button>
            <button type="button" className="btn btn-ghost" onClick={cancel} disabled={saving}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </Card>
  );
}

/** Server messages made readable where the path points inside the field ("holidays[0]" → the date). */
function issueText(field: string, issue: FieldIssue, draft: Draft | null): string {
  if (!issue.at) return issue.message;
  if (field === 'holidays') {
    const i = Number(/^\[(\d+)\]/.exec(issue.at)?.[1]);
    const day = draft?.holidays[i];
    return day ? `${day}: ${issue.message}` : issue.message;
  }
  if (field === 'businessHours' || field === 'quietHours')
    return `${issue.at === 'start' ? 'from' : issue.at === 'end' ? 'until' : issue.at}: ${issue.message}`;
  return issue.message;
}

function HourSelect(props: {
  id: string;
  label: string;
  value: number;
  hours: number[];
  disabled?: boolean;
  onChange: (hour: number) => void;
  aria: ReturnType<typeof describedBy>;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <select
        id={props.id}
        value={props.value}
        disabled={props.disabled}
        onChange={(e) => props.onChange(Number(e.target.value))}
        {...props.aria}
      >
        {props.hours.map((h) => (
          <option key={h} value={h}>
            {hourLabel(h)}
          </option>
        ))}
      </select>
    </div>
  );
}
