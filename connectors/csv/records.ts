/**
 * CSV records as RFC 4180 reads them (fields separated by commas, a quoted field may hold commas, line breaks and
 * doubled quotes; CRLF, LF and CR each end a line; blanks around a field are dropped (isBlank); empty lines are
 * skipped), read so that one broken record never hides the rest of the file: a record the quoting rules cannot read
 * is reported with the line (and field) where it goes wrong, and reading resumes on the next line. A quote that is
 * never closed is reported where it opens, and reading resumes on the line after it, instead of the quoted value
 * running on to the end of the file; so is a quoted value that runs past a line break and past the longest value any
 * column takes (no real value is that long: it is a quote missing its end).
 *
 * Deterministic whatever the text is cut into: a record that may go on past the end of the text given is left for
 * the next call (`consumed` stops before it) unless `atEnd`.
 */

/** A record that was read: its trimmed fields, and the lines it starts and ends on. */
export interface RawRecord {
  fields: string[];
  line: number;
  endLine: number;
}

/** A record that could not be read: where it goes wrong (1-based line, 0-based field) and why. */
export interface BrokenRecord {
  line: number;
  field: number;
  message: string;
}

export type RecordItem = { record: RawRecord } | { broken: BrokenRecord };

export interface ReadRecords {
  /** Records and broken records in file order. */
  items: RecordItem[];
  /** Characters of the text taken (the rest starts a record that may not be complete yet). */
  consumed: number;
  /** The line the rest of the text starts on. */
  nextLine: number;
}

const UNCLOSED_QUOTE = 'a quoted value starts here and is never closed (a missing closing ")';
const STRAY_QUOTE = 'a quote inside a value: quote the whole value and double the inner quote ("a ""b"" c")';

const TEXT_FORMULA =
  'a spreadsheet formula (="…"), not a value: export the values (in the spreadsheet, paste the column as values) and import again';

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/**
 * Blanks around a value, dropped: space and tab, and what a spreadsheet or word processor leaves there instead
 * (vertical tab, form feed, U+00A0 no-break space, the Unicode spaces, U+FEFF), as csv-parse's `trim` dropped them.
 */
const isBlank = (c: number) =>
  c === 32 ||
  c === 9 ||
  (c > 127
    ? c === 0xa0 ||
      c === 0xfeff ||
      c === 0x1680 ||
      (c >= 0x2000 && c <= 0x200a) ||
      c === 0x2028 ||
      c === 0x2029 ||
      c === 0x202f ||
      c === 0x205f ||
      c === 0x3000
    : c === 11 || c === 12);

/**
 * Reads the records of `text`, which starts at a record boundary on line `firstLine`. `runawayChars`: a quoted
 * value holding a line break and longer than this is taken for a quote missing its end.
 */
export function readRecords(
  text: string,
  firstLine: number,
  atEnd: boolean,
  runawayChars: number,
): ReadRecords {
  const items: RecordItem[] = [];
  const n = text.length;
  let pos = 0;
  let line = firstLine;
  let consumed = 0;
  let consumedLine = firstLine;

  /** The length of the line break at `i`: 0 if none, -1 when a CR ends an open text (it may be half a CRLF). */
  const breakAt = (i: number): number => {
    const c = text.charCodeAt(i);
    if (c === LF) return 1;
    if (c !== CR) return 0;
    if (i + 1 < n) return text.charCodeAt(i + 1) === LF ? 2 : 1;
    return atEnd ? 1 : -1;
  };
  /** Takes everything up to `to` (now on line `toLine`). */
  const take = (to: number, toLine: number) => {
    pos = to;
    line = toLine;
    consumed = to;
    consumedLine = toLine;
  };
  /**
   * The record is broken at `at` (a position on line `line`): reported where it started (`reportLine`, `field`), and
   * reading resumes on the next line. False when the end of that line is not in the text yet.
   */
  const skipLine = (at: number, reportLine: number, field: number, message: string): boolean => {
    for (let j = at; j < n; j++) {
      const b = breakAt(j);
      if (b < 0) return false;
      if (b > 0) {
        items.push({ broken: { line: reportLine, field, message } });
        take(j + b, line + 1);
        return true;
      }
    }
    if (!atEnd) return false;
    items.push({ broken: { line: reportLine, field, message } });
    take(n, line);
    return true;
  };
  const runaway = `a quoted value starts here and is not closed within ${runawayChars.toLocaleString('en-US')} characters (no value is longer): a missing closing "?`;

  records: while (pos < n) {
    const startLine = line;
    // Empty (or blank) lines are skipped.
    let k = pos;
    while (k < n && isBlank(text.charCodeAt(k))) k++;
    if (k === n) {
      if (atEnd) take(n, line);
      break;
    }
    const eb = breakAt(k);
    if (eb < 0) break;
    if (eb > 0) {
      take(k + eb, line + 1);
      continue;
    }

    const fields: string[] = [];
    let ended = false; // by a line break
    for (let field = 0; ; field++) {
      let i = pos;
      while (i < n && isBlank(text.charCodeAt(i))) i++;
      let j: number;
      if (i < n && text.charCodeAt(i) === QUOTE) {
        // A quoted field: up to the quote that closes it ("" is one quote inside).
        const openLine = line;
        const openAt = i;
        let value = '';
        let from = i + 1;
        j = from;
        let spansLines = false;
        for (;;) {
          if (j >= n) {
            if (!atEnd) break records; // the rest may close it
            // Never closed: reported where it opened; reading resumes on the line after that one.
            line = openLine;
            if (!skipLine(openAt, openLine, field, UNCLOSED_QUOTE)) break records;
            continue records;
          }
          const c = text.charCodeAt(j);
          if (c === QUOTE) {
            if (j + 1 >= n && !atEnd) break records; // a doubled quote or the end: the next character tells
            if (text.charCodeAt(j + 1) === QUOTE) {
              value += text.slice(from, j + 1);
              j += 2;
              from = j;
              continue;
            }
            value += text.slice(from, j);
            j++;
            break;
          }
          const b = breakAt(j);
          if (b < 0) break records;
          if (b > 0) {
            spansLines = true;
            line++;
            j += b;
          } else j++;
          if (spansLines && value.length + (j - from) > runawayChars) {
            line = openLine;
            skipLine(openAt, openLine, field, runaway);
            continue records;
          }
        }
        // After the closing quote: blanks, then a comma, a line break or the end.
        while (j < n && isBlank(text.charCodeAt(j))) j++;
        if (j >= n && !atEnd) break records;
        fields.push(value);
        if (j < n && text.charCodeAt(j) !== COMMA) {
          const b = breakAt(j);
          if (b < 0) break records;
          if (b === 0) {
            if (!skipLine(j, startLine, field, STRAY_QUOTE)) break records;
            continue records;
          }
        }
      } else {
        // An unquoted field: up to a comma or the end of the line; a quote in it is an error.
        j = i;
        while (j < n) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
          if (c === QUOTE) {
            // ="00123": how a spreadsheet keeps an id's leading zeros, exported as the formula it is.
            const formula = j === i + 1 && text.charCodeAt(i) === 61;
            if (!skipLine(j, startLine, field, formula ? TEXT_FORMULA : STRAY_QUOTE)) break records;
            continue records;
          }
          j++;
        }
        if (j >= n && !atEnd) break records;
        let e = j;
        while (e > i && isBlank(text.charCodeAt(e - 1))) e--;
        fields.push(text.slice(i, e));
      }
      // The field ends at j: a comma, a line break or the end of the text.
      if (j >= n) {
        pos = n;
        break;
      }
      if (text.charCodeAt(j) === COMMA) {
        pos = j + 1;
        continue;
      }
      const b = breakAt(j);
      if (b < 0) break records;
      pos = j + b;
      line++;
      ended = true;
      break;
    }
    items.push({ record: { fields, line: startLine, endLine: ended ? line - 1 : line } });
    take(pos, line);
  }
  return { items, consumed, nextLine: consumedLine };
}
