import { z } from 'zod';

/**
 * Values that end up in email headers (subject, From name, Reply-To, To) or on a single footer line. Every length
 * check aborts, so no pattern ever runs on an over-long value: zod otherwise runs every check of a string even
 * after one failed, and a pattern fed 100 KB is how one request froze the server.
 */

/** RFC 5321 caps a forward path at 256 octets including the angle brackets. */
export const MAX_EMAIL_LENGTH = 254;

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
