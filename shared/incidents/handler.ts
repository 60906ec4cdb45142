import { parseQueueBody } from "../outbox/ports.js";
import type { TicketRef } from "../tickets/domain/model.js";
import { TicketCommandMessage } from "./domain/messages.js";

/** What the incidents' commands need of the tickets. */
export interface CommandTickets {
  countChild(parentId: string, child: TicketRef, linked: boolean, key: string, requestId: string): Promise<boolean>;
}

export interface CommandDeps {
  tickets: CommandTickets;
  log: (line: string) => void;
}

/**
 * One message of the `ticket-commands` queue: an ordinary change of the ticket it names, in
 * that ticket's partition, made once whatever the redeliveries (each command's key is recorded
 * in the change's batch). A store that fails throws: the queue delivers the message again, and
 * after its last delivery it dead-letters for a person to see. A body that is no command
 * throws too: it will not become one.
 */
export async function handleTicketCommand(deps: CommandDeps, message: { messageId: string; body: unknown }): Promise<void> {
  const parsed = TicketCommandMessage.safeParse(parseQueueBody(message.body));
  if (!parsed.success) throw new Error(`Message ${message.messageId} is not a ticket command v1: ${parsed.error.message}`);
  const command = parsed.data;
  switch (command.kind) {
    case "tell_parent":
      if (!(await deps.tickets.countChild(command.parentId, command.child, command.linked, command.key, message.messageId)))
        deps.log(`ticket command ${message.messageId}: incident ${command.parentId} is gone`);
      return;
  }
}
