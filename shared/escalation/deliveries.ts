import * as z from "zod";
import { isFailure } from "../kernel/failure.js";
import type { Delivery } from "../tickets/domain/commands.js";
import type { TicketRecord, TicketStore } from "../tickets/ports.js";

const DeliveryRecord = z.object({ id: z.string(), type: z.literal("delivery") });

/** Where a delivery is told on the ticket's timeline, with its record in the same batch (the tickets' use case). */
export interface DeliveryLog {
  /** Failure "exists" when the record is there already. */
  recordDelivery(ticketId: string, delivery: Delivery, record: TicketRecord): Promise<void>;
}

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
      timeline: DeliveryLog;
      hash: (text: string) => string;
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
    try {
      await this.deps.timeline.recordDelivery(ticketId, delivery, {
        id: this.idOf(delivery.messageId, delivery.channel),
        type: "delivery",
        ...delivery,
      });
    } catch (e) {
      if (!isFailure(e, "exists")) throw e;
    }
  }
}
