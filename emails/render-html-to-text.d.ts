// The html-to-text functions emails/html-text-reference.ts uses (html-to-text 10 ships no types; it comes with
// @react-email/render, whose toPlainText wraps it).
declare module 'html-to-text' {
  export interface SelectorDefinition {
    selector: string;
    format?: string;
    options?: Record<string, unknown>;
  }
  /** The part of html-to-text's BlockTextBuilder a formatter of the reference calls. */
  export interface BlockTextBuilder {
    openBlock(options?: { leadingLineBreaks?: number; reservedLineLength?: number; isPre?: boolean }): void;
    closeBlock(options?: { trailingLineBreaks?: number }): void;
    addInline(str: string, options?: { noWordTransform?: boolean }): void;
    addLineBreak(): void;
  }
  /** A custom formatter: the element (a domhandler node), a walker for its children, the builder. */
  export type FormatCallback = (
    elem: unknown,
    walk: (nodes: unknown[], builder: BlockTextBuilder) => void,
    builder: BlockTextBuilder,
    formatOptions: Record<string, unknown>,
  ) => void;
  export function compile(options?: {
    wordwrap?: number | false | null;
    selectors?: SelectorDefinition[];
    formatters?: Record<string, FormatCallback>;
  }): (html: string) => string;
}
