/**
 * Duely invoice PDF RESTlet: the invoice as NetSuite prints it (the account's own invoice form), for the
 * "Invoice PDF" link in Duely's reminders. NetSuite's REST web services render no PDF; N/render does.
 *
 * GET …/app/site/hosting/restlet.nl?script=<script id>&deploy=<deployment id>&id=<invoice internal id>
 *   (Content-Type: application/json, signed with the connection's TBA or OAuth 2.0 credentials)
 * → 200 {"contentType": "application/pdf", "fileName": "INV123.pdf", "base64": "<the PDF, base64>"}
 * Errors (NetSuite's RESTlet error body, {"error": {"code", "message"}}):
 *   DUELY_INVOICE_NOT_FOUND — no invoice with that id (or the id names another record type);
 *   SSS_MISSING_REQD_ARGUMENT — no id.
 * It reads one invoice and changes nothing.
 *
 * Deploy (an administrator, once per account):
 *   1. Documents > Files > SuiteScripts: upload this file.
 *   2. Customization > Scripting > Scripts > New: pick the file; ID `_duely_pdf` (so the script id is
 *      customscript_duely_pdf); Save.
 *   3. Deploy Script: ID `_duely_pdf` (customdeploy_duely_pdf), Status Released, Log Level Error, Audience: the role
 *      Duely's token/grant uses (not All Roles). Save.
 *   4. In Duely: NETSUITE_PDF_RESTLET=script=customscript_duely_pdf&deploy=customdeploy_duely_pdf (or the internal ids
 *      shown on the script and deployment records), and restart.
 * Role permissions (on top of those Duely's sync needs): Transactions > Invoice (View) — already granted for sync —,
 * Setup > Log in using Access Tokens / OAuth 2.0 Access Tokens (as for sync), and, for an OAuth 2.0 grant, the
 * integration record's "RESTlets" scope besides "REST Web Services". RESTlet calls count against the account's
 * concurrency pool like REST calls.
 *
 * @NApiVersion 2.1
 * @NScriptType Restlet
 * @NModuleScope SameAccount
 */
define(['N/error', 'N/render', 'N/search'], (error, render, search) => {
  const notFound = (id) =>
    error.create({
      name: 'DUELY_INVOICE_NOT_FOUND',
      message: `No invoice with internal id ${id}`,
      notifyOff: true,
    });

  const get = (params) => {
    const raw = params && params.id !== undefined ? String(params.id) : '';
    if (!raw) {
      throw error.create({
        name: 'SSS_MISSING_REQD_ARGUMENT',
        message: 'Missing a required argument: id',
        notifyOff: true,
      });
    }
    if (!/^\d{1,20}$/.test(raw)) throw notFound(raw);
    const id = Number(raw);
    // render.transaction prints any transaction type: make sure this id is an invoice the role can see.
    const found = search.lookupFields({ type: search.Type.INVOICE, id, columns: ['tranid'] });
    if (!found || found.tranid === undefined) throw notFound(raw);
    const pdf = render.transaction({ entityId: id, printMode: render.PrintMode.PDF });
    return {
      contentType: 'application/pdf',
      fileName: `${found.tranid || raw}.pdf`,
      // A binary file's getContents() is its base64 text.
      base64: pdf.getContents(),
    };
  };

  return { get };
});
