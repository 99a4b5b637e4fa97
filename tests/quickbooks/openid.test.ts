/** Intuit ID-token verification (jose): RS256 only, against the JWKS at the configured address. */
import { createHmac } from 'node:crypto';
import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/errors';
import { INTUIT_ISSUER, verifyIdToken } from '../../connectors/quickbooks/openid';
import { intuitIdentity } from '../helpers/intuit-identity';

const CLIENT_ID = 'openid-test-client';
const intuit = intuitIdentity(CLIENT_ID);
const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
const claims = () => {
  const now = Math.floor(Date.now() / 1000);
  return { iss: INTUIT_ISSUER, aud: [CLIENT_ID], sub: 'u-1', realmid: '123', iat: now, exp: now + 600 };
};

afterEach(() => nock.cleanAll());

async function refusal(idToken: string): Promise<ConnectorError> {
  const err = await verifyIdToken({ idToken, clientId: CLIENT_ID }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConnectorError);
  return err as ConnectorError;
}

describe('verifyIdToken', () => {
  it('returns the subject and realm of a token signed with a JWKS key', async () => {
    intuit.nockJwks();
    await expect(
      verifyIdToken({ idToken: intuit.idToken({ sub: 'u-1', realmid: '123' }), clientId: CLIENT_ID }),
    ).resolves.toMatchObject({ sub: 'u-1', realmId: '123' });
  });

  it('refuses alg none and an HMAC signature made with the public key material', async () => {
    intuit.nockJwks();
    expect((await refusal(`${part({ alg: 'none', kid: 'test-kid-1' })}.${part(claims())}.`)).code).toBe(
      'unauthorized',
    );
    intuit.nockJwks();
    const input = `${part({ alg: 'HS256', kid: 'test-kid-1' })}.${part(claims())}`;
    const mac = createHmac('sha256', JSON.stringify(intuit.jwks.keys[0])).update(input).digest('base64url');
    expect((await refusal(`${input}.${mac}`)).code).toBe('unauthorized');
  });

  it('a JWKS that cannot be read is retryable, not a refusal of the user', async () => {
    nock('https://oauth.platform.intuit.com').get('/op/v1/jwks').reply(503, 'down');
    const down = await refusal(intuit.idToken({ sub: 'u-1', realmid: '123' }));
    expect(down.code).toBe('provider_unavailable');
    expect(down.retryable).toBe(true);
  });
});
