/**
 * CSV exports of the lists (RFC 4180: CRLF, quotes doubled), safe to open in a spreadsheet: a text cell that starts
 * with = + - @ tab or CR, or a full-width = + - @ (the CLI writer's set, connectors/csv/write.ts), gets a leading
 * single quote, so a customer named "=HYPERLINK(…)" stays text (OWASP "CSV injection"), and so does a formula after
 * a `;`, where Excel with a semicolon list separator starts a cell (`Acme;=1+1;`). Number cells are written as
 * numbers and never prefixed, so -12.50 stays a number.
 */
import type { FastifyReply } from 'fastify';
import { formulaSafe } from '../../connectors/csv/write';

export interface CsvColumn<T> {
  header: string;
  /** 'number' cells must be finite numbers or numeric strings (money as "1200.00"); anything else is text. */
  kind?: 'text' | 'number';
  value: (row: T) => string | number | boolean | null | undefined;
}

const NUMERIC = /^-?\d+(\.\d+)?$/;

/** One text cell, guarded against formula injection and quoted when needed. */
export function textCell(value: string): string {
  const safe = formulaSafe(value);
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function cell<T>(col: CsvColumn<T>, row: T): string {
  const v = col.value(row);
  if (v === null || v === undefined) return '';
  if (col.kind === 'number') {
    const s = String(v);
    if (NUMERIC.test(s)) return s;
  }
  return textCell(String(v));
}

export function toCsv<T>(columns: readonly CsvColumn<T>[], rows: readonly T[]): string {
  const lines = [columns.map((c) => textCell(c.header)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => cell(c, r)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Sends a CSV download named `<name>-<day>.csv`, led by a UTF-8 byte order mark: Excel, where these exports are
 * opened, reads a CSV without one in the system's code page, so "Zoë Ärger GmbH" showed as "ZoÃ« Ã„rger GmbH".
 */
export function sendCsv(reply: FastifyReply, name: string, day: string, body: string) {
  const file = `${name.replace(/[^a-z0-9-]+/gi, '-')}-${day}.csv`;
  return reply
    .header('content-disposition', `attachment; filename="${file}"`)
    .header('cache-control', 'private, no-store')
    .type('text/csv; charset=utf-8')
    .send(`\uFEFF${body}`);
}
