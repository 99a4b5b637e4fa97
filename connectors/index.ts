/** Connector registry: the provider column is checked against these keys. Adding one is one line here. */
import { quickbooks } from './quickbooks';

export const connectors = { quickbooks } as const;

export type Provider = keyof typeof connectors;

export function isProvider(value: string): value is Provider {
  return Object.hasOwn(connectors, value);
}
