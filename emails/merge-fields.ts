/**
 * Merge fields of a step's own wording (Sequences → step → subject and body): `{{customer}}` and friends, filled
 * from the message the debtor gets. Unknown names are refused when the policy is saved (src/dunning/policy.ts),
 * so a typo never reaches a debtor as literal braces.
 */
export const MERGE_FIELDS = {
  customer: 'the customer’s name',
  contact: 'the person greeted (the customer’s name when no contact is known)',
  invoice_list: 'the invoice numbers, e.g. "1042, 1057"',
  total: 'the open total of the listed invoices',
  overdue_total: 'the open total of the overdue invoices only',
  days_overdue: 'days the oldest invoice is overdue',
  pay_link: 'the pay link (the first invoice’s, else your payment page); empty when there is none',
  sender: 'your company name',
} as const;
export type MergeField = keyof typeof MERGE_FIELDS;

/**
 * `{{`, anything without braces, `}}`; the name is the inside trimmed. One run, no blanks read by two quantifiers, so
 * a failed match costs one scan to the next brace: `\{\{\s*([^{}]*?)\s*\}\}` read blanks three ways, and "{{" with
 * 5000 blanks and a letter (a step body's limit) held the server for about two minutes.
 */
const TOKEN = /\{\{([^{}]*)\}\}/g;

/** Problems in a text's merge fields: unknown names and stray braces, as messages for the field's error. */
export function mergeFieldErrors(text: string): string[] {
  const errors: string[] = [];
  for (const m of text.matchAll(TOKEN)) {
    const name = (m[1] ?? '').trim();
    // Own keys only: `in` also finds Object.prototype's (constructor, toString, __proto__ …).
    if (!Object.hasOwn(MERGE_FIELDS, name))
      errors.push(
        `unknown merge field {{${name}}}; use ${Object.keys(MERGE_FIELDS)
          .map((k) => `{{${k}}}`)
          .join(', ')}`,
      );
  }
  const rest = text.replace(TOKEN, '');
  if (rest.includes('{{') || rest.includes('}}'))
    errors.push('unbalanced {{ or }}: write a merge field as {{name}}');
  return errors;
}

export function fillMergeFields(text: string, values: Record<MergeField, string>): string {
  return text.replace(TOKEN, (_, inside: string) => {
    const name = inside.trim();
    return Object.hasOwn(values, name) ? (values[name as MergeField] ?? '') : '';
  });
}
