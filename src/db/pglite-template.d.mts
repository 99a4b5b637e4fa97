/** Types of pglite-template.mjs (plain JS: the initdb child process runs it without a TypeScript loader). */
export declare const TEMPLATE_FILE: string;
export declare const MANIFEST_FILE: string;
export declare function installedPgliteVersion(): string;
export declare function pgliteTemplate(files?: {
  template: string;
  manifest: string;
}): { blob: Blob } | { reason: string };
