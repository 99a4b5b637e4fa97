import { z } from 'zod';
import { errorResponses, instant, uuid } from './common';

/** An API token as listed: never the token or its hash. */
export const apiTokenInfo = z.object({
  id: uuid,
  label: z.string(),
  tenantId: uuid.nullable(),
  createdAt: instant,
  lastUsedAt: instant.nullable(),
  revokedAt: instant.nullable(),
});

export const listTokens = {
  response: { 200: z.object({ items: z.array(apiTokenInfo) }), ...errorResponses },
} as const;
export const revokeToken = {
  params: z.object({ id: uuid }),
  response: { 200: apiTokenInfo, ...errorResponses },
} as const;
