import { invalid } from "../../kernel/failure.js";
import { isAgent, type Principal } from "../../kernel/principal.js";
import { priorityRank, requesterRank, type Ticket } from "../domain/model.js";
import type { ListPosition } from "../ports.js";

/**
 * Queue cursors are opaque to clients; inside, the last position seen in the caller's
 * list order (a requester's is by the priority they see: read-tickets.ts). A timeline
 * cursor is keyed to its ticket instead: timeline-seal.ts.
 */
export function queueCursor(last: Ticket, caller: Principal): string {
  const position: ListPosition = [isAgent(caller) ? priorityRank(last) : requesterRank(last), last.createdAt, last.id];
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

export function positionOf(cursor: string): ListPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (isPosition(value)) return value;
  } catch {
    // not JSON: the same answer as any other bad cursor
  }
  throw invalid("The cursor is invalid.", "cursor", "Use a nextCursor from a previous page.");
}

const isPosition = (v: unknown): v is ListPosition =>
  Array.isArray(v) && v.length === 3 && typeof v[0] === "number" && typeof v[1] === "string" && typeof v[2] === "string";
