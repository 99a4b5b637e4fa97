/**
 * Field-level error plumbing of the settings forms: the message element next to a control, and the attributes that
 * tie the control to it (aria-invalid, aria-describedby with the hint first), so a screen reader reads both.
 */
import { useEffect, useRef } from 'react';

export function FieldError({ id, messages }: { id: string; messages: readonly string[] }) {
  if (messages.length === 0) return null;
  return (
    <p id={id} className="field-error">
      {messages.join('; ')}
    </p>
  );
}

export function describedBy(
  errorId: string,
  messages: readonly string[],
  hintId?: string,
): { 'aria-invalid'?: true; 'aria-describedby'?: string } {
  const ids = [hintId, messages.length > 0 ? errorId : undefined].filter(Boolean).join(' ');
  return {
    ...(messages.length > 0 ? { 'aria-invalid': true as const } : {}),
    ...(ids ? { 'aria-describedby': ids } : {}),
  };
}

/** For a fieldset: the group is described by its hint and error; the controls inside carry aria-invalid. */
export function groupDescribedBy(
  errorId: string,
  messages: readonly string[],
  hintId?: string,
): { 'aria-describedby'?: string; 'data-invalid'?: true } {
  const { 'aria-describedby': ids } = describedBy(errorId, messages, hintId);
  return {
    ...(ids ? { 'aria-describedby': ids } : {}),
    ...(messages.length > 0 ? { 'data-invalid': true as const } : {}),
  };
}

const CONTROL = ':is(input, select, textarea):not(:disabled)';

/** Focuses the first control a person should fix: a marked control, or inside a marked group its first one. */
export function focusFirstInvalid(root: HTMLElement | null): void {
  const first = root?.querySelector<HTMLElement>(`fieldset[data-invalid], ${CONTROL}[aria-invalid="true"]`);
  if (!first) return;
  const target =
    first.tagName === 'FIELDSET'
      ? (first.querySelector<HTMLElement>(`${CONTROL}[aria-invalid="true"]`) ??
        first.querySelector<HTMLElement>(CONTROL))
      : first;
  target?.focus();
}

/** The ids of a field's control, hint and error, under the form's own id. */
export const fieldIds = (formId: string, field: string) => ({
  err: `${formId}-${field}-err`,
  hint: `${formId}-${field}-hint`,
  input: `${formId}-${field}`,
});

/** A settings form's live status line: a red banner after a failed save (the form stays open), green after a save. */
export function SaveStatus({ status, failed }: { status: string; failed: boolean }) {
  return (
    <p
      role="status"
      className={status ? `banner ${failed ? 'banner-error' : 'banner-ok'}` : 'settings-status'}
    >
      {status}
    </p>
  );
}

/**
 * Focus of a summary-with-Edit settings form: opening it focuses its first control (`controls`, a selector),
 * closing it returns focus to the Edit button, and after `focusInvalidNext()` (a failed save) the next render
 * focuses the first invalid field.
 */
export function useEditorFocus(editing: boolean, controls: string) {
  const form = useRef<HTMLFormElement>(null);
  const editButton = useRef<HTMLButtonElement>(null);
  const focusInvalid = useRef(false);
  const wasEditing = useRef(false);
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the form opens or closes only
  useEffect(() => {
    if (editing) form.current?.querySelector<HTMLElement>(controls)?.focus();
    else if (wasEditing.current) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  useEffect(() => {
    if (!focusInvalid.current) return;
    focusInvalid.current = false;
    focusFirstInvalid(form.current);
  });
  return {
    form,
    editButton,
    focusInvalidNext: () => {
      focusInvalid.current = true;
    },
  };
}
