/**
 * One error family for the app. `status` is the HTTP status a route answers with; `userMessage` is safe to show;
 * details of 5xx errors are logged, never sent to clients.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly options: {
      retryable?: boolean;
      userMessage?: string;
      details?: unknown;
      /** How many problems `details` is the start of, when it lists only the first ones (sent with `details`). */
      total?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
  }
  get retryable(): boolean {
    return this.options.retryable ?? false;
  }
  get userMessage(): string {
    return this.options.userMessage ?? this.message;
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`, 404);
export const unauthorized = (message = 'authentication required') =>
  new AppError('unauthorized', message, 401);
export const forbidden = (message = 'forbidden') => new AppError('forbidden', message, 403);
export const conflict = (message: string) => new AppError('conflict', message, 409);
