import { bigint, timestamp } from 'drizzle-orm/pg-core';

/** Money in integer minor units of the row's currency. bigint in SQL; safe as a JS number up to 2^53. */
export const money = (name: string) => bigint(name, { mode: 'number' });
export const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
export const createdAt = () => instant('created_at').notNull().defaultNow();
export const updatedAt = () => instant('updated_at').notNull().defaultNow();
