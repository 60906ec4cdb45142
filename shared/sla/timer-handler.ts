import { parseQueueBody } from "../outbox/ports.js";
import { TimerMessage, type SlaTimer } from "./domain/timers.js";

/**
 * Handles one message of the `ticket-timers` queue: the ticket's clocks are moved by the
 * timer (a warning or a breach recorded, or nothing if the target moved on). Throwing makes
 * the queue redeliver, and past its maxDeliveryCount dead-letter: a timer is never dropped
 * silently.
 */
export interface TimerTickets {
  slaTimer(ticketId: string, timer: SlaTimer, requestId: string): Promise<boolean>;
}

export async function handleTimer(
  tickets: TimerTickets,
  message: { messageId: string; body: unknown },
  log: (line: string) => void,
): Promise<void> {
  const parsed = TimerMessage.safeParse(parseQueueBody(message.body));
  // A body we cannot read will not become readable: fail so it dead-letters for a person to look at.
  if (!parsed.success) throw new Error(`Message ${message.messageId} is not an SLA timer v1: ${parsed.error.message}`);
  const { version: _v, ticketId, ...timer } = parsed.data;
  if (!(await tickets.slaTimer(ticketId, timer, message.messageId))) log(`sla timer ${message.messageId}: ticket ${ticketId} is gone`);
}
