import { ApiError } from './api';

/**
 * A 400's field details (`{ field: "settings.quietHours", message }`) grouped by the form field they belong to:
 * `prefix` is dropped and the first path segment names the field ("holidays[2]" → "holidays", at "[2]"). Messages
 * for fields the form does not show, and errors without details, land in `other`.
 */
export interface FieldIssue {
  /** The rest of the path inside the field: "" for the field itself, "start", "[2]", "1". */
  at: string;
  message: string;
}

export interface FieldErrors {
  byField: Record<string, FieldIssue[]>;
  other: string[];
}

export function serverFieldErrors(err: unknown, prefix: string, fields: readonly string[]): FieldErrors {
  const out: FieldErrors = { byField: {}, other: [] };
  if (!err) return out;
  const details =
    err instanceof ApiError && Array.isArray(err.details)
      ? (err.details as { field?: string; message?: string }[])
      : [];
  if (details.length === 0) {
    out.other.push(err instanceof Error ? err.message : String(err));
    return out;
  }
  for (const d of details) {
    const field = d.field ?? '';
    const path = field.startsWith(`${prefix}.`) ? field.slice(prefix.length + 1) : field;
    const key = path.split(/[.[]/)[0] ?? '';
    const message = d.message ?? 'invalid';
    if (fields.includes(key)) {
      const at = path.slice(key.length).replace(/^\./, '');
      out.byField[key] = [...(out.byField[key] ?? []), { at, message }];
    } else out.other.push(path ? `${path}: ${message}` : message);
  }
  return out;
}
