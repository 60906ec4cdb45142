import { invalid, type Failure } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import type { AttachmentRef } from "../tickets/domain/model.js";
import type { AttachmentCheck, PreparedFiles, TicketRecord } from "../tickets/ports.js";
import { attachmentRecordId, fileBlobName, openingUploadsOf, uploadBlobName, type Attachment, type Upload } from "./domain/attachment.js";
import { SNIFF_BYTES, sniffType } from "./domain/sniff.js";
import type { AttachmentBlobs, AttachmentRecords } from "./ports.js";

export interface AttachDeps {
  records: AttachmentRecords;
  blobs: AttachmentBlobs;
  maxBytes: number;
  /** A fresh name for each copy (fileBlobName). */
  newId: () => string;
  now: () => Date;
  log: (line: string) => void;
  /** Names the partition of a caller's uploads for an opening (openingUploadsOf). */
  hash: (text: string) => string;
}

/** One file of a comment's `attachments`, checked: where its copy is and what it is. */
interface Checked {
  upload: Upload;
  blob: string;
  size: number;
  contentType: Attachment["contentType"];
}

/** How checking one file ended: checked, or not, with the blobs it leaves to delete. */
type Outcome = { checked: Checked } | { failure: unknown; leftovers: string[] };

/**
 * Attaching files (issue "Attachments", point 2) as a comment's or an opening's change needs
 * it (shared/tickets/ports.ts AttachmentCheck). Each named upload must be the caller's, on
 * this ticket. Its blob is first copied under `files/`, where no upload URL reaches, and the
 * copy is what is checked: its size within the limit, and its type from its first bytes
 * (sniff.ts), never from the client's word. So what was checked is what is served, though the
 * upload URL still writes for a few minutes more. A file that is no attachment is refused
 * (400 naming it) and its blobs are deleted.
 */
export function attachmentCheck(deps: AttachDeps): AttachmentCheck {
  return { prepare: (caller, ticketId, ids, from) => prepare(deps, caller, ticketId, ids, from) };
}

async function prepare(
  deps: AttachDeps,
  caller: Principal,
  ticketId: string,
  ids: readonly string[],
  from: "ticket" | "opening",
): Promise<PreparedFiles> {
  const scope = from === "ticket" ? ticketId : openingUploadsOf(deps.hash, caller.id);
  const uploads = await Promise.all(ids.map((id) => deps.records.upload(scope, id)));
  uploads.forEach((upload, i) => {
    // Someone else's upload is as unknown to the caller as one that never was.
    if (!upload || upload.uploadedBy.id !== caller.id)
      throw refusal(
        i,
        from === "ticket" ? "No such upload on this ticket (of yours)." : "No such upload of yours (POST /api/attachments).",
      );
  });
  // All of them, even when one fails early: a copy still being made would outlive the cleanup.
  const outcomes = await Promise.all((uploads as Upload[]).map((upload, i) => check(deps, upload, ticketId, i)));
  const failed = outcomes.find((o) => "failure" in o);
  if (failed) {
    await quietly(
      deps,
      outcomes.flatMap((o) => ("checked" in o ? [o.checked.blob] : o.leftovers)),
    );
    throw failed.failure;
  }
  const checked = outcomes.map((o) => (o as { checked: Checked }).checked);
  const refs: AttachmentRef[] = checked.map((c) => ({
    id: c.upload.id,
    fileName: c.upload.fileName,
    size: c.size,
    contentType: c.contentType,
  }));
  return {
    refs,
    async load() {
      const attached = await Promise.all(refs.map((r) => deps.records.attachment(ticketId, r.id)));
      const i = attached.findIndex((a) => a !== null);
      if (i >= 0) throw refusal(i, "Attached already.");
    },
    records(seq, visibility): TicketRecord[] {
      const attachedAt = deps.now().toISOString();
      return checked.map((c) => {
        const attachment: Attachment = {
          id: c.upload.id,
          type: "attachment",
          ticketId,
          fileName: c.upload.fileName,
          contentType: c.contentType,
          size: c.size,
          seq,
          visibility,
          uploadedBy: c.upload.uploadedBy,
          attachedAt,
          blob: c.blob,
        };
        return { ...attachment, id: attachmentRecordId(c.upload.id), attachmentId: c.upload.id };
      });
    },
    // Attached: the uploads are spent (the lifecycle rule, or the local sweep, gets any left).
    // Not: the copies go, the uploads stay for another try.
    settle: (written) => quietly(deps, written ? checked.map((c) => uploadBlobName(c.upload)) : checked.map((c) => c.blob)),
  };
}

async function check(deps: AttachDeps, upload: Upload, ticketId: string, index: number): Promise<Outcome> {
  const blob = fileBlobName({ ticketId, id: upload.id }, deps.newId());
  // The copy's name goes on every failure: a copy that timed out may be there all the same.
  const refused = (why: string) => ({ failure: refusal(index, why), leftovers: [blob, uploadBlobName(upload)] });
  try {
    if (!(await deps.blobs.copy(uploadBlobName(upload), blob)))
      return { failure: refusal(index, "Nothing was uploaded to its URL."), leftovers: [] };
    const [facts, head] = await Promise.all([deps.blobs.facts(blob), deps.blobs.head(blob, SNIFF_BYTES)]);
    const size = facts?.size ?? 0;
    // Bytes that are no attachment: refused, and deleted (the upload too: it is of no use).
    if (size === 0) return refused("The file is empty.");
    if (size > deps.maxBytes) return refused(`The file is larger than ${deps.maxBytes} bytes.`);
    const contentType = await sniffType(head, size <= head.length);
    if (!contentType) return refused("Not a type attachments may be (images, PDF, plain text and logs, zip), as told by its first bytes.");
    return { checked: { upload, blob, size, contentType } };
  } catch (e) {
    return { failure: e, leftovers: [blob] };
  }
}

const refusal = (index: number, why: string): Failure => invalid("An attachment cannot be attached.", `attachments[${index}]`, why);

/** Deletes what an attach leaves behind; a failure is logged, not thrown (the lifecycle rule or the sweep gets it later). */
async function quietly(deps: AttachDeps, names: string[]): Promise<void> {
  const results = await Promise.allSettled(names.map((name) => deps.blobs.delete(name)));
  for (const [i, r] of results.entries())
    if (r.status === "rejected")
      deps.log(`attachments: could not delete ${names[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
}
