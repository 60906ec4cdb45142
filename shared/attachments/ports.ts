/**
 * What the attachments feature needs from the world (issue "Attachments"): a blob store that
 * hands out short-lived, single-blob URLs (SAS), so that a file's bytes go straight between
 * the client and Blob Storage and never through the API. In Azure the SAS is a user-delegation
 * SAS signed with the managed identity's delegation key (no account key exists); locally,
 * Azurite's development account key signs it. The adapter is shared/adapters/blob/.
 */

import type { Attachment, Upload } from "./domain/attachment.js";

/**
 * Where uploads' and attachments' records are kept: in their ticket's partition (the Cosmos DB
 * adapter). An attachment's record is created by the batch of the change that attaches it
 * (PreparedFiles.records, shared/tickets/ports.ts), never here.
 */
export interface AttachmentRecords {
  /** Stores a new upload's record, removed after UPLOAD_RECORD_TTL_SECONDS. Failure "exists" if its id is taken. */
  createUpload(upload: Upload): Promise<void>;
  /**
   * Claims an upload for one request: its record deleted, so that no other request can; false
   * when it was not there (claimed already, or never made). Given back with createUpload.
   */
  claimUpload(scope: string, id: string): Promise<boolean>;
  /** The upload's record, or null when there is none (never made, claimed, or expired). */
  upload(ticketId: string, id: string): Promise<Upload | null>;
  /** The attachment's record, or null when there is none (never attached). */
  attachment(ticketId: string, id: string): Promise<Attachment | null>;
}

/**
 * The tickets feature's own write when a scan found an attached file malicious: an internal
 * entry, once (shared/tickets/use-cases.ts markMalicious).
 */
export type MarkMalicious = (ticketId: string, file: { attachmentId: string; fileName: string }, requestId: string) => Promise<void>;

/** What Blob Storage knows of an uploaded blob. */
export interface BlobFacts {
  size: number;
  /** Its index tags: Defender for Storage sets `Malware Scanning scan result` on upload. */
  tags: Record<string, string>;
}

export interface AttachmentBlobs {
  /**
   * A URL that lets its holder create exactly the blob `name` (create and write, block uploads
   * included, nothing else: no read, no list, no other blob), until `expiresAt`.
   */
  uploadUrl(name: string, expiresAt: Date): Promise<string>;
  /**
   * A URL that lets its holder read exactly the blob `name` until `expiresAt`, answered with
   * `Content-Disposition: attachment; filename=...` and `Content-Type: contentType`.
   */
  downloadUrl(name: string, expiresAt: Date, download: { fileName: string; contentType: string }): Promise<string>;
  /** The blob's size and tags, or null when there is none (never uploaded, or deleted). */
  facts(name: string): Promise<BlobFacts | null>;
  /** Its first `count` bytes (fewer if it is shorter): what its type is told by. */
  head(name: string, count: number): Promise<Uint8Array>;
  /**
   * Copies blob `from` to a new blob `to`, inside the store (the bytes never pass through the
   * app), and nothing but the bytes: no header or metadata its uploader set; false when `from`
   * is not there.
   */
  copy(from: string, to: string): Promise<boolean>;
  /** Deletes it if it is there. */
  delete(name: string): Promise<void>;
  /** Blob names under `prefix` last modified before `before`: uploads never attached, for the sweep. */
  listOlderThan(prefix: string, before: Date): Promise<string[]>;
}
