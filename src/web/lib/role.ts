/**
 * What the signed-in person may do (GET /api/v1/session `role`), for pages to show or hide actions. The server
 * enforces the same rule on every route; this only keeps the page from offering what would be refused.
 */
import { createContext, useContext } from 'react';

export type Role = 'viewer' | 'collector' | 'admin';
const ORDER: readonly Role[] = ['viewer', 'collector', 'admin'];

export const RoleContext = createContext<Role>('admin');

export const roleAtLeast = (has: Role, needs: Role) => ORDER.indexOf(has) >= ORDER.indexOf(needs);

/** True when the current person has at least `needs`. */
export function useCan(needs: Role): boolean {
  return roleAtLeast(useContext(RoleContext), needs);
}
