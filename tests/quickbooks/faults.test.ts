import { describe, expect, it } from 'vitest';
import { faultToError, parseFault } from '../../connectors/quickbooks/faults';
import { gatewayAuthFault, validationFault, xmlThrottle } from './fixtures';

const classify = (status: number, body: string, retryAfterMs: number | null = null) =>
  faultToError(status, parseFault(body), retryAfterMs);

describe('QuickBooks faults', () => {
  it('reads the business envelope Fault.Error[]', () => {
    const e = classify(400, JSON.stringify(validationFault('610', 'Object Not Found')));
    expect(e).toMatchObject({ code: 'not_found', status: 400, providerCode: '610', retryable: false });
    expect(classify(400, JSON.stringify(validationFault('5010', 'Stale Object Error')))).toMatchObject({
      code: 'stale_object',
      retryable: true,
    });
    expect(classify(400, JSON.stringify(validationFault('6190', 'Invalid Company Status'))).code).toBe(
      'subscription_lapsed',
    );
    expect(
      classify(400, JSON.stringify(validationFault('6000', 'A business validation error'))),
    ).toMatchObject({ code: 'validation', providerCode: '6000' });
  });

  it('reads the lower-case gateway envelope fault.error[]', () => {
    expect(classify(401, JSON.stringify(gatewayAuthFault))).toMatchObject({
      code: 'unauthorized',
      providerCode: '3200',
      status: 401,
    });
  });

  it('reads XML faults, including 429 throttling and the legacy 403 throttle', () => {
    const e = classify(429, xmlThrottle, 2000);
    expect(e).toMatchObject({
      code: 'rate_limited',
      providerCode: '3001',
      retryable: true,
      retryAfterMs: 2000,
    });
    expect(classify(403, xmlThrottle.replace('statusCode=429', 'statusCode=403')).code).toBe('rate_limited');
    const dup =
      '<IntuitResponse><Fault type="ValidationFault"><Error code="6240" element=""><Message>Duplicate Name Exists Error</Message><Detail>Another &amp; same</Detail></Error></Fault></IntuitResponse>';
    const parsed = parseFault(dup);
    expect(parsed).toEqual({
      type: 'ValidationFault',
      errors: [{ code: '6240', message: 'Duplicate Name Exists Error', detail: 'Another & same' }],
    });
    expect(classify(400, dup).code).toBe('duplicate');
  });

  it('classifies by status when there is no fault (empty or HTML 5xx bodies)', () => {
    expect(classify(503, '')).toMatchObject({
      code: 'provider_unavailable',
      retryable: true,
      providerCode: null,
    });
    expect(classify(502, '<html>Bad gateway</html>').code).toBe('provider_unavailable');
    expect(classify(404, '').code).toBe('not_found');
  });

  it('never classifies by message text', () => {
    // A message that mentions throttling under a validation code stays a validation error.
    expect(
      classify(400, JSON.stringify(validationFault('2050', 'ThrottleExceeded AuthenticationFailed'))).code,
    ).toBe('validation');
  });
});
