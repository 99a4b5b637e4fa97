/**
 * Email addresses and header text as they may reach a mail header (To, Reply-To, Subject, a display name). Shared by
 * the sync (what connectors hand over is filtered before it is stored) and the mail path (checked again right before
 * the provider), so it lives in the kernel next to money and dates.
 */

/** RFC 5321 caps a forward path at 256 octets including the angle brackets. */
export const MAX_EMAIL_LENGTH = 254;

/**
 * A character that could end or fold a header line: every C0/C1 control (CR, LF, NUL, TAB, NEL, …) and the Unicode
 * line and paragraph separators. One character class, so it reads each character once.
 */
const CONTROL_CHAR = /[\p{Cc}\u2028\u2029]/u;

export function hasControlChars(value: string): boolean {
  return CONTROL_CHAR.test(value);
}

/**
 * An address as it may appear in To or Reply-To: no control characters, no whitespace, no header syntax
 * (<>,;:"()[]\\), exactly one @ with text on both sides, within 254 characters. Anchored, and the two runs cannot
 * overlap (neither contains @), so the check is linear.
 */
export function isHeaderSafeAddress(value: string): boolean {
  if (value.length === 0 || value.length > MAX_EMAIL_LENGTH) return false;
  return /^[^\s\p{Cc}@<>,;:"()[\]\\]+@[^\s\p{Cc}@<>,;:"()[\]\\]+$/u.test(value);
}

/**
 * A field that may name several addresses, as the ledgers let one invoice's email field do ("ap@x.com,
 * boss@x.com"; commas or semicolons): each address trimmed, those that could not go in a header dropped one by one
 * (not the whole field), each kept once (compared case-insensitively, the first spelling kept).
 */
export function addressList(value: string | null | undefined): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of (value ?? '').split(/[,;]/)) {
    const address = part.trim();
    if (!isHeaderSafeAddress(address) || seen.has(address.toLowerCase())) continue;
    seen.add(address.toLowerCase());
    out.push(address);
  }
  return out;
}

/** Such a list as one text value (", "-joined, as `addressList` reads it back), null when it has no address. */
export function addressListText(value: string | null | undefined): string | null {
  return addressList(value).join(', ') || null;
}
