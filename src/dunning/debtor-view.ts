import { greetingName } from '../../emails/email-props';

/**
 * What a debtor reads of their own customer row in a reminder or statement (compose-email.ts builds the email's
 * debtor from the same row at send time): the name (merge fields), the name the greeting uses (none for an account
 * number), the year "customer since" names, and the locale dates and amounts are written in. Kept in the plan's
 * snapshot (`debtor`) and covered by the approval: a customer renamed in the ledger after a reviewer approved the
 * message is not greeted by a name nobody approved.
 */
export interface DebtorView {
  name: string;
  greeting: string | null;
  since: string | null;
  locale: string | null;
}

export function debtorView(c: {
  name: string;
  externalId: string;
  firstSeen?: string | null;
  locale?: string | null;
}): DebtorView {
  return {
    name: c.name,
    greeting: greetingName({ name: c.name, nameIsAccountNumber: c.name === c.externalId }),
    since: c.firstSeen?.slice(0, 4) ?? null,
    locale: c.locale ?? null,
  };
}

/** The view as the fingerprint compares it (field order fixed). */
export function debtorViewKey(v: DebtorView): string {
  return JSON.stringify([v.name, v.greeting, v.since, v.locale]);
}

/** Why a message approved with `approved` would now read otherwise (null when it would not). */
export function debtorViewChange(approved: DebtorView, now: DebtorView): string | null {
  if (debtorViewKey(approved) === debtorViewKey(now)) return null;
  const what: string[] = [];
  if (approved.name !== now.name)
    what.push(`the customer's name changed from “${approved.name}” to “${now.name}”`);
  else if (approved.greeting !== now.greeting)
    what.push(
      `the name the email greets the customer by changed from “${approved.greeting ?? '(none)'}” to “${now.greeting ?? '(none)'}”`,
    );
  if (approved.since !== now.since) what.push(`the customer-since year changed to ${now.since ?? 'none'}`);
  if (approved.locale !== now.locale)
    what.push(`the customer's locale changed to ${now.locale ?? 'the default'}`);
  return `Since it was approved ${what.join('; ')} in the ledger: approve it again as it will now be sent`;
}
