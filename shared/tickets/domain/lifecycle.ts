import type { Status } from "./model.js";

/**
 * The lifecycle table of DESIGN.md section 2, cell by cell: who may move a
 * ticket from one status to another. "owner" is the ticket's requester.
 * A missing cell is a move nobody may make (409).
 */
export type Mover = "agent" | "owner";

const BOTH: readonly Mover[] = ["agent", "owner"];
const AGENT: readonly Mover[] = ["agent"];

export const LIFECYCLE: Readonly<Record<Status, Partial<Record<Status, readonly Mover[]>>>> = {
  open: { in_progress: AGENT, on_hold: AGENT, resolved: AGENT, closed: BOTH },
  in_progress: { on_hold: AGENT, resolved: AGENT, closed: BOTH },
  on_hold: { in_progress: AGENT, resolved: AGENT, closed: BOTH },
  resolved: { open: BOTH, closed: BOTH },
  closed: { open: BOTH },
};

export type MoveVerdict = "allowed" | "forbidden" | "not_a_move";

/**
 * "not_a_move": no one may make it (409). "forbidden": someone may, but not this
 * mover (403), e.g. a requester putting their own ticket on hold.
 */
export function judgeMove(from: Status, to: Status, mover: Mover): MoveVerdict {
  const movers = LIFECYCLE[from][to];
  if (!movers) return "not_a_move";
  return movers.includes(mover) ? "allowed" : "forbidden";
}

/** Entering `resolved`, or closing without having resolved first, needs a resolution text. */
export function needsResolution(from: Status, to: Status): boolean {
  return to === "resolved" || (to === "closed" && from !== "resolved");
}
