import { Failure, invalid } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import { canSee, notFound } from "../tickets/domain/visibility.js";
import type { TicketStore } from "../tickets/ports.js";
import { openingUploadsOf, uploadBlobName, type Upload, type UploadInput } from "./domain/attachment.js";
import type { AttachmentBlobs, AttachmentRecords } from "./ports.js";

/** How long an upload URL lets its holder write: long enough for a phone on a slow line, short enough to be of no use later. */
export const UPLOAD_URL_MINUTES = 10;

export interface UploadDeps {
  tickets: Pick<TicketStore, "get">;
  records: AttachmentRecords;
  blobs: AttachmentBlobs;
  maxBytes: number;
  newId: () => string;
  now: () => Date;
  /** Names the partition of a caller's uploads for an opening (openingUploadsOf). */
  hash: (text: string) => string;
}

export interface UploadGranted {
  id: string;
  uploadUrl: string;
  expiresAt: string;
  maxBytes: number;
}

/** The use case, as the HTTP handler calls it (its dependencies bound); a null ticket: for the caller's next opening. */
export type RequestUpload = (caller: Principal, ticketId: string | null, input: UploadInput) => Promise<UploadGranted>;

/**
 * POST /api/tickets/{id}/attachments: the ticket's requester or an agent asks to upload a file,
 * and gets a URL that creates exactly that one blob, for 10 minutes. The bytes go straight to
 * Blob Storage; naming the upload on a comment attaches it, once its type and size are checked.
 * POST /api/attachments (`ticketId` null): the same, before opening a ticket, whose opening
 * names it; the upload is the caller's alone until then.
 */
export async function requestUpload(
  deps: UploadDeps,
  caller: Principal,
  ticketId: string | null,
  input: UploadInput,
): Promise<UploadGranted> {
  if (ticketId !== null) {
    const stored = await deps.tickets.get(ticketId);
    // A stranger learns nothing of the ticket (404), as everywhere.
    if (!stored || !canSee(stored.ticket, caller)) throw notFound();
    if (stored.ticket.status === "closed") throw new Failure("conflict", "The ticket is closed: reopen it before attaching files.");
  }
  if (input.size > deps.maxBytes) throw invalid("The file is too large.", "size", `At most ${deps.maxBytes} bytes.`);
  const now = deps.now();
  const expiresAt = new Date(now.getTime() + UPLOAD_URL_MINUTES * 60_000);
  const record: Upload = {
    id: deps.newId(),
    type: "upload",
    ticketId: ticketId ?? openingUploadsOf(deps.hash, caller.id),
    fileName: input.fileName,
    declaredType: input.contentType,
    declaredSize: input.size,
    uploadedBy: { id: caller.id, role: caller.role },
    createdAt: now.toISOString(),
    uploadExpiresAt: expiresAt.toISOString(),
  };
  await deps.records.createUpload(record);
  const uploadUrl = await deps.blobs.uploadUrl(uploadBlobName(record), expiresAt);
  return { id: record.id, uploadUrl, expiresAt: record.uploadExpiresAt, maxBytes: deps.maxBytes };
}
