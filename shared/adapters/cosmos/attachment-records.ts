import type { Container, JSONObject } from "@azure/cosmos";
import type * as z from "zod";
import { Attachment, attachmentRecordId, Upload, UPLOAD_RECORD_TTL_SECONDS, uploadRecordId } from "../../attachments/domain/attachment.js";
import type { AttachmentRecords } from "../../attachments/ports.js";
import { parsed } from "./documents.js";
import { deleted, pointRead, translated } from "./errors.js";

/**
 * Uploads' and attachments' records, documents of their ticket's partition (DESIGN.md
 * section 5): the document's id is `upload-<id>` or `attachment-<id>`, the attachment's own id
 * kept beside it as `attachmentId`. An upload's record carries a ttl: Cosmos DB removes it once
 * it could no longer be attached.
 */
export class CosmosAttachmentRecords implements AttachmentRecords {
  constructor(private readonly container: Container) {}

  async createUpload(upload: Upload): Promise<void> {
    const doc = { ...upload, id: uploadRecordId(upload.id), attachmentId: upload.id, ttl: UPLOAD_RECORD_TTL_SECONDS };
    await translated(() => this.container.items.create(doc));
  }

  async claimUpload(scope: string, id: string): Promise<boolean> {
    // A delete is atomic: of two requests claiming one upload, one gets 404.
    return deleted(() => this.container.item(uploadRecordId(id), scope).delete());
  }

  upload(ticketId: string, id: string): Promise<Upload | null> {
    return this.read(ticketId, uploadRecordId(id), Upload);
  }

  attachment(ticketId: string, id: string): Promise<Attachment | null> {
    return this.read(ticketId, attachmentRecordId(id), Attachment);
  }

  private async read<T>(ticketId: string, docId: string, schema: z.ZodType<T>): Promise<T | null> {
    const doc = await pointRead(() => this.container.item(docId, ticketId).read<JSONObject>());
    if (!doc) return null;
    const { attachmentId: id, ...rest } = doc as JSONObject & { attachmentId: string };
    return parsed(schema, { ...rest, id }, "attachment");
  }
}
