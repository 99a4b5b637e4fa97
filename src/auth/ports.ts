/**
 * What the auth module needs from outside: infrastructure only (it asks nothing of another module). The mail
 * transport is the root's one instance (src/mail), shared with dunning's sends.
 */
import type { Infra } from '../infra';

export type AuthDeps = Pick<Infra, 'db' | 'config' | 'logger' | 'mailer'>;
