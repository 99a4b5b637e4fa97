/**
 * QuickBooks fault envelopes -> ConnectorError. Three shapes reach us (vendor README, "Protocol pitfalls" 5-6):
 *  - business faults: `{"Fault":{"Error":[{"Message","Detail","code"}],"type":"ValidationFault"}}`
 *  - gateway faults: lower-case `{"fault":{"error":[{"message","detail","code"}],"type":"AUTHENTICATION"}}`
 *  - XML `<IntuitResponse><Fault type=".."><Error code=".."><Message/><Detail/></Error></Fault>`, sent even to JSON
 *    clients (always for 429 throttling).
 * Classification uses the HTTP status and the numeric fault code only.
 * Codes: https://developer.intuit.com/app/developer/qbo/docs/develop/troubleshooting/error-codes
 */
import { ConnectorError, type ConnectorErrorCode, codeFromStatus } from '../errors';

export interface QboFaultError {
  code: string;
  message: string;
  detail: string | null;
}

export interface QboFault {
  type: string | null;
  errors: QboFaultError[];
}

// Fault code -> our code. 3001 is throttling whatever the status (HTTP 403 before December 2016, 429 since).
const FAULT_CODES: Record<string, ConnectorErrorCode> = {
  '100': 'unauthorized',
  '3200': 'unauthorized',
  '3100': 'forbidden',
  '3001': 'rate_limited',
  '610': 'not_found',
  '4000': 'invalid_query',
  '4001': 'invalid_query',
  '5010': 'stale_object',
  '6190': 'subscription_lapsed',
  '6240': 'duplicate',
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;

/** Extracts a fault from a response body (JSON text or XML), or null when there is none. */
export function parseFault(body: string): QboFault | null {
  const text = body.trim();
  if (text.startsWith('<')) return parseXmlFault(text);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  return faultFromJson(json);
}

export function faultFromJson(json: unknown): QboFault | null {
  if (!isObject(json)) return null;
  const fault = json.Fault ?? json.fault ?? itemFault(json);
  if (!isObject(fault)) return null;
  const list = fault.Error ?? fault.error;
  const errors = (Array.isArray(list) ? list : []).filter(isObject).map((e) => ({
    code: str(e.code) ?? '',
    message: str(e.Message ?? e.message) ?? '',
    detail: str(e.Detail ?? e.detail),
  }));
  return { type: str(fault.type), errors };
}

/** Batch and attachable answers carry faults per item: `{"AttachableResponse":[{"Fault":{...}}]}`. */
function itemFault(json: Json): unknown {
  for (const value of Object.values(json)) {
    if (!Array.isArray(value)) continue;
    const item = value.find((v): v is Json => isObject(v) && isObject(v.Fault));
    if (item) return item.Fault;
  }
  return undefined;
}

const XML_FAULT = /<Fault\b([^>]*)>([\s\S]*?)<\/Fault>/;
const XML_ERROR = /<Error\b([^>]*)>([\s\S]*?)<\/Error>/g;
const attr = (attrs: string, name: string) => new RegExp(`\\b${name}="([^"]*)"`).exec(attrs)?.[1] ?? null;
const element = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml);
  return m ? decodeXml(m[1] ?? '') : null;
};

function decodeXml(s: string): string {
  return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-f]+);/gi, (_, e: string) => {
    const named: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
    if (e[0] !== '#') return named[e.toLowerCase()] ?? '';
    return String.fromCodePoint(
      e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)),
    );
  });
}

function parseXmlFault(xml: string): QboFault | null {
  const fault = XML_FAULT.exec(xml);
  if (!fault) return null;
  const errors: QboFaultError[] = [];
  for (const m of (fault[2] ?? '').matchAll(XML_ERROR)) {
    errors.push({
      code: attr(m[1] ?? '', 'code') ?? '',
      message: element(m[2] ?? '', 'Message') ?? '',
      detail: element(m[2] ?? '', 'Detail'),
    });
  }
  return { type: attr(fault[1] ?? '', 'type'), errors };
}

/** Builds the typed error for a failed response. `retryAfterMs` comes from the Retry-After header when sent. */
export function faultToError(
  status: number,
  fault: QboFault | null,
  retryAfterMs: number | null = null,
): ConnectorError {
  const first = fault?.errors[0];
  const providerCode = first?.code || null;
  const code = (providerCode ? FAULT_CODES[providerCode] : undefined) ?? codeFromStatus(status);
  const summary = first ? `${first.message}${first.detail ? `: ${first.detail}` : ''}` : `HTTP ${status}`;
  return new ConnectorError({
    code,
    status,
    providerCode,
    retryAfterMs: code === 'rate_limited' ? retryAfterMs : null,
    message: `QuickBooks ${fault?.type ?? 'error'} ${providerCode ?? status}: ${summary}`,
  });
}
