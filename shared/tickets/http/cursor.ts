import { invalid } from "../../kernel/failure.js";
import { isAgent, type Principal } from "../../kernel/principal.js";
import { priorityRank, publicUpdatedAtOf, requesterRank, type Ticket } from "../domain/model.js";
import type { ListPosition, ListSort } from "../ports.js";

/**
 * Queue cursors are opaque to clients; inside, the order and the last position seen in
 * it, in the caller's view (a requester's priority and updatedAt are the ones they see:
 * read-tickets.ts). A timeline cursor is keyed to its ticket instead: timeline-seal.ts.
 */
export function queueCursor(last: Ticket, caller: Principal, sort: ListSort): string {
  const agent = isAgent(caller);
  const position: ListPosition =
    sort === "priority"
      ? { sort, key: [agent ? priorityRank(last) : requesterRank(last), last.createdAt, last.id] }
      : { sort, key: [sort === "created" ? last.createdAt : agent ? last.updatedAt : publicUpdatedAtOf(last), last.id] };
  return Buffer.from(JSON.stringify([position.sort, ...position.key])).toString("base64url");
}

/** The position a cursor holds, if it is one of this order's: a cursor of another is invalid. */
export function positionOf(cursor: string, sort: ListSort): ListPosition {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const position = Array.isArray(value) && value[0] === sort ? positionIn(sort, value.slice(1)) : null;
    if (position) return position;
  } catch {
    // not JSON: the same answer as any other bad cursor
  }
  throw invalid("The cursor is invalid.", "cursor", "Use a nextCursor from a previous page of the same sort.");
}

function positionIn(sort: ListSort, key: unknown[]): ListPosition | null {
  const [a, b, c] = key;
  if (sort === "priority")
    return key.length === 3 && typeof a === "number" && typeof b === "string" && typeof c === "string" ? { sort, key: [a, b, c] } : null;
  return key.length === 2 && typeof a === "string" && typeof b === "string" ? { sort, key: [a, b] } : null;
}
