import { z } from "zod";
import { isFailure } from "../kernel/failure.js";
import { recordDelivery, type Delivery } from "../tickets/domain/commands.js";
import type { TicketStore } from "../tickets/ports.js";
import type { TicketWriter } from "../tickets/ticket-writer.js";

const DeliveryRecord = z.object({ id: z.string(), type: z.literal("delivery") });

/**
 * Which alert reached which channel. One delivery is one queue message to one channel;
 * its record has an id fixed by the two, and is written in the same batch as the
 * timeline entry that tells agents of it: recording the same delivery twice fails on
 * that record and changes nothing, and a redelivered message skips the channels that
 * have it.
 */
export class Deliveries {
  constructor(
    private readonly deps: {
      store: Pick<TicketStore, "record">;
      writer: TicketWriter;
      hash: (text: string) => string;
      now: () => Date;
    },
  ) {}

  /** Stable, so retries of one delivery can be recognised: the X-Helpdesk-Delivery header. */
  idOf(messageId: string, channel: string): string {
    return `delivery-${this.deps.hash(`${messageId}\n${channel}`).slice(0, 32)}`;
  }

  async wasDelivered(ticketId: string, messageId: string, channel: string): Promise<boolean> {
    return (await this.deps.store.record(ticketId, this.idOf(messageId, channel), DeliveryRecord)) !== null;
  }

  async record(ticketId: string, delivery: Delivery): Promise<void> {
    const record = { id: this.idOf(delivery.messageId, delivery.channel), type: "delivery" as const, ...delivery };
    try {
      await this.deps.writer.update(null, ticketId, { requestId: delivery.messageId }, (t) => recordDelivery(t, delivery, this.deps.now().toISOString()), { records: [record] });
    } catch (e) {
      if (!isFailure(e, "exists")) throw e;
    }
  }
}
