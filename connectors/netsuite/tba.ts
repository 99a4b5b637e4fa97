/**
 * Token-Based Authentication: OAuth 1.0a (RFC 5849) request signing with HMAC-SHA256, as NetSuite requires
 * (HMAC-SHA1 is refused since 2023.1). Oracle help "The Signature for Web Services and RESTlets" and "The
 * Authorization Headers" (section_1534941295); known-answer vectors in ../shared/vendor/netsuite/tba-*.json.
 *
 *  - `realm` is the account id in realm form (`1234567_SB1`) and is not signed;
 *  - query parameters are signed (`limit`, `offset` of SuiteQL); the JSON body is not (only form bodies are);
 *  - every attempt gets a fresh nonce and timestamp: NetSuite answers a reused pair with 401 INVALID_LOGIN, so a
 *    retry must re-sign (the client calls `authorize` per attempt).
 *
 * Written on node:crypto rather than the `oauth-1.0a` package (a dependency until this was written; removed since) because that package:
 * draws its nonce from Math.random (not a CSPRNG, and NetSuite rejects a replayed nonce); decodes the query with
 * decodeURIComponent only, so a `+` meaning a space is signed as a literal `+` (RFC 5849 §3.4.1.3.1 asks for
 * form decoding); sorts the header parameters itself, so the header cannot match the published vector byte for
 * byte; and needs us to supply the HMAC anyway. What remains is ~40 lines we can test exactly.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { realmAccountId } from './config';

export interface TbaCredentials {
  /** Duely's integration record (NETSUITE_CONSUMER_KEY / _SECRET). */
  consumerKey: string;
  consumerSecret: string;
  /** The access token an admin created for Duely's integration + a role (per account). */
  tokenId: string;
  tokenSecret: string;
}

export interface TbaSignInput extends TbaCredentials {
  method: string;
  /** Full request URL including the query string (its parameters are signed). */
  url: string;
  /** Account id; put in realm form. */
  realm: string;
  nonce: string;
  /** Unix seconds. */
  timestamp: string | number;
}

export interface TbaSignature {
  baseString: string;
  signingKey: string;
  signature: string;
  /** The `Authorization` header value. */
  header: string;
}

/** RFC 3986 unreserved characters stay; everything else is %XX (RFC 5849 §3.6). */
export function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Scheme and host lower case, default port dropped, path kept, query and fragment dropped (§3.4.1.2). */
function baseStringUri(url: URL): string {
  return `${url.protocol.toLowerCase()}//${url.host.toLowerCase()}${url.pathname}`;
}

/** METHOD&enc(base uri)&enc(sorted enc(k)=enc(v) of query + oauth_* params) (§3.4.1). */
export function signatureBaseString(
  method: string,
  url: string,
  oauthParams: Record<string, string>,
): string {
  const parsed = new URL(url);
  const pairs: Array<[string, string]> = [];
  // URLSearchParams applies form decoding ("+" is a space), as §3.4.1.3.1 requires.
  for (const [k, v] of parsed.searchParams) pairs.push([percentEncode(k), percentEncode(v)]);
  for (const [k, v] of Object.entries(oauthParams)) pairs.push([percentEncode(k), percentEncode(v)]);
  // Byte order of the encoded strings (all ASCII after encoding).
  pairs.sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  const normalized = pairs.map(([k, v]) => `${k}=${v}`).join('&');
  return [method.toUpperCase(), percentEncode(baseStringUri(parsed)), percentEncode(normalized)].join('&');
}

/** Signs one request with the given nonce and timestamp (tests pin them; `authorizeTba` draws fresh ones). */
export function signTba(input: TbaSignInput): TbaSignature {
  const oauth = {
    oauth_consumer_key: input.consumerKey,
    oauth_token: input.tokenId,
    oauth_signature_method: 'HMAC-SHA256',
    oauth_timestamp: String(input.timestamp),
    oauth_nonce: input.nonce,
    oauth_version: '1.0',
  };
  const baseString = signatureBaseString(input.method, input.url, oauth);
  const signingKey = `${percentEncode(input.consumerSecret)}&${percentEncode(input.tokenSecret)}`;
  const signature = createHmac('sha256', signingKey).update(baseString).digest('base64');
  // Oracle's documented parameter order; values percent-encoded (the signature's "=", "+", "/").
  const fields: Array<[string, string]> = [
    ['realm', realmAccountId(input.realm)],
    ...Object.entries(oauth),
    ['oauth_signature', signature],
  ];
  const header = `OAuth ${fields.map(([k, v]) => `${k}="${percentEncode(v)}"`).join(',')}`;
  return { baseString, signingKey, signature, header };
}

const NONCE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 20 random alphanumeric characters from the CSPRNG (62^20 ≈ 2^119). */
export function tbaNonce(length = 20): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (const b of bytes) {
    // Rejection sampling keeps the distribution uniform (248 = 4 * 62).
    if (b < 248) out += NONCE_ALPHABET[b % 62];
    if (out.length === length) return out;
  }
  return out + tbaNonce(length - out.length);
}

/** The Authorization header for one attempt: a fresh nonce and the current time every call. */
export function authorizeTba(
  credentials: TbaCredentials & { realm: string },
  request: { method: string; url: string },
  now: () => number = Date.now,
): string {
  return signTba({
    ...credentials,
    ...request,
    nonce: tbaNonce(),
    timestamp: Math.floor(now() / 1000),
  }).header;
}
