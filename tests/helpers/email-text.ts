/**
 * The words of an email without its link targets: signed tokens in URLs are random base64url and can spell any
 * short word ("…Xpdfy…" made a "mentions no PDF" check fail once), so copy checks read the text around the links.
 */
export function withoutUrls(s: string): string {
  return s.replace(/https?:\/\/[^\s"'<>]+/g, '');
}
