/**
 * Connector registry: the provider column is checked against these keys, and everything in src/ that depends on a
 * provider (config variables, connect and webhook routes, token refresh, disconnect, the live read) goes through
 * it. Adding a provider is its folder plus one line in `connectors` below.
 */
import { z } from 'zod';
import { netsuite } from './netsuite';
import { quickbooks } from './quickbooks';
import type { Connector } from './types';

export const connectors = { quickbooks, netsuite } as const;

export type Provider = keyof typeof connectors;

export function isProvider(value: string): value is Provider {
  return Object.hasOwn(connectors, value);
}

/**
 * A registered connector seen through the contract only (what generic code in src/ may use). The app's config
 * satisfies every connector's config, so it is passed as is.
 */
// biome-ignore lint/suspicious/noExplicitAny: each connector narrows its own config, client and cursor types
export type AnyConnector = Connector<any, any, any>;

export function connectorFor(provider: Provider): AnyConnector {
  return connectors[provider];
}

/** Every registered connector, in registry order. */
export const registeredConnectors: readonly AnyConnector[] = Object.values(connectors);

type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void
  ? I
  : never;
type ShapeOf<C> = C extends { configSchema: z.ZodObject<infer S> } ? S : Record<never, never>;

/** The union of every connector's environment variables, merged by src/config.ts into the core schema. */
export type ConnectorConfigShape = UnionToIntersection<ShapeOf<(typeof connectors)[Provider]>>;

export function connectorConfigShape(): ConnectorConfigShape {
  const shape: Record<string, z.core.$ZodType> = {};
  for (const c of registeredConnectors) {
    for (const [key, schema] of Object.entries(c.configSchema?.shape ?? {})) {
      if (Object.hasOwn(shape, key)) throw new Error(`two connectors declare the setting ${key}`);
      shape[key] = schema;
    }
  }
  return shape as ConnectorConfigShape;
}

/** A z.object of every connector's settings (for documentation and tests). */
export const connectorConfigSchema = () => z.object(connectorConfigShape());
