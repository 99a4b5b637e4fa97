/**
 * The infrastructure every module may be handed (built once by the composition root, src/services.ts). A module
 * declares the slice it needs (`Pick<Infra, 'db' | 'clock'>`, or its `Deps` in <module>/ports.ts) and never
 * imports the root, so this file holds types only and imports nothing but infrastructure.
 */
import type { Clock } from './clock';
import type { Config } from './config';
import type { Db, DbHandle } from './db/client';
import type { Vault } from './keys';
import type { Logger } from './logger';
import type { MailTransport } from './mail/transport';

export interface Infra {
  config: Config;
  clock: Clock;
  logger: Logger;
  dbh: DbHandle;
  db: Db;
  /** Resend when RESEND_API_KEY is set, else null: the local outbox (nothing leaves the machine). */
  mailer: MailTransport | null;
  /** Seals stored secrets (connection tokens) with a key derived from APP_SECRET. */
  vault: Vault;
}
