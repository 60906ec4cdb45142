import * as z from "zod";
import { Failure } from "../../kernel/failure.js";
import { endpoint, type HttpContext, type HttpHandler } from "../../adapters/http/endpoint.js";
import { notFound } from "../../tickets/domain/visibility.js";
import { ATTACHMENT_ID } from "../../tickets/domain/model.js";
import { TICKET_ID } from "../../tickets/ports.js";
import { UploadInput } from "../domain/attachment.js";
import type { DownloadAttachment } from "../download.js";
import type { RequestUpload } from "../request-upload.js";

/** What a client sends to upload a file, and what it gets: the OpenAPI document's schemas. */
export const UploadBody = UploadInput.meta({
  id: "AttachmentUpload",
  description: "The file the client is about to upload: its name, its type as the client sees it, and its size in bytes.",
});

export const UploadGrantedJson = z
  .object({
    id: z.string().describe("Name it in a comment's (or the opening's) `attachments` to attach the file"),
    uploadUrl: z
      .string()
      .describe("PUT the bytes here (x-ms-blob-type: BlockBlob), or Put Block and Put Block List; it creates this one blob only"),
    expiresAt: z.iso.datetime().describe("The URL writes until then (10 minutes)"),
    maxBytes: z.int().describe("The largest file accepted"),
  })
  .meta({ id: "AttachmentUploadGranted" });

/** An attachment's id, as uploads are given them: anything else is no attachment (404). */
export const AttachmentIdParam = z.string().regex(ATTACHMENT_ID).describe("The attachment's id, from its timeline entry");

export const FileLocationJson = z
  .object({
    url: z.string().describe("Reads the file, answered as a download with its checked type; nothing else"),
    expiresAt: z.iso.datetime().describe("The URL reads until then (5 minutes)"),
  })
  .meta({ id: "FileLocation" });

/** Whether Accept names application/json (and not with q=0). */
function acceptsJson(accept: string | null): boolean {
  return (accept ?? "").split(",").some((range) => {
    const [type, ...params] = range.split(";").map((p) => p.trim().toLowerCase());
    return type === "application/json" && !params.some((p) => /^q=0(\.0*)?$/.test(p));
  });
}

/** POST /api/attachments, POST /api/tickets/{id}/attachments and GET /api/tickets/{id}/attachments/{attachmentId}. */
export function attachmentHandlers(
  http: HttpContext,
  upload: () => Promise<RequestUpload>,
  download: () => Promise<DownloadAttachment>,
): Record<string, HttpHandler> {
  return {
    downloadAttachment: endpoint(http, { auth: true }, async (call) => {
      const ticketId = call.param("id");
      const attachmentId = call.param("attachmentId");
      if (!TICKET_ID.test(ticketId)) throw notFound();
      if (!ATTACHMENT_ID.test(attachmentId)) throw new Failure("not_found", "No such attachment.");
      const where = await (await download())(call.principal, ticketId, attachmentId, call.requestId);
      // The URL is a credential for 5 minutes: no cache keeps it.
      const headers = { "cache-control": "no-store" };
      // An app that hands the URL on asks for it as JSON; a browser following a link is sent there.
      if (acceptsJson(call.request.headers.get("accept"))) return { status: 200, headers, body: where };
      return { status: 302, headers: { ...headers, location: where.url } };
    }),
    requestOpeningUpload: endpoint(http, { auth: true }, async (call) => {
      const { value } = await call.body(UploadBody);
      return { status: 201, body: await (await upload())(call.principal, null, value) };
    }),
    requestUpload: endpoint(http, { auth: true }, async (call) => {
      const ticketId = call.param("id");
      if (!TICKET_ID.test(ticketId)) throw notFound();
      const { value } = await call.body(UploadBody);
      const granted = await (await upload())(call.principal, ticketId, value);
      return { status: 201, body: granted };
    }),
  };
}
