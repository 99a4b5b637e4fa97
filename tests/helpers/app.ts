/**
 * One way to build the app in a test (fastify/demo's `build(t)` idea): services on a fresh test database, the
 * fastify app, an API token's auth header, and cleanup registered where the caller asked for the app.
 *
 * - In a test: `const { app, auth } = await buildTestApp({ test: ctx })` (ctx = the test's context): closed when
 *   that test finishes (`onTestFinished`).
 * - For a file or describe block: `const t = suiteTestApp(opts)` at collection scope registers `beforeAll` (build)
 *   and `afterAll` (close) in that scope; read `t.app`, `t.services`, `t.auth` from hooks and tests. Its options may
 *   be an (async) function run in that beforeAll: start a sandbox there and hand it over as `sandbox`.
 * - Several apps over one set of services (`keepServices`), services of the caller's own making (`services`), a
 *   demo company or config overrides (`demoCompany`, `env`: see createTestServices) all go through here too.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, type TestContext } from 'vitest';
import { issueApiToken } from '../../src/auth/api-tokens';
import { buildApp } from '../../src/http/app';
import type { Services } from '../../src/services';
import { createTestServices, type TestServiceOptions } from './services';

export interface BuildTestAppOptions extends TestServiceOptions {
  /** The API token's label (some suites assert it as the actor); `false` issues none. Default 'test'. */
  token?: string | false;
  /** Restrict the token to one tenant (default: an operator token for every tenant). */
  tokenTenantId?: string;
  /**
   * Services to adopt instead of fresh ones (e.g. a suite fixture that imports a ledger first); closed by `close`.
   * A function runs where the app is built (in `suiteTestApp`, in its beforeAll).
   */
  services?: Services | (() => Promise<Services>);
  /** Register `close` on this test's end (`onTestFinished`). */
  test?: Pick<TestContext, 'onTestFinished'>;
  /** `close` closes only the app and leaves the services open (several apps over one set of services). */
  keepServices?: boolean;
  /** A stand-in the services talk to (a QuickBooks or NetSuite sandbox): stopped by `close`, after the services. */
  sandbox?: { stop(): Promise<void> };
}

export interface TestApp {
  app: FastifyInstance;
  services: Services;
  /** `{ authorization: 'Bearer …' }` for the issued token (empty when `token: false`). */
  auth: { authorization: string };
  token: string;
  /** Closes the app, then the services (queue, database). Idempotent. */
  close: () => Promise<void>;
}

export async function buildTestApp(opts: BuildTestAppOptions = {}): Promise<TestApp> {
  const {
    token: label = 'test',
    tokenTenantId,
    test,
    services: given,
    keepServices = false,
    sandbox,
    ...serviceOpts
  } = opts;
  let services: Services | undefined;
  let app: FastifyInstance | undefined;
  let closed: Promise<void> | undefined;
  const close = () => {
    closed ??= (async () => {
      try {
        await app?.close();
        if (!keepServices) await services?.close();
      } finally {
        await sandbox?.stop();
      }
    })();
    return closed;
  };
  test?.onTestFinished(close);
  try {
    services =
      given === undefined
        ? await createTestServices(serviceOpts)
        : typeof given === 'function'
          ? await given()
          : given;
    app = await buildApp(services);
    const token =
      label === false ? '' : (await issueApiToken(services.db, label, tokenTenantId ?? null)).token;
    return {
      app,
      services,
      auth: (label === false ? {} : { authorization: `Bearer ${token}` }) as { authorization: string },
      token,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Registers, in the caller's scope (file or describe), a `beforeAll` building the app and an `afterAll` closing it.
 * The returned handle's fields are readable once that `beforeAll` has run (in later hooks and in tests).
 */
export function suiteTestApp(
  opts: BuildTestAppOptions | (() => BuildTestAppOptions | Promise<BuildTestAppOptions>) = {},
  timeout?: number,
): TestApp {
  let built: TestApp | undefined;
  beforeAll(async () => {
    built = await buildTestApp(typeof opts === 'function' ? await opts() : opts);
  }, timeout);
  afterAll(async () => {
    await built?.close();
  });
  const get = (): TestApp => {
    if (!built) throw new Error('suiteTestApp: the app is built in beforeAll; read it from a hook or a test');
    return built;
  };
  return {
    get app() {
      return get().app;
    },
    get services() {
      return get().services;
    },
    get auth() {
      return get().auth;
    },
    get token() {
      return get().token;
    },
    close: () => built?.close() ?? Promise.resolve(),
  };
}
