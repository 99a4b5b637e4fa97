import nock from 'nock';
import { afterAll } from 'vitest';

// Tests run offline: any HTTP request that no interceptor answers fails loudly instead of leaving the machine.
// Loopback stays open for servers the tests start themselves (the QuickBooks sandbox, the app under test).
nock.disableNetConnect();
nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/);

afterAll(() => {
  nock.cleanAll();
});
