import { z } from "zod";

/**
 * An attachment (issue "Attachments"): a file a requester or an agent uploads straight to Blob
 * Storage, then names on a comment or on the opening of a ticket. Its record lives in its
 * ticket's partition; its bytes never pass through the API.
 *
 * - Uploading: the record exists and a single-blob URL was handed out; the blob is under
 *   `uploads/`, where blobs never attached are deleted after 24 hours.
 * - Attached: named by a timeline entry, whose visibility it takes; the blob is under `files/`.
 */

/** The types an attachment may be, told by its first bytes (sniff.ts), never by the client's word. */
export const ALLOWED_TYPES = [
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/heic",
  "image/heif",
  "application/pdf",
  "application/zip",
  "text/plain",
] as const;
export type AllowedType = (typeof ALLOWED_TYPES)[number];

/** At most this many attachments on one comment or opening. */
export const MOST_ATTACHMENTS = 10;

/** A file name as a person sees it: no path, no control characters, no leading dot games. */
const FileName = z
  .string()
  .trim()
  .min(1)
  .max(255)
  // No path separator, no control character (C0 or DEL).
  .refine(
    (n) => ![...n].some((c) => c === "/" || c === "\\" || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    "a file name, without a path or control characters",
  )
  .refine((n) => n !== "." && n !== "..", "a file name");

export const UploadInput = z.strictObject({
  fileName: FileName,
  /** The client's word for the type: kept, shown nowhere, never trusted (the first bytes decide). */
  contentType: z.string().trim().min(1).max(255),
  /** In bytes; at most the setting (ATTACHMENTS_MAX_BYTES), checked again against the blob. */
  size: z.int().min(1),
});
export type UploadInput = z.output<typeof UploadInput>;

export const ScanStatus = z.enum(["unscanned", "scanning", "clean", "malicious"]);
export type ScanStatus = z.infer<typeof ScanStatus>;

export const AttachmentRecord = z.object({
  id: z.string().min(1),
  type: z.literal("attachment"),
  ticketId: z.string().min(1),
  fileName: FileName,
  declaredType: z.string(),
  /** The size the uploader declared; the blob's own is checked at attach. */
  declaredSize: z.int().min(1),
  uploadedBy: z.object({ id: z.string(), role: z.enum(["requester", "agent", "admin"]) }),
  createdAt: z.iso.datetime(),
  /** Until when its upload URL lets the client write. */
  uploadExpiresAt: z.iso.datetime(),
  state: z.enum(["uploading", "attached"]),
  /** Once attached: its checked type and size, and the entry that names it (whose visibility it takes). */
  attached: z
    .object({
      contentType: z.enum(ALLOWED_TYPES),
      size: z.int().min(1),
      seq: z.int().min(1),
      visibility: z.enum(["public", "internal"]),
    })
    .optional(),
});
export type AttachmentRecord = z.infer<typeof AttachmentRecord>;

/** The document id of an attachment's record in its ticket's partition. */
export const attachmentRecordId = (attachmentId: string): string => `attachment-${attachmentId}`;

/** Where its blob is: under `uploads/` until attached, then under `files/`. */
export function blobNameOf(r: Pick<AttachmentRecord, "ticketId" | "id" | "state">): string {
  return `${r.state === "uploading" ? "uploads" : "files"}/${r.ticketId}/${r.id}`;
}

/** The index tag Defender for Storage writes on a scanned blob, and its two verdicts. */
export const SCAN_RESULT_TAG = "Malware Scanning scan result";
export const NO_THREATS = "No threats found";
export const MALICIOUS = "Malicious";

/**
 * What a blob's tags say of its scan. Where a scanner runs (Azure, Defender for Storage), a
 * blob without its verdict is still being scanned; where none runs (the local host), it is
 * unscanned, and served.
 */
export function scanStatusOf(tags: Record<string, string>, scanner: boolean): ScanStatus {
  if (!scanner) return "unscanned";
  const verdict = tags[SCAN_RESULT_TAG];
  if (verdict === NO_THREATS) return "clean";
  if (verdict === MALICIOUS) return "malicious";
  // No verdict yet, or one that is neither (a scan that failed): held, never served.
  return "scanning";
}

/** Whether an attachment with this scan status may be served. */
export const servable = (status: ScanStatus): boolean => status === "clean" || status === "unscanned";
