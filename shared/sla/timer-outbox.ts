import type { OutboxEntry } from "../outbox/ports.js";
import type { Change } from "../tickets/domain/change.js";
import type { TimerMessage } from "./domain/timers.js";

/**
 * The tickets' outbox, as the SLA clocks fill it: a scheduled message to the
 * `ticket-timers` queue when a change sets the ticket's timer, written in the change's own batch, so a
 * due time is never stored without its timer, nor a timer sent for a change not stored.
 */
export function timerEntries(change: Change, requestId: string): OutboxEntry[] {
  const { ticket } = change;
  const at = change.entries.at(-1)?.at ?? ticket.updatedAt;
  return (change.timers ?? []).map((timer, i) => {
    const body: TimerMessage = { version: 1, ticketId: ticket.id, ...timer };
    // Unique in the partition: the change's last sequence, and the timer's place in it.
    const id = `outbox-${ticket.version}-timer-${i + 1}`;
    return {
      id,
      ticketId: ticket.id,
      queue: "ticket-timers",
      // Unique to the change that set it: the queue drops only a republished entry, never the
      // same instant set again later (a priority changed and changed back).
      messageId: `${ticket.id}.${id}`,
      subject: "sla.timer",
      body,
      correlationId: requestId,
      createdAt: at,
      scheduledAt: timer.scheduledFor,
    };
  });
}
