import { Failure } from "../kernel/failure.js";
import { isAgent, type Principal } from "../kernel/principal.js";
import { canSee, notFound } from "../tickets/domain/visibility.js";
import type { StoredTicket } from "../tickets/ports.js";
import { scanStatusOf } from "./domain/attachment.js";
import type { AttachmentBlobs, AttachmentRecords, MarkMalicious } from "./ports.js";

/** How long a download URL reads: enough to start the download, too short to pass around. */
export const DOWNLOAD_URL_MINUTES = 5;

/** A scan takes seconds to a few minutes (Defender's on-upload scan): ask again in a while. */
const SCANNING_RETRY_SECONDS = 5;

export interface DownloadDeps {
  /** The ticket as this instance last saw it, else read: only who may see it is told by it, which never changes. */
  ticket: (id: string) => Promise<StoredTicket | null>;
  records: AttachmentRecords;
  blobs: AttachmentBlobs;
  /** Whether a malware scanner runs (Defender for Storage in Azure): then only a clean verdict is served. */
  scanner: boolean;
  markMalicious: MarkMalicious;
  now: () => Date;
  log: (line: string) => void;
}

/** Where the file is: a URL that reads it, until `expiresAt`. */
export interface FileLocation {
  url: string;
  expiresAt: string;
}

export type DownloadAttachment = (caller: Principal, ticketId: string, attachmentId: string, requestId: string) => Promise<FileLocation>;

const noSuchFile = (): Failure => new Failure("not_found", "No such attachment.");

/**
 * GET /api/tickets/{id}/attachments/{attachmentId}: where to read the file, a URL that reads
 * this one blob for 5 minutes and has storage answer with `Content-Disposition: attachment`
 * and the type checked from its bytes. Whoever may not see the entry that attached it gets
 * the same 404 as for a file that is not there: a requester never learns of an internal
 * note's file. Where a scanner runs, a file is served only once its verdict is clean: held
 * while it is scanned, and never when malicious (which an internal entry says, once) or when
 * it could not be scanned.
 */
export async function downloadAttachment(
  deps: DownloadDeps,
  caller: Principal,
  ticketId: string,
  attachmentId: string,
  requestId: string,
): Promise<FileLocation> {
  const [stored, file] = await Promise.all([deps.ticket(ticketId), deps.records.attachment(ticketId, attachmentId)]);
  if (!stored || !canSee(stored.ticket, caller)) throw notFound();
  if (!file || (file.visibility === "internal" && !isAgent(caller))) throw noSuchFile();
  if (deps.scanner) {
    const facts = await deps.blobs.facts(file.blob);
    if (!facts) throw noSuchFile();
    const status = scanStatusOf(facts.tags);
    if (status === "malicious") {
      // Said once, in an internal entry; a failure to say it (the ticket changing too fast) never serves the file.
      await deps
        .markMalicious(ticketId, { attachmentId: file.id, fileName: file.fileName }, requestId)
        .catch((e: unknown) => deps.log(`[${requestId}] attachments: could not record ${file.id} as malicious: ${String(e)}`));
      throw new Failure("malicious", "The malware scan found this file malicious: it is not served.");
    }
    if (status === "unscannable") throw new Failure("unscannable", "The malware scan could not scan this file: it is not served.");
    if (status === "scanning")
      throw new Failure("scanning", "The file is being scanned for malware; ask again in a few seconds.", {
        retryAfter: SCANNING_RETRY_SECONDS,
      });
  }
  const expiresAt = new Date(deps.now().getTime() + DOWNLOAD_URL_MINUTES * 60_000);
  const url = await deps.blobs.downloadUrl(file.blob, expiresAt, { fileName: file.fileName, contentType: file.contentType });
  return { url, expiresAt: expiresAt.toISOString() };
}
