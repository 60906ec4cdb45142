import { z } from "zod";
import { TicketRef } from "../../tickets/domain/model.js";

/**
 * The messages of the `ticket-commands` queue (issue "Major incidents"): what one ticket's
 * change asks of another ticket, each carried out as an ordinary change in that ticket's own
 * partition, once (each names its own idempotency key).
 *
 * - `tell_parent`: a report was linked to an incident, or unlinked from it: the incident's
 *   count of reports moves. `key` is the report's entry that linked it (unique to that link).
 */
export const TellParent = z.object({
  version: z.literal(1),
  kind: z.literal("tell_parent"),
  parentId: z.string().min(1),
  child: TicketRef,
  linked: z.boolean(),
  key: z.string().min(1),
});
export type TellParent = z.infer<typeof TellParent>;

export const TicketCommandMessage = z.discriminatedUnion("kind", [TellParent]);
export type TicketCommandMessage = z.infer<typeof TicketCommandMessage>;
