/** What the analytics module needs from outside: the database only (predictions are read from its tables). */
import type { Infra } from '../infra';

export type AnalyticsDeps = Pick<Infra, 'db'>;
