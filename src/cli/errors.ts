/** The CLI's own error classes: no imports, so `src/cli.ts` can classify errors without loading any command. */

/** A wrong command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** A failure the command already explained on stderr: exit with `code`, print nothing more. */
export class ReportedFailure extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}
