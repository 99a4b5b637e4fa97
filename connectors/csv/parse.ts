/**
 * The canonical invoice-history CSV (../shared/data/ibm-ar/README.md): one row per invoice, `paid_date` empty while
 * open. Parsing is total: every cell and every record that cannot be understood is an error with its line and
 * column (a broken record does not end the reading: records.ts), and callers import nothing when any error exists. The bytes must be UTF-8 without NUL characters and each field is bounded in
 * length (input-checks.ts). What real exports legitimately contain is accepted with a warning naming the line: a
 * payment dated before its invoice (prepayment, posting vs document date), a due date before the invoice date,
 * zero or negative amounts (credit notes: returned in `credits`, never as invoices) and invoices in more than one
 * currency.
 */
import { isUtf8 } from 'node:buffer';
import type { Delivery, IsoDate } from '../canonical';
import { isIsoDate } from '../dates';
import { hasControlChars } from '../email-address';
import { currencyExponent, isKnownCurrency, toMinor } from '../money';
import {
  columnKey,
  columnName,
  DEFAULT_FIELD_LIMIT,
  FIELD_LIMITS,
  firstInvalidUtf8,
  headerNames,
  printable,
  truncateQuoted,
} from './input-checks';
import { type RecordItem, readRecords } from './records';

export const REQUIRED_COLUMNS = [
  'customer_id',
  'invoice_id',
  'invoice_date',
  'due_date',
  'amount',
  'currency',
  'paid_date',
] as const;
export const OPTIONAL_COLUMNS = ['delivery', 'country'] as const;
/** Every column Duely reads (a header's other columns are ignored). */
const KNOWN_COLUMNS: ReadonlySet<string> = new Set([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

export interface HistoryRow {
  /** 1-based line in the file (the header is line 1). */
  line: number;
  customerId: string;
  invoiceId: string;
  invoiceDate: IsoDate;
  dueDate: IsoDate;
  currency: string;
  amountMinor: number;
  paidDate: IsoDate | null;
  delivery: Delivery | null;
  country: string | null;
}

export interface CsvIssue {
  line: number;
  column: string | null;
  message: string;
}

export interface ParsedHistory {
  rows: HistoryRow[];
  errors: CsvIssue[];
  /** How many errors there are in all (`errors` keeps the first MAX_ERRORS, by line). */
  errorCount: number;
  /** Accepted but worth a look, each naming its line (at most MAX_ERRORS are kept; `warningCount` has them all). */
  warnings: CsvIssue[];
  warningCount: number;
  /** Zero or negative amounts: credit notes, with `amountMinor` the credited amount (>= 0). Not invoices. */
  credits: HistoryRow[];
}

export { isIsoDate };

/**
 * Ids become names, invoice numbers and email subjects: a line break or other control character in one (a quoted
 * field may hold any) is refused here, by line and column, with the send guard's own test (hasControlChars), rather
 * than failing every reminder later at that guard (unsafe_header) long after the import said yes.
 */
const controlMessage = (column: string) =>
  `${column} contains a line break or another control character; ids must be one line of text`;

/** No field is limited below this length: shorter fields need no lookup of their column's limit. */
const MIN_FIELD_LIMIT = Math.min(DEFAULT_FIELD_LIMIT, ...Object.values(FIELD_LIMITS));
/** No field may be longer than this: a quoted value running past it over a line break is a quote missing its end. */
const MAX_FIELD_LIMIT = Math.max(DEFAULT_FIELD_LIMIT, ...Object.values(FIELD_LIMITS));

/** Reports every field of `rec` longer than its limit; true when there was one (the row is not read further). */
function tooLong(rec: string[], names: string[], bad: (column: string, message: string) => void): boolean {
  let found = false;
  for (let i = 0; i < rec.length; i++) {
    const value = rec[i]!;
    if (value.length <= MIN_FIELD_LIMIT) continue;
    const name = columnName(names, i);
    const limit = FIELD_LIMITS[name] ?? DEFAULT_FIELD_LIMIT;
    if (value.length > limit) {
      bad(
        name,
        `${name} is ${value.length.toLocaleString('en-US')} characters long; at most ${limit} are allowed`,
      );
      found = true;
    }
  }
  return found;
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/** Trimmed `line.slice(from, to)`, or null when an edge holds anything but printable ASCII, space or tab. */
function plainField(line: string, from: number, to: number): string | null {
  let a = from;
  let b = to;
  while (a < b && (line.charCodeAt(a) === 32 || line.charCodeAt(a) === 9)) a++;
  while (b > a && (line.charCodeAt(b - 1) === 32 || line.charCodeAt(b - 1) === 9)) b--;
  if (a === b) return '';
  const first = line.charCodeAt(a);
  const last = line.charCodeAt(b - 1);
  if (first < 0x21 || first > 0x7e || last < 0x21 || last > 0x7e) return null;
  return line.slice(a, b);
}

/**

/**
 * The records of a piece of CSV that never needs the quoting rules, as readRecords returns them, several times
 * faster: no quote character at all, lines ended by \n (or all by \r\n), every non-empty line with `width` fields
 * (the first line's count when `width` is -1), no line of only blanks, and no field edged by whitespace other than
 * spaces and tabs. Null for anything else: readRecords then reads the piece, and reports what is wrong with it (a
 * short row…). `firstLine` is the line the piece starts on.
 */
function splitPlainLines(text: string, width: number, firstLine: number): CsvRecord[] | null {
  if (text.includes('"')) return null;
  const crlf = text.includes('\r');
  const lines = text.split('\n');
  const records: CsvRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!;
    if (crlf) {
      const last = i === lines.length - 1;
      if (!last) {
        if (line.charCodeAt(line.length - 1) !== 13) return null;
        line = line.slice(0, -1);
      }
      if (line.includes('\r')) return null;
    }
    if (line === '') continue;
    const record: string[] = [];
    let from = 0;
    for (;;) {
      const comma = line.indexOf(',', from);
      const field = plainField(line, from, comma < 0 ? line.length : comma);
      if (field === null) return null;
      record.push(field);
      if (comma < 0) break;
      from = comma + 1;
    }
    // A line of blanks is skipped as an empty line (readRecords).
    if (record.length === 1 && record[0] === '') return null;
    if (width < 0) width = record.length;
    else if (record.length !== width) return null;
    records.push({ record, info: { lines: firstLine + i } });
  }
  return records;
}

/** splitPlainLines for a whole file (a leading byte-order mark skipped). */
export function splitPlainCsv(input: string): CsvRecord[] | null {
  return splitPlainLines(input.charCodeAt(0) === 0xfeff ? input.slice(1) : input, -1, 1);
}

/** Why `amount` (refused by toMinor) cannot be stored in `currency`, in words the person fixing the file can act on. */
function amountProblem(amount: string, currency: string): string {
  const m = /^[+-]?\d+(?:\.(\d+))?$/.exec(amount);
  if (!m) {
    const hint = /^\(.*\d.*\)$/.test(amount)
      ? ' (write a negative amount with a minus sign: -12.00)'
      : /[\d]/.test(amount)
        ? ' (write amounts without thousands separators or currency signs, with a dot for decimals: 1234.56)'
        : '';
    return `"${amount}" is not a decimal amount in ${currency}${hint}`;
  }
  const places = (m[1] ?? '').replace(/0+$/, '').length;
  const allowed = currencyExponent(currency);
  if (places > allowed) {
    return `"${amount}" has ${places} decimal place${places === 1 ? '' : 's'}; ${currency} amounts have ${allowed ? `at most ${allowed}` : 'none'}`;
  }
  return `"${amount}" is too large an amount`;
}

/** Why `value` is not a date, with what to do about a date and time (a database export's "2013-01-02 00:00:00"). */
function notADate(value: string): string {
  const withTime = /^(\d{4}-\d{2}-\d{2})[T ]\d/.exec(value);
  return withTime && isIsoDate(withTime[1]!)
    ? `"${value}" is a date and time; write the date alone (YYYY-MM-DD: ${withTime[1]})`
    : `"${value}" is not a date (YYYY-MM-DD)`;
}

/** Lists at most this many errors (and warnings), all of them counted: the report stays readable, a broken 1 GB file cheap. */
export const MAX_ERRORS = 200;
const EMPTY: ParsedHistory = {
  rows: [],
  errors: [],
  errorCount: 0,
  warnings: [],
  warningCount: 0,
  credits: [],
};

/**
 * Text the reader takes apart at once: it holds about this much of the file (and the rows of it) at any time,
 * whatever the file's size. A chunk ends at a record boundary (a line break outside quotes).
 */
export const CHUNK_CHARS = 1024 * 1024;
/** A record still without its end after this many characters is refused (no real record is a thousandth of it). */
const MAX_RECORD_CHARS = 32 * 1024 * 1024;
/** Pieces a whole string or Buffer is fed to the reader in. */
const PIECE = 256 * 1024;

/** Line breaks in `text` as readRecords counts them (CRLF, LF and CR one each). */
function lineBreaks(text: string): number {
  let lfs = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lfs++;
  if (!text.includes('\r')) return lfs;
  let breaks = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) breaks++;
    else if (c === 13) {
      breaks++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  return breaks;
}

/**
 * Where the last complete line of quote-free `text` ends (0 when none does): after its last line break. A CR counts
 * only when what follows it is known (it may be the first half of a CRLF).
 */
function lineBoundary(text: string): number {
  const lf = text.lastIndexOf('\n');
  const cr = text.lastIndexOf('\r');
  return cr > lf && cr < text.length - 1 ? cr + 1 : lf + 1;
}

/**
 * A European Excel "CSV" is separated by semicolons (its amounts then have decimal commas), other exports by tabs:
 * the header holds no comma but one of those. Said first, since every later message would be a symptom of it.
 */
function otherSeparator(text: string): CsvIssue | null {
  const header = headerNames(text);
  if (header.length !== 1) return null;
  const sep = header[0]!.includes(';') ? 'semicolons' : header[0]!.includes('\t') ? 'tabs' : null;
  if (!sep) return null;
  return {
    line: 1,
    column: null,
    message: `the columns are separated by ${sep}; Duely reads comma-separated CSV: save or export the file as "CSV (comma-separated)" and import it again`,
  };
}

/** Bytes at the end of `buf` that begin a UTF-8 sequence the next piece completes: kept back for it. */
function incompleteTail(buf: Uint8Array): number {
  for (let k = 1; k <= 3 && k <= buf.length; k++) {
    const b = buf[buf.length - k]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

/**
 * A quote-aware position (1-based line, 0-based field), advanced over text as the file is read; lines counted as
 * readRecords counts them (CRLF, LF and CR one each: `cr` when the text so far ends in a CR).
 */
interface Place {
  line: number;
  field: number;
  quoted: boolean;
  cr: boolean;
}

function advance(place: Place, text: string, upto = text.length): Place {
  let { line, field, quoted, cr } = place;
  for (let i = 0; i < upto && i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      if (c === 13 || !cr) line++;
      if (!quoted) field = 0;
    } else if (c === 34) quoted = !quoted;
    else if (c === 44 && !quoted) field++;
    cr = c === 13;
  }
  return { line, field, quoted, cr };
}

/** What one chunk of the file yields, in file order. */
export interface HistoryBatch {
  rows: HistoryRow[];
  /** Credit notes (zero or negative amounts), `amountMinor` the credited amount (>= 0). */
  credits: HistoryRow[];
  /**
   * Lines refused for another reason whose invoice_id is still a valid id, so that a later line repeating it can be
   * named as a duplicate (only when the caller checks duplicates).
   */
  refusedIds: { line: number; invoiceId: string }[];
}

export interface HistoryReadResult {
  /**
   * The first errors, by line (at most about MAX_ERRORS). `fatal`: one problem made the file unreadable (not UTF-8,
   * a NUL, another separator, a broken header line, no header or a missing column, a record over MAX_RECORD_CHARS),
   * and it is the only one reported. A broken record is not fatal: it is reported and reading goes on after it.
   */
  errors: CsvIssue[];
  /** Problems with the bytes past the header line (not UTF-8, a NUL), at most one each: listed before `errors`. */
  fileErrors: CsvIssue[];
  /** How many errors there are in all, `fileErrors` included (`errors` keeps the first MAX_ERRORS, by line). */
  errorCount: number;
  fatal: boolean;
  warnings: CsvIssue[];
  warningCount: number;
  /** Warnings per column (their kind: amount = credit notes, paid_date = prepayments…), all of them counted. */
  warningsByColumn: Record<string, number>;
  rows: number;
  /** Lines with a zero or negative amount, and those of them that are credit notes (not zero). */
  credits: number;
  creditNotes: number;
  /** Invoices (not credit notes) per currency. */
  invoiceCurrencies: Map<string, number>;
}

/**
 * The canonical CSV read piece by piece (bytes or text, as a file or upload arrives), handing on its rows a chunk
 * at a time: memory stays about CHUNK_CHARS of text whatever the file's size. The checks and messages are those of
 * reading the whole file at once: a problem with the bytes (not UTF-8, a NUL) outranks one with the file's
 * structure (its separator, its header line), which outranks the header's names; broken records (readRecords) and
 * bad cells are reported together, by line. With `duplicates: 'caller'` a repeated
 * invoice_id is left to the caller (who sees every id: the database, say) and duplicateIssues merges its findings.
 */
export class HistoryCsvReader {
  private readonly seen: Map<string, number> | null;
  private readonly chunkChars: number;
  private carry: Uint8Array | null = null;
  private pending = '';
  /** No record of `pending` was complete when it was this long (halved): wait for this much before reading again. */
  private retryAt = 0;
  /** The line `pending` starts on (a record boundary; CRLF, LF and CR one line break each). */
  private lineBefore = 1;
  /** Whether a chunk was read yet. */
  private started = false;
  /** The file's text up to its first line break, which names the columns in messages. */
  private head = '';
  private headOpen = true;
  private names: string[] = [];
  private index = new Map<string, number>();
  private width = -1;
  /** The header's last required column: a row may stop after it (its other cells are then empty). */
  private lastRequired = -1;
  private headerSeen = false;
  /** The one problem that ends the reading of records, by rank: bytes > separator > structure > header. */
  private bytesProblem: CsvIssue | null = null;
  /**
   * Problems with the bytes past the header line (not UTF-8, a NUL): each reported once, before the lines' errors,
   * and the file read on (`bytesNoted`, `nulNoted`) so that its other problems are reported with them.
   */
  private readonly notices: CsvIssue[] = [];
  private bytesNoted = false;
  private nulNoted = false;
  private nulProblem: CsvIssue | null = null;
  private structureProblem: CsvIssue | null = null;
  private headerProblem: CsvIssue | null = null;
  /** After a bytes or structure problem only the bytes are checked, located from here. */
  private place: Place | null = null;
  private readonly errors: CsvIssue[] = [];
  /** Every error found, however many are kept in `errors`. */
  private errorCount = 0;
  private readonly warnings: CsvIssue[] = [];
  private warningCount = 0;
  private readonly warningsByColumn: Record<string, number> = {};
  private rowCount = 0;
  private creditCount = 0;
  private creditNoteCount = 0;
  private readonly currencies = new Map<string, { line: number; count: number }>();
  private readonly invoiceCurrencies = new Map<string, number>();

  /** `chunkChars`: CHUNK_CHARS unless a test reads in smaller chunks. */
  constructor(opts: { duplicates: 'here' | 'caller'; chunkChars?: number } = { duplicates: 'here' }) {
    this.seen = opts.duplicates === 'here' ? new Map() : null;
    this.chunkChars = opts.chunkChars ?? CHUNK_CHARS;
  }

  /** Reads the next piece of the file; returns the batches of the chunks it completed. */
  push(piece: string | Uint8Array): HistoryBatch[] {
    if (this.bytesProblem) return [];
    if (typeof piece === 'string') return this.acceptText(piece, false);
    return this.acceptBytes(piece);
  }

  /** Bytes as UTF-8 (a sequence cut by the end of `piece` waits for the next): what is not is reported once. */
  private acceptBytes(piece: Uint8Array, atEnd = false): HistoryBatch[] {
    let bytes: Uint8Array = piece;
    if (this.carry) {
      bytes = Buffer.concat([this.carry, piece]);
      this.carry = null;
    }
    const keep = atEnd ? 0 : incompleteTail(bytes);
    if (keep > 0) {
      this.carry = bytes.slice(bytes.length - keep);
      bytes = bytes.subarray(0, bytes.length - keep);
    }
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    if (this.bytesNoted || isUtf8(buf)) return this.acceptText(buf.toString('utf8'), atEnd);
    const bad = firstInvalidUtf8(buf);
    const batches = this.acceptText(buf.toString('utf8', 0, bad), false);
    this.notUtf8(buf[bad]!);
    if (this.bytesProblem) return batches;
    // Reported; the rest is read on (what is not UTF-8 read as U+FFFD) so that its other problems are reported too.
    for (const b of this.acceptText(buf.toString('utf8', bad), atEnd)) batches.push(b);
    return batches;
  }

  /** The end of the file: the last batches and the verdict. */
  end(): { batches: HistoryBatch[]; result: HistoryReadResult } {
    let batches: HistoryBatch[] = [];
    if (!this.bytesProblem) {
      const carry = this.carry;
      this.carry = null;
      // A UTF-8 sequence cut off by the end of the file.
      batches = carry ? this.acceptBytes(carry, true) : this.acceptText('', true);
    }
    return { batches, result: this.result() };
  }

  private result(): HistoryReadResult {
    const fatal =
      this.bytesProblem ??
      this.nulProblem ??
      this.structureProblem ??
      (this.headerSeen ? null : { line: 1, column: null, message: 'the file is empty' }) ??
      this.headerProblem;
    if (!fatal && this.currencies.size > 1) {
      const [main, ...others] = [...this.currencies.entries()].sort((a, b) => b[1].count - a[1].count);
      for (const [code, { line, count }] of others) {
        this.warn(
          line,
          'currency',
          `${count} invoice(s) in ${code} (first on this line) besides ${main![1].count} in ${main![0]}: each is kept in its own currency; totals are not converted`,
        );
      }
    }
    // Messages quote the cells they refuse: never echo a huge one whole.
    const shown = (e: CsvIssue): CsvIssue => ({
      line: e.line,
      // A column may be named by the file's own header.
      column: e.column === null ? null : printable(e.column),
      message: printable(truncateQuoted(e.message)),
    });
    const errors = (fatal ? [fatal] : this.errors).map(shown);
    return {
      fileErrors: this.notices.map(shown),
      errors,
      errorCount: this.notices.length + (fatal ? 1 : this.errorCount),
      fatal: fatal !== null,
      warnings: fatal ? [] : this.warnings,
      warningCount: fatal ? 0 : this.warningCount,
      warningsByColumn: fatal ? {} : this.warningsByColumn,
      rows: this.rowCount,
      credits: this.creditCount,
      creditNotes: this.creditNoteCount,
      invoiceCurrencies: this.invoiceCurrencies,
    };
  }

  /** Where the end of everything read so far is. */
  private here(extra: string): Place {
    return advance(
      this.place ?? { line: this.lineBefore, field: 0, quoted: false, cr: false },
      this.pending + extra,
    );
  }

  /**
   * The first byte that is not UTF-8. In the header line (or a UTF-16 file) it is the one problem of the file;
   * later, it is reported once, first, and the rest of the file is checked as well.
   */
  private notUtf8(byte: number): void {
    const at = this.here('');
    // A UTF-16 file (Excel's "Unicode Text") starts with its byte-order mark, FF FE or FE FF.
    const utf16 = this.head === '' && (byte === 0xff || byte === 0xfe);
    const issue = {
      line: at.line,
      column: utf16 ? null : columnName(headerNames(this.head), at.field),
      message: utf16
        ? `the file is UTF-16 (Excel's "Unicode Text"), not UTF-8: save it as "CSV UTF-8 (comma delimited)" and upload it again`
        : `the file is not UTF-8 (byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} here${at.line > 1 ? ', the first such byte' : ''}): export or save it as UTF-8 and upload it again`,
    };
    if (utf16 || at.line === 1 || this.place) {
      this.bytesProblem = issue;
      this.pending = '';
      return;
    }
    this.notices.push(issue);
    this.bytesNoted = true;
  }

  /** Only the bytes matter from here on: keep the place, drop the text. */
  private bytesOnly(): void {
    this.place = this.here('');
    this.pending = '';
  }

  private acceptText(text: string, atEnd: boolean): HistoryBatch[] {
    if (this.headOpen) {
      this.head += text;
      if (this.head.includes('\n') || this.head.length > MAX_RECORD_CHARS) this.headOpen = false;
    }
    if (this.nulNoted) text = text.replaceAll('\u0000', '\ufffd');
    else if (!this.nulProblem) {
      const nul = text.indexOf('\u0000');
      if (nul >= 0) {
        const at = this.here(text.slice(0, nul));
        // A workbook (.xlsx is a zip file) or UTF-16 without a byte-order mark shows in the header line: its
        // "names" would be binary, so the column is not named.
        const inHeader = at.line === 1;
        const issue = {
          line: at.line,
          column: inHeader ? null : columnName(headerNames(this.head), at.field),
          message: this.head.startsWith('PK\u0003\u0004')
            ? 'this is a zip file, such as an Excel workbook (.xlsx), not CSV: save it as "CSV UTF-8 (comma delimited)" and upload that'
            : inHeader
              ? 'contains a NUL character in the header line: a UTF-16 file or a spreadsheet, not CSV? save it as "CSV UTF-8 (comma delimited)" and upload that'
              : 'contains a NUL character; a CSV file is text (is this a spreadsheet or a UTF-16 file?)',
        };
        if (inHeader || this.place) {
          this.nulProblem = issue;
          this.pending += text;
          this.bytesOnly();
          return [];
        }
        // Reported once, first; the rest is read on (NUL as U+FFFD: no NUL reaches the staging table).
        this.notices.push(issue);
        this.nulNoted = true;
        text = text.replaceAll('\u0000', '\ufffd');
      }
    }
    if (this.place) {
      this.place = advance(this.place, text);
      return [];
    }
    this.pending += text;
    const batches: HistoryBatch[] = [];
    while (!this.place && (atEnd ? this.pending.length > 0 : this.pending.length >= this.chunkChars)) {
      // A record longer than what is pending is read again only once the text has doubled: each attempt reads it
      // from its start, so one attempt per piece made a 20 MB unclosed quote cost 47 s of one core (quadratic).
      if (!atEnd && this.pending.length < this.retryAt) break;
      const read = this.chunk(atEnd);
      if (!read.taken) {
        if (this.pending.length > MAX_RECORD_CHARS) this.recordTooLong();
        else this.retryAt = Math.min(this.pending.length * 2, MAX_RECORD_CHARS + 1);
        break;
      }
      this.retryAt = 0;
      if (read.batch) batches.push(read.batch);
    }
    return batches;
  }

  /** A record runs on past MAX_RECORD_CHARS without ending: the file cannot be read on from there. */
  private recordTooLong(): void {
    this.structureProblem = {
      line: this.lineBefore,
      column: null,
      message: `a record runs on for more than ${MAX_RECORD_CHARS / 1024 / 1024} MB without ending`,
    };
    this.bytesOnly();
  }

  /** Records a located error (the first MAX_ERRORS, and the rest of the row that reached it, are kept). */
  private error(issue: CsvIssue): void {
    this.errorCount++;
    const last = this.errors[this.errors.length - 1];
    if (this.errors.length < MAX_ERRORS || last?.line === issue.line) this.errors.push(issue);
  }

  /**
   * Reads the complete records at the start of `pending` (all of it `atEnd`): quote-free text line by line
   * (splitPlainLines), anything else with readRecords, which reports a broken record and reads on after it.
   * `taken` false: no record is complete yet.
   */
  private chunk(atEnd: boolean): { taken: boolean; batch: HistoryBatch | null } {
    const pending = this.pending;
    const first = !this.started;
    // Until the header is read the text is read like the start of a file (its byte-order mark skipped).
    const bom = first && pending.charCodeAt(0) === 0xfeff ? 1 : 0;
    const startLine = this.lineBefore;
    let end: number;
    let items: RecordItem[];
    if (!pending.includes('"')) {
      end = atEnd ? pending.length : lineBoundary(pending);
      if (end === 0) return { taken: false, batch: null };
      const body = pending.slice(bom, end);
      const plain = splitPlainLines(body, this.headerSeen ? this.width : -1, startLine);
      items = plain
        ? plain.map((r) => ({ record: { fields: r.record, line: r.info.lines, endLine: r.info.lines } }))
        : readRecords(body, startLine, true, MAX_FIELD_LIMIT).items;
    } else {
      const read = readRecords(pending.slice(bom), startLine, atEnd, MAX_FIELD_LIMIT);
      if (read.consumed === 0 && !atEnd) return { taken: false, batch: null };
      end = bom + read.consumed;
      items = read.items;
    }
    const text = pending.slice(0, end);
    this.pending = pending.slice(end);
    this.lineBefore += lineBreaks(text);
    if (first) {
      this.started = true;
      const separator = otherSeparator(text);
      if (separator) {
        this.structureProblem = separator;
        this.bytesOnly();
        return { taken: true, batch: null };
      }
      this.names = headerNames(this.head);
    }
    const batch: HistoryBatch = { rows: [], credits: [], refusedIds: [] };
    for (const item of items) {
      if ('broken' in item) {
        const issue = {
          line: item.broken.line,
          column: columnName(this.names, item.broken.field),
          message: item.broken.message,
        };
        if (this.headerSeen) {
          this.error(issue);
          continue;
        }
        // Without a header nothing after it can be read.
        this.structureProblem = issue;
        this.bytesOnly();
        return { taken: true, batch: null };
      }
      const { fields, line, endLine } = item.record;
      if (!this.headerSeen) {
        this.header(fields);
        if (this.headerProblem) return { taken: true, batch: null };
        continue;
      }
      // A row of empty cells (a spreadsheet's formatted but empty rows) holds no invoice.
      if (fields.every((f) => f === '')) continue;
      const rec = this.fitted(fields, line, endLine);
      if (rec) this.row(rec, line, batch);
    }
    return { taken: true, batch: this.headerProblem ? null : batch };
  }

  /**
   * A row with the header's number of fields: as it is; short of only columns that may be empty (an export that
   * drops trailing empty cells), padded with empty ones. Otherwise an error, and null.
   */
  private fitted(fields: string[], line: number, endLine: number): string[] | null {
    const width = this.width;
    const got = fields.length;
    if (got === width) return fields;
    if (got < width && got > this.lastRequired) return [...fields, ...Array<string>(width - got).fill('')];
    const span =
      endLine > line
        ? ` (a quoted value runs from line ${line} to line ${endLine}: a quote missing or one too many?)`
        : got > width
          ? ' (a comma inside a value, as in 1,234.56? quote the value: "1,234.56")'
          : '';
    this.error({
      line,
      column: columnName(this.names, Math.min(got, width)),
      message: `this row has ${got} field${got === 1 ? '' : 's'}; the header has ${width}${span}`,
    });
    return null;
  }

  private header(header: string[]): void {
    this.headerSeen = true;
    this.width = header.length;
    const names = header.map(columnKey);
    names.forEach((n, i) => {
      if (!this.index.has(n)) this.index.set(n, i);
    });
    this.columns = names;
    this.lastRequired = Math.max(...REQUIRED_COLUMNS.map((c) => this.index.get(c) ?? -1));
    const missing = REQUIRED_COLUMNS.filter((c) => !this.index.has(c));
    if (missing.length > 0) {
      const unknown = names.filter((n) => n !== '' && !KNOWN_COLUMNS.has(n));
      const message =
        `missing column(s): ${missing.join(', ')}` +
        (unknown.length
          ? ` (columns not known to Duely in the header: ${unknown.slice(0, 10).join(', ')})`
          : '');
      this.headerProblem = { line: 1, column: missing[0]!, message };
      return;
    }
    // "Invoice ID" and "invoice_id" side by side: which one holds the invoice's id is anyone's guess.
    const twice = names.findIndex((n, i) => KNOWN_COLUMNS.has(n) && this.index.get(n) !== i);
    if (twice >= 0) {
      const name = names[twice]!;
      this.headerProblem = {
        line: 1,
        column: name,
        message: `the header has ${name} twice (columns ${this.index.get(name)! + 1} and ${twice + 1}): keep the one Duely should read and remove or rename the other`,
      };
    }
  }

  /** The header's names as parsed (lower case): limits and lookups go by these. */
  private columns: string[] = [];

  private warn(line: number, column: string, message: string): void {
    if (this.warnings.length < MAX_ERRORS) this.warnings.push({ line, column, message });
    this.warningCount++;
    this.warningsByColumn[column] = (this.warningsByColumn[column] ?? 0) + 1;
  }

  private col(rec: string[], name: string): string {
    const i = this.index.get(name);
    return i === undefined ? '' : (rec[i] ?? '');
  }

  private row(rec: string[], line: number, batch: HistoryBatch): void {
    const bad = (column: string, message: string) => this.error({ line, column, message });
    if (tooLong(rec, this.columns, bad)) return;
    const customerId = this.col(rec, 'customer_id');
    const invoiceId = this.col(rec, 'invoice_id');
    const invoiceDate = this.col(rec, 'invoice_date');
    const dueDate = this.col(rec, 'due_date');
    const amount = this.col(rec, 'amount');
    const currency = this.col(rec, 'currency').toUpperCase();
    const paidDate = this.col(rec, 'paid_date');
    const delivery = this.col(rec, 'delivery').toLowerCase();
    const country = this.col(rec, 'country');
    const before = this.errorCount;
    let idOk = false;

    if (!customerId) bad('customer_id', 'customer_id is empty');
    else if (hasControlChars(customerId)) bad('customer_id', controlMessage('customer_id'));
    if (!invoiceId) bad('invoice_id', 'invoice_id is empty');
    else if (hasControlChars(invoiceId)) bad('invoice_id', controlMessage('invoice_id'));
    else if (this.seen?.has(invoiceId)) {
      bad('invoice_id', `invoice_id ${invoiceId} already appears on line ${this.seen.get(invoiceId)}`);
    } else {
      this.seen?.set(invoiceId, line);
      idOk = true;
    }
    if (!isIsoDate(invoiceDate)) bad('invoice_date', notADate(invoiceDate));
    if (!isIsoDate(dueDate)) bad('due_date', notADate(dueDate));
    else if (isIsoDate(invoiceDate) && dueDate < invoiceDate) {
      this.warn(
        line,
        'due_date',
        `due date ${dueDate} is before the invoice date ${invoiceDate}; imported as is`,
      );
    } else if (isIsoDate(invoiceDate) && Number(dueDate.slice(0, 4)) - Number(invoiceDate.slice(0, 4)) > 10) {
      // SAP and other ERPs write 9999-12-31 for "no due date".
      this.warn(
        line,
        'due_date',
        `due date ${dueDate} is more than ten years after the invoice date ${invoiceDate} (an export's "no due date"?); imported as is, so the invoice is never overdue and never reminded`,
      );
    }
    const currencyOk = /^[A-Z]{3}$/.test(currency) && isKnownCurrency(currency);
    if (!currencyOk) bad('currency', `"${this.col(rec, 'currency')}" is not an ISO 4217 currency code`);
    const amountMinor = currencyOk ? toMinor(amount, currency) : null;
    if (currencyOk && amountMinor === null) bad('amount', amountProblem(amount, currency));
    if (paidDate !== '') {
      if (!isIsoDate(paidDate)) bad('paid_date', notADate(paidDate));
      else if (isIsoDate(invoiceDate) && paidDate < invoiceDate) {
        this.warn(
          line,
          'paid_date',
          `paid ${paidDate}, before the invoice date ${invoiceDate} (a prepayment or posting-date difference); imported as paid`,
        );
      }
    }
    if (delivery !== '' && delivery !== 'email' && delivery !== 'print') {
      bad('delivery', `"${this.col(rec, 'delivery')}" is not a delivery method (email or print)`);
    }
    if (this.errorCount > before) {
      if (idOk && !this.seen) batch.refusedIds.push({ line, invoiceId });
      return;
    }
    const seenCurrency = this.currencies.get(currency);
    if (seenCurrency) seenCurrency.count++;
    else this.currencies.set(currency, { line, count: 1 });
    const credit = amountMinor! <= 0;
    if (credit) {
      this.warn(
        line,
        'amount',
        amountMinor === 0
          ? `amount ${amount} is zero: nothing to collect; not imported as an invoice`
          : `amount ${amount} is negative: imported as a credit note, not as an invoice`,
      );
      this.creditCount++;
      if (amountMinor !== 0) this.creditNoteCount++;
    } else {
      this.rowCount++;
      this.invoiceCurrencies.set(currency, (this.invoiceCurrencies.get(currency) ?? 0) + 1);
    }
    (credit ? batch.credits : batch.rows).push({
      line,
      customerId,
      invoiceId,
      invoiceDate,
      dueDate,
      currency,
      amountMinor: Math.abs(amountMinor!),
      paidDate: paidDate === '' ? null : paidDate,
      delivery: delivery === '' ? null : (delivery as Delivery),
      country: country === '' ? null : country,
    });
  }
}

/** Order of a row's checks: a duplicate id is reported after the customer's and before the dates' problems. */
const CHECK_ORDER = [
  'customer_id',
  'invoice_id',
  'invoice_date',
  'due_date',
  'currency',
  'amount',
  'paid_date',
];

/**
 * A reader's errors (duplicates: 'caller') together with the duplicate ids the caller found (`line` repeating the
 * id first seen on `firstLine`), as reading the whole file at once reports them: by line, each row's in the order of
 * its checks, collecting stopped at the row where MAX_ERRORS was reached.
 */
export function withDuplicates(
  errors: readonly CsvIssue[],
  duplicates: readonly { line: number; invoiceId: string; firstLine: number }[],
): CsvIssue[] {
  if (duplicates.length === 0) return [...errors];
  const rank = (i: CsvIssue) => {
    const r = CHECK_ORDER.indexOf(i.column ?? '');
    return r < 0 ? CHECK_ORDER.length : r;
  };
  const all = [
    ...errors,
    ...duplicates.map((d) => ({
      line: d.line,
      column: 'invoice_id',
      message: `invoice_id ${d.invoiceId} already appears on line ${d.firstLine}`,
    })),
  ].sort((a, b) => a.line - b.line || rank(a) - rank(b));
  const kept: CsvIssue[] = [];
  for (const issue of all) {
    if (kept.length >= MAX_ERRORS && issue.line !== kept[kept.length - 1]!.line) break;
    kept.push(issue);
  }
  return kept;
}

/** A whole file (string or Buffer) in pieces the reader takes. */
export function* piecesOf(input: string | Uint8Array, size = PIECE): Generator<string | Uint8Array> {
  for (let i = 0; i < input.length; i += size) {
    yield typeof input === 'string' ? input.slice(i, i + size) : input.subarray(i, i + size);
  }
}

/** The whole file's rows (each read chunk by chunk; `opts` for tests: smaller chunks and pieces). */
export function parseHistoryCsv(
  input: string | Buffer,
  opts: { chunkChars?: number; pieceSize?: number } = {},
): ParsedHistory {
  const reader = new HistoryCsvReader({ duplicates: 'here', chunkChars: opts.chunkChars });
  const rows: HistoryRow[] = [];
  const credits: HistoryRow[] = [];
  const take = (batches: HistoryBatch[]) => {
    for (const b of batches) {
      for (const r of b.rows) rows.push(r);
      for (const r of b.credits) credits.push(r);
    }
  };
  for (const piece of piecesOf(input, opts.pieceSize)) take(reader.push(piece));
  const { batches, result } = reader.end();
  take(batches);
  const errors = [...result.fileErrors, ...result.errors];
  if (result.fatal) return { ...EMPTY, errors, errorCount: result.errorCount };
  return {
    rows,
    errors,
    errorCount: result.errorCount,
    warnings: result.warnings,
    warningCount: result.warningCount,
    credits,
  };
}
