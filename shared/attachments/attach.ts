import { Failure, invalid } from "../kernel/failure.js";
import type { Principal } from "../kernel/principal.js";
import type { AttachmentRef } from "../tickets/domain/model.js";
import type { AttachmentCheck, PreparedFiles, TicketRecord, WriteOutcome } from "../tickets/ports.js";
import {
  attachmentRecordId,
  fileBlobName,
  openingUploadsOf,
  servedName,
  uploadBlobName,
  type Attachment,
  type Upload,
} from "./domain/attachment.js";
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

/** One named file, checked: where its checked copy is and what it is. */
interface Checked {
  upload: Upload;
  blob: string;
  size: number;
  contentType: Attachment["contentType"];
  fileName: string;
}

/**
 * How checking one file ended: checked, or not, with the blobs it leaves to delete and
 * whether its upload is spent (bytes that are no attachment) or given back for another try.
 */
type Outcome = { checked: Checked } | { failure: unknown; leftovers: string[]; spent: boolean };

/**
 * Attaching files (issue "Attachments", point 2) to a comment or an opening, as its change
 * needs it (shared/tickets/ports.ts AttachmentCheck). Each named upload must be the caller's,
 * made on this ticket (or, for an opening, before it). It is claimed first, its record deleted,
 * so that no other request attaches it too; it is given back if the change is surely not
 * written (a refusal, a lost race), and kept claimed, with its copy, when that is not known.
 * Its blob is copied under `files/`, where no upload URL reaches, bytes only (no header its
 * uploader set), and the copy is what is checked: its size within the limit, and its type
 * from its first bytes (sniff.ts), never from the client's word. So what was checked is what
 * is served, though the upload URL still writes for a few minutes more. A file that is no
 * attachment is refused (400 naming it) and deleted.
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
  const found = await Promise.all(ids.map((id) => deps.records.upload(scope, id)));
  const uploads = found.map((upload, i) => {
    // Someone else's upload is as unknown to the caller as one that never was.
    if (!upload || upload.uploadedBy.id !== caller.id) throw refusal(i, "No such upload of yours (attached already, or never made here).");
    return upload;
  });
  await claim(deps, scope, uploads);
  // All of them, even when one fails early: a copy still being made would outlive the cleanup.
  const outcomes = await Promise.all(uploads.map((upload, i) => check(deps, upload, ticketId, i)));
  const failed = outcomes.find((o) => "failure" in o);
  if (failed) {
    await quietly(
      deps,
      outcomes.flatMap((o) => ("checked" in o ? [o.checked.blob] : o.leftovers)),
    );
    await giveBack(
      deps,
      uploads.filter((_, i) => {
        const o = outcomes[i]!;
        return "checked" in o || !o.spent;
      }),
    );
    throw failed.failure;
  }
  const checked = outcomes.map((o) => (o as { checked: Checked }).checked);
  const refs: AttachmentRef[] = checked.map((c) => ({ id: c.upload.id, fileName: c.fileName, size: c.size, contentType: c.contentType }));
  return {
    refs,
    records(seq, visibility): TicketRecord[] {
      const attachedAt = deps.now().toISOString();
      return checked.map((c) => {
        const attachment: Attachment = {
          id: c.upload.id,
          type: "attachment",
          ticketId,
          fileName: c.fileName,
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
    async settle(outcome: WriteOutcome) {
      // Not known (the store timed out, and may apply the batch yet): nothing is undone, so an
      // attached file never loses its copy; the uploads stay claimed (the caller uploads again).
      if (outcome === "unknown") {
        deps.log(`attachments: the write attaching ${refs.map((r) => r.id).join(", ")} may or may not have landed; their copies are kept`);
        return;
      }
      // Attached: the uploads are spent (the lifecycle rule, or the local sweep, gets any blob left).
      // Not: the copies go, and the uploads are the caller's again, for another try.
      const written = outcome === "written";
      await quietly(
        deps,
        checked.map((c) => (written ? uploadBlobName(c.upload) : c.blob)),
      );
      if (!written)
        await giveBack(
          deps,
          checked.map((c) => c.upload),
        );
    },
  };
}

/** Each upload claimed for this request, or none: a lost claim (a concurrent request's) gives back the others. */
async function claim(deps: AttachDeps, scope: string, uploads: Upload[]): Promise<void> {
  const claims = await Promise.allSettled(uploads.map((u) => deps.records.claimUpload(scope, u.id)));
  const lost = claims.findIndex((c) => c.status === "fulfilled" && !c.value);
  const failed = claims.find((c): c is PromiseRejectedResult => c.status === "rejected");
  if (lost < 0 && !failed) return;
  const won = (c: PromiseSettledResult<boolean>) => c.status === "fulfilled" && c.value;
  await giveBack(
    deps,
    uploads.filter((_, i) => won(claims[i]!)),
  );
  // Lost to a request still under way (its retry, maybe): that one attaches it, or gives it back.
  throw lost >= 0
    ? new Failure("in_flight", `Another request is attaching attachments[${lost}] right now; retry in a moment.`, { retryAfter: 1 })
    : failed!.reason;
}

async function check(deps: AttachDeps, upload: Upload, ticketId: string, index: number): Promise<Outcome> {
  const source = uploadBlobName(upload);
  const blob = fileBlobName({ ticketId, id: upload.id }, deps.newId());
  // Bytes that are no attachment: refused, and deleted, the upload with them (it is of no use).
  const refused = (why: string, leftovers: string[]) => ({ failure: refusal(index, why), leftovers, spent: true });
  const tooLarge = `The file is larger than ${deps.maxBytes} bytes.`;
  const nothing: Outcome = { failure: refusal(index, "Nothing was uploaded to its URL."), leftovers: [], spent: false };
  try {
    // Too large is told before anything is copied (a copy of a large file costs, and past 256 MiB fails).
    const sent = await deps.blobs.facts(source);
    if (!sent) return nothing;
    if (sent.size > deps.maxBytes) return refused(tooLarge, [source]);
    if (!(await deps.blobs.copy(source, blob))) return nothing;
    // The copy's name goes on every failure from here: it is there.
    const [facts, head] = await Promise.all([deps.blobs.facts(blob), deps.blobs.head(blob, SNIFF_BYTES)]);
    const size = facts?.size ?? 0;
    if (size === 0) return refused("The file is empty.", [blob, source]);
    if (size > deps.maxBytes) return refused(tooLarge, [blob, source]);
    const contentType = await sniffType(head, size <= head.length);
    if (!contentType)
      return refused("Not a type attachments may be (images, PDF, plain text and logs, zip), as told by its first bytes.", [blob, source]);
    return { checked: { upload, blob, size, contentType, fileName: servedName(upload.fileName, contentType) } };
  } catch (e) {
    // A copy that timed out may be there all the same.
    return { failure: e, leftovers: [blob], spent: false };
  }
}

const refusal = (index: number, why: string): Failure => invalid("An attachment cannot be attached.", `attachments[${index}]`, why);

/** Deletes what an attach leaves behind; a failure is logged, not thrown (the lifecycle rule or the sweep gets it later). */
const quietly = (deps: AttachDeps, names: string[]): Promise<void> =>
  eachLogged(
    deps,
    names,
    (name) => deps.blobs.delete(name),
    (name) => `delete ${name}`,
  );

/** The uploads are the caller's again (their records made anew); a failure is logged: the caller uploads again. */
const giveBack = (deps: AttachDeps, uploads: Upload[]): Promise<void> =>
  eachLogged(
    deps,
    uploads,
    (u) => deps.records.createUpload(u),
    (u) => `give back upload ${u.id}`,
  );

/** `run` on each item, all at once; each failure logged as what it could not do, none thrown. */
async function eachLogged<T>(deps: AttachDeps, items: T[], run: (item: T) => Promise<void>, what: (item: T) => string): Promise<void> {
  const results = await Promise.allSettled(items.map(run));
  for (const [i, r] of results.entries())
    if (r.status === "rejected")
      deps.log(`attachments: could not ${what(items[i]!)}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
}
