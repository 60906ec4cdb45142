import type { Container, JSONObject } from "@azure/cosmos";
import { AttachmentRecord, attachmentRecordId } from "../../attachments/domain/attachment.js";
import type { AttachmentRecords } from "../../attachments/ports.js";
import { parsed } from "./documents.js";
import { pointRead, translated } from "./errors.js";

/**
 * Attachment records, documents of their ticket's partition (DESIGN.md section 5): the
 * document's id is `attachment-<id>`, the attachment's own id kept beside it.
 */
export class CosmosAttachmentRecords implements AttachmentRecords {
  constructor(private readonly container: Container) {}

  async create(record: AttachmentRecord): Promise<void> {
    const doc = { ...record, id: attachmentRecordId(record.id), attachmentId: record.id };
    await translated(() => this.container.items.create(doc));
  }

  async get(ticketId: string, attachmentId: string): Promise<AttachmentRecord | null> {
    const doc = await pointRead(() => this.container.item(attachmentRecordId(attachmentId), ticketId).read<JSONObject>());
    if (!doc) return null;
    const { attachmentId: id, ...rest } = doc as JSONObject & { attachmentId: string };
    return parsed(AttachmentRecord, { ...rest, id }, "attachment");
  }
}
