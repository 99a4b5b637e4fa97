import { z } from 'zod';
import type { SenderIdentity } from '../../emails/email-props';
import type { Tenant } from '../db/queries/tenants';
import { emailAddressSchema, hasControlChars } from '../mail/header-safe';
import { senderOf } from './compose-email';
import type { DunningDeps } from './ports';

/**
 * The sender block of every dunning email (tenants.settings.sender, read by `senderOf`): who the debtor is
 * dealing with, where replies go, and the postal address commercial-email rules require. The From header itself
 * stays the operator's MAIL_FROM, so a tenant cannot send as a domain nobody verified.
 */

// Header-bound and single-line values: no control characters (CR/LF would split a header or a footer line).
// The length checks abort, so no pattern below ever runs on an over-long value (zod runs every check otherwise).
const oneLine = (max: number, what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${what} is empty`, abort: true })
    .max(max, { message: `${what} is longer than ${max} characters`, abort: true })
    .refine((v) => !hasControlChars(v), `${what} must be a single line`);

/**
 * A phone number: digits and separators, optionally "ext 12" / "x12". Linear: the separator run cannot also be
 * read as the whitespace before the extension (the old `[… ]{2,}\s*` pair backtracked quadratically).
 */
export const PHONE_PATTERN = /^\+?[0-9(][0-9 ().\-/]{2,}(?:(?:ext\.?|x) *\d{1,6})?$/i;

/** An email address or angle brackets inside a display name (linear: one character class either side of @). */
export const DISPLAY_NAME_ADDRESS = /[<>]|[^\s@]@[^\s@]/;

export const senderSettingsSchema = z
  .object({
    // The From header's display name: an address in it ("PayPal <service@paypal.com>") is what mail clients show
    // as the sender, so a tenant could borrow anyone's name on the operator's verified domain.
    companyName: oneLine(120, 'the company name').refine(
      (v) => !DISPLAY_NAME_ADDRESS.test(v),
      'the company name must not contain an email address or < >',
    ),
    replyTo: emailAddressSchema(),
    address: z.array(oneLine(120, 'an address line')).max(4, 'at most 4 address lines').default([]),
    phone: oneLine(40, 'the phone number')
      .regex(PHONE_PATTERN, 'digits, spaces and + ( ) - . / only')
      .optional(),
  })
  .strict();
export type SenderSettings = z.infer<typeof senderSettingsSchema>;

export interface EffectiveSender {
  /** What emails use now: the stored sender, else the tenant name and MAIL_FROM's address. */
  sender: SenderIdentity;
  /** Whether the tenant set its own sender (settings.sender) rather than relying on the defaults. */
  senderCustomised: boolean;
  /** The From header of sent emails (MAIL_FROM), or null when unset and messages stay in the outbox. */
  mailFrom: string | null;
}

export function effectiveSender(tenant: Tenant, services: DunningDeps): EffectiveSender {
  const stored = tenant.settings.sender;
  return {
    sender: senderOf(tenant, services),
    senderCustomised: typeof stored === 'object' && stored !== null,
    mailFrom: services.config.MAIL_FROM ?? null,
  };
}
