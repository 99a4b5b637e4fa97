/**
 * Large uploads go to a temporary file first, never to memory and never straight into a database transaction: a
 * slow client then holds a file descriptor, not the embedded database's only connection or a Postgres transaction.
 * The importer reads the file back as a stream (one chunk in memory at a time).
 */
import { createWriteStream, mkdtempSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';

/** Whether a request body is still the request stream (the CSV upload's parser leaves it so), not parsed data. */
export function isReadableStream(body: unknown): body is Readable {
  return typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function';
}

export class UploadTooLarge extends Error {
  constructor(readonly limitBytes: number) {
    super(`upload over ${limitBytes} bytes`);
    this.name = 'UploadTooLarge';
  }
}

export interface SpooledUpload {
  bytes: number;
  /**
   * Opens the file and removes its name at once (the open descriptor keeps the bytes until the stream closes), so
   * a process killed during the import leaves nothing behind. Call once.
   */
  take(): Promise<Readable>;
  /** Removes the file (and its private directory); safe to call twice. */
  remove(): Promise<void>;
}

/**
 * Copies `source` into a file in a new private directory under `dir` (the OS temp directory by default), counting
 * bytes: past `limitBytes` the copy stops with UploadTooLarge. Any failure (a client that disconnects, a full disk)
 * removes the partial file and rethrows. The source is paused, never destroyed, when the copy stops early: the
 * request's socket must stay writable for the answer (the server closes it after answering an unread body).
 */
export async function spoolUpload(
  source: Readable,
  limitBytes: number,
  dir: string = tmpdir(),
): Promise<SpooledUpload> {
  // Synchronous on purpose: the source's listeners must be attached before anything can be emitted unheard.
  const folder = mkdtempSync(path.join(dir, 'duely-upload-'));
  const file = path.join(folder, 'upload.csv');
  const remove = () => rm(folder, { recursive: true, force: true });
  let bytes = 0;
  const ignore = () => {};
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(file, { mode: 0o600 });
      let settled = false;
      const stop = (err: unknown) => {
        if (settled) return;
        settled = true;
        source.off('data', onData);
        source.off('end', onEnd);
        source.off('error', stop);
        source.off('aborted', onAborted);
        source.on('error', ignore); // a later error of an abandoned source (its client went away) is no news
        source.pause();
        out.destroy();
        reject(err);
      };
      const onAborted = () => stop(new Error('the client closed the connection during the upload'));
      const onData = (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > limitBytes) return stop(new UploadTooLarge(limitBytes));
        if (!out.write(chunk)) {
          source.pause();
          out.once('drain', () => {
            if (!settled) source.resume();
          });
        }
      };
      const onEnd = () => {
        if (settled) return;
        settled = true;
        source.off('data', onData);
        source.off('error', stop);
        source.off('aborted', onAborted);
        out.end((err?: Error | null) => (err ? reject(err) : resolve()));
      };
      out.on('error', stop);
      source.on('data', onData);
      source.once('end', onEnd);
      source.on('error', stop);
      source.once('aborted', onAborted);
      if (source.destroyed)
        stop(source.errored ?? new Error('the client closed the connection during the upload'));
      else source.resume();
    });
  } catch (err) {
    await remove();
    throw err;
  }
  const take = async () => {
    const handle = await open(file, 'r');
    await remove();
    return handle.createReadStream();
  };
  return { bytes, take, remove };
}
