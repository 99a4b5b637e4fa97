import type { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import { recentSyncRuns } from '../../db/queries/sync-runs';
import { findTenant } from '../../db/queries/tenants';
import { AppError } from '../../errors';
import { importWritten } from '../../jobs/workflow';
import { otherTenant, principalOf, tenantOf } from '../auth';
import * as contract from '../contracts/imports';
import { isReadableStream, type SpooledUpload, spoolUpload, UploadTooLarge } from '../upload-spool';

/**
 * The client's name for the uploaded file, kept with the import run as display data: control characters dropped
 * (PostgreSQL cannot store U+0000, and the request-wide NUL guard never sees inside a multipart body) and at most
 * 255 characters; nothing left → no name.
 */
export function displayFileName(name: string | undefined): string | undefined {
  // By code points: a cut between the halves of a surrogate pair would be refused like a NUL.
  return [...(name ?? '').replace(/\p{Cc}/gu, '')].slice(0, 255).join('') || undefined;
}

export const importRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const maxBytes = services.config.IMPORT_MAX_MB * 1_000_000;
    const tooLarge = () =>
      new AppError(
        'file_too_large',
        `The file was not imported: it is larger than ${services.config.IMPORT_MAX_MB} MB. Split it by invoice date (one file per year, say) and import the parts one after the other, or use \`duely import\` on the server.`,
        413,
      );
    // Only this route takes large bodies, and neither form is held in memory: the handler (after the onRequest
    // auth hook, so nothing of an unauthenticated upload is read) copies the file to a temporary file with a byte
    // count, then imports from that file. Multipart streams the file part and caps every other part.
    await app.register(multipart, {
      limits: {
        fileSize: maxBytes,
        files: 1,
        fields: 10,
        parts: 11,
        fieldSize: 64 * 1024,
        headerPairs: 50,
      },
    });
    const otherType = () =>
      new AppError('unsupported_media_type', 'send the CSV as text/csv or as multipart/form-data', 415);
    // Over the limit, raw or multipart: the limit and what to do, not fastify's "Request body is too large"; a body
    // no parser takes (application/octet-stream, Windows' application/vnd.ms-excel for .csv) likewise says what to
    // send. Every other error goes on to the app's handler.
    app.setErrorHandler((err) => {
      const code = (err as { code?: unknown }).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE') throw tooLarge();
      if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') throw otherType();
      throw err;
    });
    // A raw text/csv body stays the request stream; the handler spools it (a declared Content-Length over the
    // limit is refused before a byte is read).
    app.addContentTypeParser(['text/csv', 'application/csv'], (req, payload, done) => {
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) return done(tooLarge(), undefined);
      done(null, payload);
    });

    /**
     * Upload a canonical invoice-history CSV, as a raw `text/csv` body or a multipart form field `file`.
     * Creates the tenant (source csv) when an operator token names a new one. 422 with every bad line otherwise.
     */
    app.post(
      '/tenants/:tenant/imports',
      { config: { tenantCheckedByHandler: true }, schema: contract.importCsv },
      async (req, reply) => {
        const ref = req.params.tenant;
        const existing = await findTenant(services.db, ref);
        const principal = principalOf(req);
        if (existing) await tenantOf(req, services);
        // A tenant principal naming a tenant that does not exist gets the answer of another tenant's (tenantOf).
        else if (principal.tenantId !== null) throw otherTenant(principal);

        let upload: SpooledUpload;
        let fileName: string | undefined;
        try {
          if (req.isMultipart()) {
            const file = await req.file();
            if (!file) throw new AppError('invalid_request', 'the form has no file field', 400);
            upload = await spoolUpload(file.file, maxBytes);
            // busboy stops a file at the limit and marks it truncated.
            if (file.file.truncated) {
              await upload.remove();
              throw tooLarge();
            }
            fileName = displayFileName(file.filename);
          } else if (isReadableStream(req.body)) {
            upload = await spoolUpload(req.body, maxBytes);
          } else {
            throw otherType();
          }
        } catch (err) {
          if (err instanceof UploadTooLarge) throw tooLarge();
          throw err;
        }
        let content: Readable | undefined;
        try {
          content = await upload.take();
          const result = await services.sync.importCsv(content, {
            // An existing tenant is addressed by its id (never re-found by its name); a new CSV tenant by its slug.
            tenantName: existing?.name ?? ref,
            tenantId: existing?.id,
            fileName,
            now: services.clock.now(),
            // Scoring (and the dunning plan after it) runs for the new ledger state once this commits.
            afterWrite: importWritten(services),
          });
          return reply.status(201).send(result);
        } finally {
          content?.destroy();
          await upload.remove();
        }
      },
    );

    app.get('/tenants/:tenant/sync-runs', { schema: contract.listSyncRuns }, async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: await recentSyncRuns(services.db, tenant.id) };
    });
  };
