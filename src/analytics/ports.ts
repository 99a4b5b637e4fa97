/**
 * What the analytics module needs from outside: the database (predictions are read from its tables) and the clock
 * (whether it is the real time decides a CSV company's day: ledgerDay).
 */
import type { Infra } from '../infra';

export type AnalyticsDeps = Pick<Infra, 'db' | 'clock'>;
