/**
 * Values that end up in email headers (subject, From name, Reply-To, To) or on a single footer line. Every length
 * check aborts, so no pattern ever runs on an over-long value: zod otherwise runs every check of a string even
 * after one failed, and a pattern fed 100 KB is how one request froze the server.
 */
import { z } from 'zod';
import { hasControlChars, MAX_EMAIL_LENGTH } from '../../connectors/email-address';

export { hasControlChars, isHeaderSafeAddress } from '../../connectors/email-address';

/** A recipient or Reply-To address: bounded, then checked as an address. */
export const emailAddressSchema = (message = 'not a valid email address') =>
  z
    .string()
    .trim()
    .max(MAX_EMAIL_LENGTH, {
      message: `an email address is at most ${MAX_EMAIL_LENGTH} characters`,
      abort: true,
    })
    .pipe(z.email(message));

/** A single-line value bound for a header (subject, display name): bounded, then free of control characters. */
export const headerTextSchema = (max: number, what: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${what} is empty`, abort: true })
    .max(max, { message: `${what} is longer than ${max} characters`, abort: true })
    .refine((v) => !hasControlChars(v), `${what} must be a single line without control characters`);
