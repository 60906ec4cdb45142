import type { Publisher, QueueMessage } from "../outbox/ports.js";
import { parseQueueBody } from "../outbox/ports.js";
import type { TicketRef } from "../tickets/domain/model.js";
import type { ListPage, ListPosition } from "../tickets/ports.js";
import { TicketCommandMessage, type BroadcastAction, type BroadcastActor, type ChildCommand, type FanOut } from "./domain/messages.js";

/** What the incidents' commands need of the tickets (shared/tickets/use-cases.ts has them). */
export interface CommandTickets {
  countChild(parentId: string, child: TicketRef, linked: boolean, seq: number, requestId: string): Promise<boolean>;
  dropParent(childId: string, parentId: string, why: string, requestId: string): Promise<void>;
  reportsOf(parentId: string, after: ListPosition | null, limit: number): Promise<ListPage>;
  fannedOut(parentId: string, broadcastId: string, total: number): Promise<void>;
  applyBroadcast(command: {
    parentId: string;
    broadcastId: string;
    childId: string;
    action: BroadcastAction;
    actor: BroadcastActor;
    requestId: string;
  }): Promise<"done" | "skipped" | "gone">;
}

export interface CommandDeps {
  tickets: CommandTickets;
  /** The `ticket-commands` queue itself: where a fan-out's commands and next page go. */
  publisher: Publisher;
  log: (line: string) => void;
}

/** Reports per page of a fan-out: one message each, and one for the next page, in one publish. */
const FAN_OUT_PAGE = 100;

/**
 * One message of the `ticket-commands` queue: an ordinary change of the ticket it names, in
 * that ticket's partition, made once whatever the redeliveries (each change records its key in
 * its batch), or the next step of a broadcast's fan-out. A store that fails throws: the queue
 * delivers the message again, and after its last delivery it dead-letters for a person to see.
 * A body that is no command throws too: it will not become one.
 *
 * A fan-out is a chain of pages: each page's message sends one command per report on it and
 * the next page's message, all under ids fixed by the broadcast, the page and the report, so
 * that a page delivered again (a crash halfway) sends what it sent before, which the queue's
 * duplicate detection drops, and each report's change is made once: none twice, none left out.
 */
export async function handleTicketCommand(deps: CommandDeps, message: { messageId: string; body: unknown }): Promise<void> {
  const parsed = TicketCommandMessage.safeParse(parseQueueBody(message.body));
  if (!parsed.success) throw new Error(`Message ${message.messageId} is not a ticket command v1: ${parsed.error.message}`);
  const command = parsed.data;
  switch (command.kind) {
    case "tell_parent":
      if (!(await deps.tickets.countChild(command.parentId, command.child, command.linked, command.seq, message.messageId)))
        deps.log(`ticket command ${message.messageId}: incident ${command.parentId} is gone`);
      return;
    case "drop_parent":
      return deps.tickets.dropParent(command.childId, command.parentId, command.why, message.messageId);
    case "fan_out":
      return fanOut(deps, command);
    case "child_command": {
      const outcome = await deps.tickets.applyBroadcast({ ...command, requestId: message.messageId });
      if (outcome === "gone") deps.log(`ticket command ${message.messageId}: report ${command.childId} is gone`);
      return;
    }
  }
}

async function fanOut(deps: CommandDeps, page: FanOut): Promise<void> {
  const { items, next } = await deps.tickets.reportsOf(page.parentId, page.after as ListPosition | null, FAN_OUT_PAGE);
  const { version, parentId, broadcastId, action, actor } = page;
  const messages: QueueMessage[] = items.map(({ ticket }) => {
    const body: ChildCommand = { version, kind: "child_command", parentId, broadcastId, action, actor, childId: ticket.id };
    return { messageId: `${broadcastId}.${ticket.id}`, subject: "incident.child_command", body, correlationId: broadcastId };
  });
  const sent = page.sent + items.length;
  if (next) {
    const body: FanOut = { ...page, after: next, page: page.page + 1, sent };
    messages.push({ messageId: `${broadcastId}.page-${page.page + 1}`, subject: "incident.fan_out", body, correlationId: broadcastId });
  }
  if (messages.length) await deps.publisher.publish(messages);
  if (!next) await deps.tickets.fannedOut(parentId, broadcastId, sent);
}
