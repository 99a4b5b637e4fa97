/**
 * A ledger's pay link goes into emails to debtors as the button they click: it is kept only when it is an absolute
 * https URL. Anything else (http, javascript:, a relative path, garbage) would be a broken or unsafe link, and the
 * email then says how to pay without one. `loopbackHttp` also keeps plain http to this machine (127.0.0.0/8,
 * localhost, ::1): the local development sandboxes serve their pay pages that way, and no debtor can be sent there.
 */
export function payLinkOrNull(
  value: string | null | undefined,
  opts: { loopbackHttp?: boolean } = {},
): string | null {
  const v = value?.trim();
  if (!v || !URL.canParse(v)) return null;
  const url = new URL(v);
  if (url.protocol === 'https:') return v;
  if (opts.loopbackHttp && url.protocol === 'http:' && isLoopback(url.hostname)) return v;
  return null;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
