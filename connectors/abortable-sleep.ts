import { ConnectorError } from './errors';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export function abortError(signal: AbortSignal): ConnectorError {
  return new ConnectorError({ code: 'aborted', message: 'request aborted', cause: signal.reason });
}

/** setTimeout that rejects with ConnectorError `aborted` as soon as the signal fires. */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
