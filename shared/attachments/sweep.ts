import { UPLOADS_PREFIX } from "./domain/attachment.js";
import type { AttachmentBlobs } from "./ports.js";

/** Uploads never attached are deleted once this old: what the lifecycle rule does in Azure (infra/). */
const UNATTACHED_UPLOAD_HOURS = 24;

/**
 * Deletes the blobs under `uploads/` older than a day: files uploaded and never attached (an
 * attached one's upload is deleted as it is attached; its copy under `files/` stays). Azure
 * has a lifecycle rule for it; the local host runs this. The number deleted.
 */
export async function sweepUploads(blobs: AttachmentBlobs, now: Date): Promise<number> {
  const old = await blobs.listOlderThan(UPLOADS_PREFIX, new Date(now.getTime() - UNATTACHED_UPLOAD_HOURS * 3_600_000));
  for (const name of old) await blobs.delete(name);
  return old.length;
}
