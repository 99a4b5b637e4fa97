/** The HTML shell of the server's own small pages (connect errors, the framed launch); `body` is trusted markup. */
import type { FastifyReply } from 'fastify';

export const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export function htmlPage(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Duely</title>` +
        '<meta name="viewport" content="width=device-width,initial-scale=1">' +
        '<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}' +
        'a{color:#2563eb}a.btn{display:inline-block;background:#2ca01c;color:#fff;padding:.6rem 1rem;' +
        'border-radius:6px;text-decoration:none;font-weight:600}</style></head>' +
        `<body>${body}</body></html>`,
    );
}
