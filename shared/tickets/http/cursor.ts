import { invalid } from "../../kernel/failure.js";
import type { ListPosition, ListSort } from "../ports.js";

/**
 * Queue cursors are opaque to clients; inside, the order and the last position seen in
 * it, as the store ordered it (in the caller's view: a requester's priority and updatedAt
 * are the ones they see, read-tickets.ts). A timeline cursor is keyed to its ticket
 * instead: timeline-seal.ts.
 */
export function queueCursor(position: ListPosition): string {
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

const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function positionIn(sort: ListSort, key: unknown[]): ListPosition | null {
  const [a, b, c] = key;
  if (sort === "priority")
    return key.length === 3 && isNumber(a) && typeof b === "string" && typeof c === "string" ? { sort, key: [a, b, c] } : null;
  if (sort === "due")
    return key.length === 3 && (a === null || isNumber(a)) && isNumber(b) && typeof c === "string" ? { sort, key: [a, b, c] } : null;
  return key.length === 2 && typeof a === "string" && typeof b === "string" ? { sort, key: [a, b] } : null;
}
