import * as z from "zod";
import { Status, TicketRef } from "../../tickets/domain/model.js";

/**
 * The messages of the `ticket-commands` queue (issue "Major incidents"): what one ticket's
 * change asks of other tickets, each carried out as an ordinary change in that ticket's own
 * partition, once (each names the key its change records).
 */

/**
 * A report was linked to an incident, or unlinked from it: the incident's count of reports
 * moves. `seq`: the report's entry that did it, which orders the report's links (a message
 * delivered late, or again, is older than what the incident holds, and changes nothing).
 */
export const TellParent = z.object({
  version: z.literal(1),
  kind: z.literal("tell_parent"),
  parentId: z.string().min(1),
  child: TicketRef,
  linked: z.boolean(),
  seq: z.int().min(1),
});
export type TellParent = z.infer<typeof TellParent>;

/** What a broadcast does to each report: the incident's public reply, or its status move (with its resolution). */
export const BroadcastAction = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("reply"), body: z.string() }),
  z.object({ kind: z.literal("move"), status: Status, resolution: z.string().nullable() }),
]);
export type BroadcastAction = z.infer<typeof BroadcastAction>;

/** The agent whose broadcast it is: each report's change is theirs. */
export const BroadcastActor = z.object({ id: z.string(), name: z.string(), role: z.enum(["agent", "admin"]) });
export type BroadcastActor = z.infer<typeof BroadcastActor>;

const broadcast = {
  version: z.literal(1),
  parentId: z.string().min(1),
  broadcastId: z.string().min(1),
  action: BroadcastAction,
  actor: BroadcastActor,
};

/**
 * One page of the incident's reports to fan the broadcast out to: a command per report, then
 * the next page's message (`after`: where this page ends), until the last, which records the
 * total. `sent`: how many reports the pages before this one had.
 */
export const FanOut = z.object({
  ...broadcast,
  kind: z.literal("fan_out"),
  after: z.unknown().nullable(),
  page: z.int().min(1),
  sent: z.int().min(0),
});
export type FanOut = z.infer<typeof FanOut>;

/** The broadcast's change on one report. */
export const ChildCommand = z.object({ ...broadcast, kind: z.literal("child_command"), childId: z.string().min(1) });
export type ChildCommand = z.infer<typeof ChildCommand>;

/** An incident that could not take a report (it had become a report itself, or was closed, as the link was made): the report is unlinked. */
export const DropParent = z.object({
  version: z.literal(1),
  kind: z.literal("drop_parent"),
  childId: z.string().min(1),
  parentId: z.string().min(1),
  why: z.string(),
});
export type DropParent = z.infer<typeof DropParent>;

export const TicketCommandMessage = z.discriminatedUnion("kind", [TellParent, FanOut, ChildCommand, DropParent]);
export type TicketCommandMessage = z.infer<typeof TicketCommandMessage>;
