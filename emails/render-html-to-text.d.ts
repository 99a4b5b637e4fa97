// The one html-to-text function emails/html-text-reference.ts uses (html-to-text 10 ships no types; it comes with
// @react-email/render, whose toPlainText wraps it).
declare module 'html-to-text' {
  export interface SelectorDefinition {
    selector: string;
    format?: string;
    options?: Record<string, unknown>;
  }
  export function compile(options?: {
    wordwrap?: number | false | null;
    selectors?: SelectorDefinition[];
  }): (html: string) => string;
}
