import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Services } from '../../app-services';
import { recentSyncRuns } from '../../db/queries/sync-runs';
import { findTenant } from '../../db/queries/tenants';
import { AppError } from '../../errors';
import { ledgerChanged } from '../../jobs/workflow';
import { otherTenant, principalOf, tenantOf } from '../auth';
import * as contract from '../contracts/imports';

const MAX_UPLOAD = 50 * 1024 * 1024;

export const importRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    // Only this route takes large bodies. Both parsers run after the onRequest auth hook, so nothing of an
    // unauthenticated upload is buffered; multipart streams the file and caps every other part.
    await app.register(multipart, {
      limits: {
        fileSize: MAX_UPLOAD,
        files: 1,
        fields: 10,
        parts: 11,
        fieldSize: 64 * 1024,
        headerPairs: 50,
      },
    });
    // Over the limit, raw (the body parser) or multipart (the file stream): the limit and what to do, not
    // fastify's "Request body is too large". Every other error goes on to the app's handler.
    app.setErrorHandler((err) => {
      const code = (err as { code?: unknown }).code;
      if (code === 'FST_ERR_CTP_BODY_TOO_LARGE' || code === 'FST_REQ_FILE_TOO_LARGE') {
        throw new AppError(
          'file_too_large',
          `The file was not imported: it is larger than ${MAX_UPLOAD / 1024 / 1024} MB. Split it by invoice date (one file per year, say) and import the parts one after the other, or use \`duely import\` on the server.`,
          413,
        );
      }
      throw err;
    });
    // CSV uploads arrive as raw text/csv bodies; keep them as Buffers so the importer hashes the exact bytes.
    app.addContentTypeParser(
      ['text/csv', 'application/csv'],
      { parseAs: 'buffer', bodyLimit: MAX_UPLOAD },
      (_req, body, done) => done(null, body),
    );

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

        let content: Buffer;
        let fileName: string | undefined;
        if (req.isMultipart()) {
          const file = await req.file();
          if (!file) throw new AppError('invalid_request', 'the form has no file field', 400);
          content = await file.toBuffer();
          fileName = file.filename;
        } else if (Buffer.isBuffer(req.body)) {
          content = req.body;
        } else {
          throw new AppError(
            'unsupported_media_type',
            'send the CSV as text/csv or as multipart/form-data',
            415,
          );
        }
        const result = await services.sync.importCsv(content, {
          // An existing tenant is addressed by its id (never re-found by its name); a new CSV tenant by its slug.
          tenantName: existing?.name ?? ref,
          tenantId: existing?.id,
          fileName,
          now: services.clock.now(),
          // Scoring (and the dunning plan after it) runs for the new ledger state once this commits.
          afterWrite: (tx, r, changed) =>
            ledgerChanged(services, tx, {
              tenantId: r.tenant.id,
              changedInvoices: changed.count,
              // Only a complete list narrows the re-score (a capped one would leave invoices unscored).
              invoiceIds: changed.ids.length === changed.count ? changed.ids : undefined,
              reason: 'import',
            }),
        });
        return reply.status(201).send(result);
      },
    );

    app.get('/tenants/:tenant/sync-runs', { schema: contract.listSyncRuns }, async (req) => {
      const tenant = await tenantOf(req, services);
      return { items: await recentSyncRuns(services.db, tenant.id) };
    });
  };
