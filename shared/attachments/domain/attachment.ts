import * as z from "zod";

/**
 * An attachment (issue "Attachments"): a file a requester or an agent uploads straight to Blob
 * Storage, then names on a comment or on the opening of a ticket. Its record lives in its
 * ticket's partition; its bytes never pass through the API.
 *
 * - An upload: a single-blob URL was handed out; the blob is under `uploads/`, where blobs
 *   are deleted after 24 hours.
 * - An attachment: named by a timeline entry, whose visibility it takes; its blob, copied
 *   as it was checked, is under `files/`.
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

const MAX_FILE_NAME = 255;

/**
 * The file name extensions each type is served under: the first is added to a name without
 * one of them. A computer opens a download by its extension, whatever its type: a script named
 * `invoice.hta` is plain text to the check and a program to Windows, so it is served as
 * `invoice.hta.txt`.
 */
const EXTENSIONS: Record<AllowedType, readonly string[]> = {
  "image/png": ["png"],
  "image/jpeg": ["jpg", "jpeg"],
  "image/gif": ["gif"],
  "image/webp": ["webp"],
  "image/heic": ["heic"],
  "image/heif": ["heif", "heic"],
  "application/pdf": ["pdf"],
  "application/zip": ["zip"],
  "text/plain": ["txt", "log", "csv", "json", "md"],
};

/** The name a file of this checked type is served under: the uploader's, with an extension of the type (within 255 characters). */
export function servedName(fileName: string, type: AllowedType): string {
  const dot = fileName.lastIndexOf(".");
  const extension = dot > 0 ? fileName.slice(dot + 1).toLowerCase() : "";
  const allowed = EXTENSIONS[type];
  if (allowed.includes(extension)) return fileName;
  const suffix = `.${allowed[0]}`;
  // Shortened by whole characters (never half a surrogate pair) until the suffix fits.
  const stem = [...fileName];
  while (stem.join("").length + suffix.length > MAX_FILE_NAME) stem.pop();
  return `${stem.join("")}${suffix}`;
}

/** At most this many attachments on one comment or opening. */
export const MOST_ATTACHMENTS = 10;

/** A file name as a person sees it: no path, no control characters, no leading dot games. */
const FileName = z
  .string()
  .trim()
  .min(1)
  .max(MAX_FILE_NAME)
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

/** What a scan (where one runs) says of a file: only a clean one is served. */
export type ScanStatus = "scanning" | "clean" | "malicious" | "unscannable";

const Uploader = z.object({ id: z.string(), role: z.enum(["requester", "agent", "admin"]) });

/**
 * An upload handed out and not attached yet: its record lives in its ticket's partition (or,
 * for an opening, the caller's own: openingUploadsOf, as `ticketId`) and expires with Cosmos
 * DB's ttl (UPLOAD_RECORD_TTL_SECONDS) once it could no longer be attached.
 */
export const Upload = z.object({
  id: z.string().min(1),
  type: z.literal("upload"),
  ticketId: z.string().min(1),
  fileName: FileName,
  /** The client's word for the type: kept, shown nowhere, never trusted (the first bytes decide). */
  declaredType: z.string(),
  /** The size the uploader declared; the blob's own is checked at attach. */
  declaredSize: z.int().min(1),
  uploadedBy: Uploader,
  createdAt: z.iso.datetime(),
  /** Until when its upload URL lets the client write. */
  uploadExpiresAt: z.iso.datetime(),
});
export type Upload = z.infer<typeof Upload>;

/**
 * An attached file: created in the batch of the comment (or opening) that names it, whose
 * entry it takes its visibility from; its checked type and size, never the client's word.
 */
export const Attachment = z.object({
  id: z.string().min(1),
  type: z.literal("attachment"),
  ticketId: z.string().min(1),
  fileName: FileName,
  contentType: z.enum(ALLOWED_TYPES),
  size: z.int().min(1),
  /** The entry that names it, and its visibility: an internal note's file is an agent's only. */
  seq: z.int().min(1),
  visibility: z.enum(["public", "internal"]),
  uploadedBy: Uploader,
  attachedAt: z.iso.datetime(),
  /** Its blob: the copy checked as it was attached (fileBlobName). */
  blob: z.string().min(1),
});
export type Attachment = z.infer<typeof Attachment>;

/**
 * Where the uploads a caller makes before opening a ticket live: a partition of their own,
 * named from their id, which no ticket id can be (ticket ids are 24 hex digits).
 */
export const openingUploadsOf = (hash: (text: string) => string, callerId: string): string =>
  `uploads-${hash(`uploads:${callerId}`).slice(0, 24)}`;

/** An upload's record lives 2 days: the 10 minutes its URL writes, then the day the lifecycle rule keeps the blob, and a margin. */
export const UPLOAD_RECORD_TTL_SECONDS = 2 * 24 * 60 * 60;

/** The document ids of an upload's and an attachment's records in their ticket's partition. */
export const uploadRecordId = (id: string): string => `upload-${id}`;
export const attachmentRecordId = (id: string): string => `attachment-${id}`;

/**
 * Where the bytes are: an upload's under `uploads/` (where blobs are deleted after a day,
 * attached or not), an attachment's under `files/`, a copy made as it is attached and that
 * no upload URL can write: what was checked is what is served.
 */
export const UPLOADS_PREFIX = "uploads/";
export const FILES_PREFIX = "files/";
export const uploadBlobName = (u: Pick<Upload, "ticketId" | "id">): string => `${UPLOADS_PREFIX}${u.ticketId}/${u.id}`;
/** One copy per attempt to attach (`copy`), so that an attempt that fails deletes its own copy and never another's. */
export const fileBlobName = (a: Pick<Attachment, "ticketId" | "id">, copy: string): string =>
  `${FILES_PREFIX}${a.ticketId}/${a.id}/${copy}`;

/** The index tag Defender for Storage writes on a scanned blob, and its two verdicts. */
export const SCAN_RESULT_TAG = "Malware Scanning scan result";
export const NO_THREATS = "No threats found";
export const MALICIOUS = "Malicious";

/**
 * What a blob's tags say of its scan, where a scanner runs (Defender for Storage): no verdict
 * yet is still being scanned; a verdict neither clean nor malicious (Defender could not scan
 * it: an encrypted archive, a file over its limit, its monthly cap reached) is final too, and
 * never served.
 */
export function scanStatusOf(tags: Record<string, string>): ScanStatus {
  const verdict = tags[SCAN_RESULT_TAG];
  if (verdict === undefined) return "scanning";
  if (verdict === NO_THREATS) return "clean";
  if (verdict === MALICIOUS) return "malicious";
  return "unscannable";
}
