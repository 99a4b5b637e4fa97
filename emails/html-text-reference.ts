import { plainTextSelectors } from '@react-email/render';
import { compile, type FormatCallback } from 'html-to-text';
import { DATA_TABLE_CLASS } from './components/invoice-table';

/*
 * Test-only reference for the plain-text part (tests/emails/plain-text.test.ts): how renderEmail made it before
 * the text was built from the props (emails/plain-text.ts), by converting the rendered HTML with html-to-text.
 * Nothing at runtime imports this module.
 */

// html-to-text's default puts every table cell on its own line, and its 'dataTable' made the invoice rows one
// line 150–200 characters wide; the invoice table is written as one block per invoice (invoiceBlocks). Only the
// invoice table gets it: React Email's layout tables would otherwise become one giant cell.
export const TEXT_SELECTORS = [
  ...plainTextSelectors,
  { selector: `table.${DATA_TABLE_CLASS}`, format: 'invoiceBlocks' },
];

/** The line length of the plain-text part (plain-text.ts WORDWRAP, asserted equal by the test). */
export const TEXT_WORDWRAP = 78;

type Node = {
  type: string;
  name?: string;
  data?: string;
  attribs?: Record<string, string>;
  children?: Node[];
};

function textOf(n: Node): string {
  if (n.type === 'text') return n.data ?? '';
  return (n.children ?? []).map(textOf).join('');
}

function elements(n: Node, name: string): Node[] {
  const out: Node[] = [];
  for (const c of n.children ?? []) {
    if (c.name === name) out.push(c);
    else out.push(...elements(c, name));
  }
  return out;
}

/** The URL html-to-text's anchor shows (React Email's options): mailto: dropped, a fragment shows none. */
function shownUrl(a: Node | undefined): string {
  const h = (a?.attribs?.href ?? '').replace(/^mailto:/, '');
  return h[0] === '#' ? '' : h;
}

/**
 * The invoice table read from its HTML: its header cells name the columns; an invoice row (cells with a
 * data-label) becomes a block "Invoice N: <open> open[ of <amount>, when it differs]" / "Issued <d>; due <d>[; N days overdue]" /
 * "Pay: <url>" / "PDF: <url>", a total row (no labels) a "<its first cell>: <amount>" line ("Total open: …") of one
 * block after them.
 */
const invoiceBlocks: FormatCallback = (elem, _walk, builder) => {
  const table = elem as unknown as Node;
  const labels = elements(table, 'th').map((th) => textOf(th).trim());
  const col = (label: string) => labels.indexOf(label);
  const totals: string[] = [];
  for (const tr of elements(table, 'tr')) {
    const cells = elements(tr, 'td');
    if (cells.length === 0) continue;
    const cell = (label: string) => (col(label) < 0 ? undefined : cells[col(label)]);
    const text = (label: string) => textOf(cell(label) ?? { type: 'text' });
    if (cells[0]!.attribs?.['data-label'] !== 'Invoice') {
      totals.push(`${textOf(cells[0]!).trim()}: ${text('Open amount')}`);
      continue;
    }
    builder.openBlock({ leadingLineBreaks: 2 });
    builder.addInline(`Invoice ${text('Invoice')}: ${text('Open amount')} open`);
    if (cell('Amount') && text('Amount') !== text('Open amount')) builder.addInline(` of ${text('Amount')}`);
    builder.addLineBreak();
    builder.addInline(`Issued ${text('Issued')}; due ${text('Due')}`);
    const overdue = cell('Days overdue') ? text('Days overdue') : '–';
    if (overdue !== '–') builder.addInline(`; ${overdue} ${overdue === '1' ? 'day' : 'days'} overdue`);
    for (const [label, header] of [
      ['Pay:', 'Pay'],
      ['PDF:', 'Invoice PDF'],
    ] as const) {
      const url = shownUrl(elements(cell(header) ?? { type: 'tag' }, 'a')[0]);
      if (!url) continue;
      builder.addLineBreak();
      builder.addInline(`${label} ${url}`);
    }
    builder.closeBlock({ trailingLineBreaks: 2 });
  }
  if (totals.length === 0) return;
  builder.openBlock({ leadingLineBreaks: 2 });
  totals.forEach((line, i) => {
    if (i > 0) builder.addLineBreak();
    builder.addInline(line);
  });
  builder.closeBlock({ trailingLineBreaks: 2 });
};

/** The formatters the reference converts with (`invoiceBlocks`); toPlainText takes them too. */
export const TEXT_FORMATTERS = { invoiceBlocks };

/**
 * The plain-text part as html-to-text makes it: exactly what @react-email/render's toPlainText(html, { selectors:
 * TEXT_SELECTORS, formatters: TEXT_FORMATTERS, wordwrap: 78 }) returns, 5–6× faster (issue 18): html-to-text's options are compiled once instead of on every
 * call (toPlainText prepends plainTextSelectors to the given ones; a later selector replaces an earlier one with
 * the same text, so the deduplicated list is the same), and what html-to-text never reads is not parsed: the
 * document's <head> (it converts <body> only) and inline style attributes (half the body's bytes; React escapes
 * quotes in attribute values, so a style value never contains a double quote).
 */
const compiledText = compile({
  wordwrap: TEXT_WORDWRAP,
  formatters: TEXT_FORMATTERS,
  selectors: [...new Map([...plainTextSelectors, ...TEXT_SELECTORS].map((s) => [s.selector, s])).values()],
});
export function htmlToTextReference(html: string): string {
  const head = html.indexOf('<head>');
  const headEnd = head < 0 ? -1 : html.indexOf('</head>', head);
  const body = headEnd < 0 ? html : html.slice(0, head) + html.slice(headEnd + '</head>'.length);
  return compiledText(body.replace(/ style="[^"]*"/g, '').replace(PREVIEW_BLOCK, ''));
}

/**
 * React Email's <Preview> as rendered once style attributes are gone: the preview line and ~700 invisible padding
 * characters, a third of the text to parse, in a block html-to-text skips anyway (plainTextSelectors'
 * `[data-skip-in-text=true]`). React escapes `<` in text, so `[^<]*` spans exactly the texts; any other shape is
 * left in place and skipped by html-to-text as before.
 */
const PREVIEW_BLOCK = /<div data-skip-in-text="true">[^<]*<div>[^<]*<\/div><\/div>/;
