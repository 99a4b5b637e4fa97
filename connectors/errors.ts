/**
 * One error family for every connector. Classification is decided from the HTTP status and the provider's own
 * fault codes (never from message text), so callers branch on `code` and `retryable` only.
 */
export type ConnectorErrorCode =
  | 'unauthorized' // access token rejected even after one refresh
  | 'invalid_grant' // refresh token revoked, rotated away or expired: the user must reconnect
  | 'forbidden' // authenticated but not allowed (scope, role)
  | 'rate_limited'
  | 'not_found'
  | 'validation' // the provider rejected the request as malformed or against a business rule
  | 'invalid_query'
  | 'stale_object' // optimistic-lock conflict (QuickBooks SyncToken)
  | 'duplicate'
  | 'subscription_lapsed' // the company's subscription ended: nothing works until the owner resubscribes
  | 'provider_unavailable' // 5xx or an unreadable answer from the provider
  | 'network'
  | 'bad_payload' // the provider sent a record we cannot read; syncing it would corrupt balances
  | 'resync_required' // the stored incremental cursor is too old; start a full sync
  | 'aborted'
  | 'unknown';

interface Classification {
  retryable: boolean;
  userMessage: string;
}

const CLASSIFICATION: Record<ConnectorErrorCode, Classification> = {
  unauthorized: {
    retryable: false,
    userMessage: 'The connection was rejected by the provider. Please reconnect.',
  },
  invalid_grant: {
    retryable: false,
    userMessage: 'Access to your accounting system has expired or was revoked. Please reconnect.',
  },
  forbidden: { retryable: false, userMessage: 'Your accounting user is not allowed to perform this action.' },
  rate_limited: {
    retryable: true,
    userMessage: 'The accounting system asked us to slow down; we will retry shortly.',
  },
  not_found: { retryable: false, userMessage: 'The record no longer exists in your accounting system.' },
  validation: { retryable: false, userMessage: 'Your accounting system rejected the request.' },
  invalid_query: { retryable: false, userMessage: 'Your accounting system rejected a query.' },
  stale_object: {
    retryable: true,
    userMessage: 'The record changed in your accounting system meanwhile; we will retry.',
  },
  duplicate: {
    retryable: false,
    userMessage: 'A record with the same name already exists in your accounting system.',
  },
  subscription_lapsed: {
    retryable: false,
    userMessage: 'Your accounting subscription has ended or has a billing problem.',
  },
  provider_unavailable: {
    retryable: true,
    userMessage: 'Your accounting system is temporarily unavailable; we will retry.',
  },
  network: { retryable: true, userMessage: 'We could not reach your accounting system; we will retry.' },
  bad_payload: { retryable: false, userMessage: 'Your accounting system sent a record we could not read.' },
  resync_required: { retryable: false, userMessage: 'A full re-synchronisation is needed.' },
  aborted: { retryable: false, userMessage: 'The operation was cancelled.' },
  unknown: { retryable: false, userMessage: 'Something went wrong talking to your accounting system.' },
};

export interface ConnectorErrorInit {
  code: ConnectorErrorCode;
  message: string;
  status?: number | null;
  providerCode?: string | null;
  retryAfterMs?: number | null;
  /** Overrides the default for the code (e.g. a 5xx that exhausted its retries is still retryable later). */
  retryable?: boolean;
  userMessage?: string;
  cause?: unknown;
}

export class ConnectorError extends Error {
  override readonly name = 'ConnectorError';
  readonly code: ConnectorErrorCode;
  readonly status: number | null;
  readonly retryable: boolean;
  readonly retryAfterMs: number | null;
  readonly userMessage: string;
  readonly providerCode: string | null;

  constructor(init: ConnectorErrorInit) {
    super(init.message, { cause: init.cause });
    const base = CLASSIFICATION[init.code];
    this.code = init.code;
    this.status = init.status ?? null;
    this.retryable = init.retryable ?? base.retryable;
    this.retryAfterMs = init.retryAfterMs ?? null;
    this.userMessage = init.userMessage ?? base.userMessage;
    this.providerCode = init.providerCode ?? null;
  }
}

export function isConnectorError(e: unknown): e is ConnectorError {
  return e instanceof ConnectorError;
}

/** Provider-independent reading of an HTTP status, used when the provider gave no recognised fault code. */
export function codeFromStatus(status: number): ConnectorErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'stale_object';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'provider_unavailable';
  if (status >= 400) return 'validation';
  return 'unknown';
}
