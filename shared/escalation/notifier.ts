import { z } from "zod";
import type { TicketStore } from "../tickets/ports.js";
import type { TicketService } from "../tickets/service.js";
import type { Alert, Channel } from "./alert.js";
import { ticketLink } from "./channels/link.js";
import { messageIdOf, repageFor, ticketFacts, type EscalationMessageBody } from "./outbox.js";
import type { Publisher } from "./publisher.js";

/**
 * Handles one message of the `escalations` queue: delivers the alert to every
 * channel that has not had it yet, and records each delivery on the ticket's
 * timeline. Idempotent per (message, channel): a redelivered message sends
 * nothing to a channel that already got it, and a failing channel does not make
 * the others repeat. It throws while any channel is left, so the queue redelivers
 * and, past its maxDeliveryCount, dead-letters: nothing is dropped silently.
 */

export interface NotifierSettings {
  ackTimeoutSeconds: number;
  maxRepages: number;
  ticketUrlTemplate: string;
}

export interface QueuedMessage {
  messageId: string;
  body: unknown;
}

const Facts = z.object({
  ticketId: z.string(),
  ticketNumber: z.string(),
  subject: z.string(),
  priority: z.enum(["low", "normal", "high", "emergency"]),
  severity: z.enum(["SEV-A", "SEV-B", "SEV-C", "SEV-D"]).nullable(),
  status: z.string(),
  requester: z.object({ name: z.string(), email: z.string().nullable() }),
  assignee: z.object({ name: z.string() }).nullable(),
  actor: z.object({ name: z.string(), role: z.string() }),
  reason: z.string(),
  occurredAt: z.string(),
});

const MessageBody = z.object({
  version: z.literal(1),
  event: z.enum(["triggered", "repaged", "acknowledged", "resolved"]),
  ticketId: z.string().min(1),
  cycle: z.number().int().min(0),
  page: z.number().int().min(1),
  facts: Facts,
});

export class Notifier {
  constructor(
    private readonly deps: {
      tickets: TicketService;
      store: TicketStore;
      channels: Channel[];
      publisher: Publisher;
      settings: NotifierSettings;
      log: (line: string) => void;
    },
  ) {}

  async handle(message: QueuedMessage): Promise<void> {
    const parsed = MessageBody.safeParse(message.body);
    // A body we cannot read will not become readable: fail so it dead-letters for a person to look at.
    if (!parsed.success) throw new Error(`Message ${message.messageId} is not an escalation message v1: ${parsed.error.message}`);
    const body: EscalationMessageBody = parsed.data;
    const { store, tickets, channels, settings, log } = this.deps;
    const stored = await store.get(body.ticketId);
    if (!stored) {
      log(`escalation ${message.messageId}: ticket ${body.ticketId} is gone; nothing to send`);
      return;
    }
    const ticket = stored.ticket;
    const paging = body.event === "triggered" || body.event === "repaged";
    const current = ticket.escalation.state === "triggered" && ticket.escalation.cycle === body.cycle;
    if (body.event === "repaged" && !current) {
      log(`escalation #${ticket.number}: re-page ${body.page} not sent, escalation is ${ticket.escalation.state}`);
      return;
    }
    // Schedule the next page before delivering this one: a crash mid-delivery must not end the re-pages.
    if (paging && current) await this.scheduleNextPage(body, ticket.escalation.triggeredAt, message.messageId);

    // A re-page tells the ticket as it is now; other events as they were when they happened.
    const facts = body.event === "repaged" ? { ...body.facts, ...ticketFacts(ticket) } : body.facts;
    const alert: Alert = { ...facts, event: body.event, page: body.page, link: ticketLink(settings.ticketUrlTemplate, { id: ticket.id, number: ticket.number }) };
    const triggerId = messageIdOf(ticket.id, body.cycle);
    const left: string[] = [];
    for (const channel of channels) {
      if (await tickets.wasDelivered(ticket.id, message.messageId, channel.name)) continue;
      // A resolve or acknowledge never reaches a channel before the page it closes.
      if (!paging && !(await tickets.wasDelivered(ticket.id, triggerId, channel.name))) {
        left.push(`${channel.name} (its trigger is not delivered yet)`);
        continue;
      }
      try {
        await channel.deliver(alert, tickets.deliveryId(message.messageId, channel.name));
      } catch (e) {
        left.push(`${channel.name} (${(e as Error).message})`);
        continue;
      }
      await tickets.recordDelivery(ticket.id, { channel: channel.name, event: body.event, page: body.page, messageId: message.messageId });
      log(`escalation #${ticket.number}: ${body.event}${paging ? ` page ${body.page}` : ""} delivered to ${channel.name}`);
    }
    if (left.length) throw new Error(`escalation ${message.messageId} not yet delivered to ${left.join(", ")}`);
  }

  private async scheduleNextPage(body: EscalationMessageBody, triggeredAt: string | null, correlationId: string): Promise<void> {
    const { ackTimeoutSeconds, maxRepages } = this.deps.settings;
    if (body.page > maxRepages || !triggeredAt) return;
    // Pages keep the cadence of the trigger (every timeout after it), however late a delivery ran.
    const at = new Date(Date.parse(triggeredAt) + body.page * ackTimeoutSeconds * 1000);
    await this.deps.publisher.publish([repageFor(body, body.page + 1, at, correlationId)]);
  }
}
