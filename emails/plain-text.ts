/**
 * The plain-text part of an email, built from its props instead of converting its HTML (issue 18).
 *
 * It is what html-to-text 10.0.1 (MIT, © html-to-text contributors) makes of the emails' HTML with the options
 * emails/html-text-reference.ts converts with: lines wrapped at 78 characters (a word longer than that, a URL,
 * stands on a line of its own), React Email's plainTextSelectors, and the invoice table as one block per invoice
 * (its number and amounts, its dates, then "Pay: <url>" and "PDF: <url>" lines: a table 150–200 characters wide
 * was unreadable in a text mail client). This is the part of html-to-text that HTML reaches: its block builder
 * (line breaks between blocks, whitespace collapsing, word wrap, uppercase headings, lists, anchors). Each
 * template's text function (reminderText, statementText, …) calls it in the order and nesting of the elements its
 * JSX renders, React Email's layout tables included, because html-to-text's line breaks depend on that nesting.
 * tests/emails/plain-text.test.ts renders varied props through both paths and asserts byte equality: a change to a
 * template's JSX needs the same change to its text function.
 */

/** html-to-text's whitespaceCharacters: no-break spaces (U+00A0, U+202F in fr-FR amounts) are not among them. */
const WORD = /[^ \t\r\n\f\u200b]+/g;
const LEADING_WS = /^[ \t\r\n\f\u200b]/;
const TRAILING_WS = /[ \t\r\n\f\u200b]$/;
const HAS_WORD = /[^ \t\r\n\f\u200b]/;

/** The text part's line length (RFC 5322's recommended 78). */
export const WORDWRAP = 78;

/** html-to-text's InlineTextBuilder (no wrap characters, no forced wrap, no <wbr>). */
class Lines {
  lines: string[][] = [];
  words: string[] = [];
  available: number;
  stashedSpace = false;
  constructor(readonly max: number) {
    this.available = max;
  }

  push(word: string): void {
    if (this.available <= 0) this.newLine();
    const lineStart = this.words.length === 0;
    const cost = word.length + (lineStart ? 0 : 1);
    if (cost <= this.available) {
      this.words.push(word);
      this.available -= cost;
      return;
    }
    const [first, ...rest] = this.splitLongWord(word);
    if (!lineStart) this.newLine();
    this.words.push(first!);
    this.available -= first!.length;
    for (const part of rest) {
      this.newLine();
      this.words.push(part);
      this.available -= part.length;
    }
  }

  concat(word: string): void {
    const last = this.words.pop();
    if (last !== undefined) this.available += last.length + (this.words.length === 0 ? 0 : 1);
    this.push(last ? last + word : word);
  }

  newLine(n = 1): void {
    this.lines.push(this.words);
    for (let i = 1; i < n; i++) this.lines.push([]);
    this.words = [];
    this.available = this.max;
  }

  isEmpty(): boolean {
    return this.lines.length === 0 && this.words.length === 0;
  }

  clear(): void {
    this.lines = [];
    this.words = [];
    this.available = this.max;
  }

  toString(): string {
    let out = '';
    for (const words of this.lines) out += `${words.join(' ')}\n`;
    return out + this.words.join(' ');
  }

  /**
   * Verbatim: with html-to-text's default `wrapCharacters: []`, `lastIndexOf(this.wrapCharacters[0])` searches
   * for the string "undefined", so a word longer than the line is split after the "u" of an "undefined" in it.
   */
  private splitLongWord(word: string): string[] {
    const parts: string[] = [];
    while (word.length > this.max) {
      const firstLine = word.substring(0, this.max);
      const remaining = word.substring(this.max);
      const at = firstLine.lastIndexOf('undefined');
      if (at > -1) {
        word = firstLine.substring(at + 1) + remaining;
        parts.push(firstLine.substring(0, at + 1));
      } else {
        break;
      }
    }
    parts.push(word);
    return parts;
  }
}

/** A block, list, list item or table cell: what html-to-text can add text to. */
class Block {
  rawText = '';
  stashedLineBreaks = 0;
  readonly lines: Lines;
  constructor(
    readonly next: Block | null,
    public leadingLineBreaks: number,
    maxLineLength: number,
    readonly prefix = '',
  ) {
    this.lines = new Lines(maxLineLength);
  }
  text(): string {
    return this.lines.isEmpty() ? this.rawText : this.rawText + this.lines.toString();
  }
  add(text: string, leadingLineBreaks: number, trailingLineBreaks: number): void {
    const parentText = this.text();
    const lineBreaks = Math.max(this.stashedLineBreaks, leadingLineBreaks);
    this.lines.clear();
    if (parentText) {
      this.rawText = parentText + '\n'.repeat(lineBreaks) + text;
    } else {
      this.rawText = text;
      this.leadingLineBreaks = lineBreaks;
    }
    this.stashedLineBreaks = trailingLineBreaks;
  }
}

/** React (renderToStaticMarkup) replaces a javascript: URL in href by this one; html-to-text shows what it got. */
const JAVASCRIPT_URL =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: react-dom/server's own pattern, verbatim.
  /^[\u0000-\u001F ]*j[\r\n\t]*a[\r\n\t]*v[\r\n\t]*a[\r\n\t]*s[\r\n\t]*c[\r\n\t]*r[\r\n\t]*i[\r\n\t]*p[\r\n\t]*t[\r\n\t]*:/i;
const BLOCKED_URL =
  "javascript:throw new Error('React has blocked a javascript: URL as a security precaution.')";

/** The URL html-to-text shows for an anchor's href as React rendered it ('' for none or a fragment). */
export function shownHref(href: string | undefined): string {
  let h = href ? (JAVASCRIPT_URL.test(href) ? BLOCKED_URL : href) : '';
  h = h.replace(/^mailto:/, '');
  return h[0] === '#' ? '' : h;
}

export class PlainText {
  private top: Block = new Block(null, 1, WORDWRAP);
  private transforms: ((word: string) => string)[] = [];

  /** A block element: p (2, 2), div/td (1, 1), a layout table (2, 2), h1 (3, 2). */
  open(leadingLineBreaks: number): this {
    this.top = new Block(this.top, leadingLineBreaks, Math.max(20, this.top.lines.max));
    return this;
  }

  close(trailingLineBreaks: number): this {
    const block = this.top;
    this.top = block.next!;
    this.top.add(
      block.text(),
      block.leadingLineBreaks,
      Math.max(block.stashedLineBreaks, trailingLineBreaks),
    );
    return this;
  }

  /** A text node (as React renders it: adjacent strings are one node). */
  text(str: string, noWordTransform = false): this {
    const block = this.top;
    if (str.length === 0 || (block.stashedLineBreaks && !HAS_WORD.test(str))) return this;
    if (block.stashedLineBreaks) block.lines.newLine(block.stashedLineBreaks);
    const lines = block.lines;
    const transform = noWordTransform || this.transforms.length === 0 ? null : this.transform;
    const stashed = lines.stashedSpace;
    let any = false;
    WORD.lastIndex = 0;
    for (let m = WORD.exec(str); m !== null; m = WORD.exec(str)) {
      const word = transform ? transform(m[0]) : m[0];
      if (!any && !stashed && !LEADING_WS.test(str)) lines.concat(word);
      else lines.push(word);
      any = true;
    }
    lines.stashedSpace = (stashed && !any) || TRAILING_WS.test(str);
    block.stashedLineBreaks = 0;
    return this;
  }

  private transform = (word: string): string => {
    for (let i = this.transforms.length - 1; i >= 0; i--) word = this.transforms[i]!(word);
    return word;
  };

  /** <br/> */
  br(): this {
    this.top.lines.newLine();
    return this;
  }

  /** <p>text</p> */
  p(text: string): this {
    return this.open(2).text(text).close(2);
  }

  /** <h1>: uppercase, word by word (so "ß" becomes "SS" before wrapping, as in html-to-text). */
  h1(text: string): this {
    this.open(3);
    this.transforms.push(upper);
    this.text(text);
    this.transforms.pop();
    return this.close(2);
  }

  /** <hr/> */
  hr(): this {
    return this.open(2).text('-'.repeat(WORDWRAP)).close(2);
  }

  /**
   * <a href>text</a> with React Email's anchor options (no brackets, the href hidden when it equals the text):
   * "text href". html-to-text compares the href with the link's words joined without spaces.
   */
  link(href: string | undefined, text: string): this {
    const h = shownHref(href);
    if (!h) return this.text(text);
    let seen = '';
    this.transforms.push((w) => {
      seen += w;
      return w;
    });
    this.text(text);
    this.transforms.pop();
    if (h !== seen) this.text(seen ? ` ${h}` : h, true);
    return this;
  }

  /**
   * A link as a line of its own, "Pay: https://…" (`label` then the URL html-to-text would show); nothing when it
   * would show none (no href, a fragment).
   */
  linkLine(label: string, href: string | undefined): this {
    const h = shownHref(href);
    if (h) this.text(`${label} ${h}`);
    return this;
  }

  /** React Email's <Section> or <Button>'s section: a layout table (2, 2) around a cell (1, 1). */
  section(content: () => void): this {
    this.open(2).open(1);
    content();
    return this.close(1).close(2);
  }

  /** <ul> of text-only <li>s, prefix " * ". */
  ul(items: readonly string[]): this {
    if (items.length === 0) return this;
    const list = new Block(this.top, 2, this.top.lines.max);
    for (const item of items) {
      this.top = new Block(list, 1, Math.max(20, list.lines.max - 3), ' * ');
      this.text(item);
      const li = this.top;
      list.add(
        li.prefix + li.text().replace(/\n/g, '\n   '),
        li.leadingLineBreaks,
        Math.max(li.stashedLineBreaks, 1),
      );
    }
    this.top = list.next!;
    const text = list.text();
    if (text) this.top.add(text, list.leadingLineBreaks, 2);
    return this;
  }

  toString(): string {
    let root = this.top;
    while (root.next) root = root.next;
    return root.text();
  }
}

const upper = (w: string) => w.toUpperCase();
