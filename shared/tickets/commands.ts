import { Failure, notFound } from "./errors.js";
import { judgeMove, needsResolution, type Mover } from "./lifecycle.js";
import {
  isAgent,
  PRIORITY_RANK,
  type EntryType,
  type Person,
  type Principal,
  type Priority,
  type Severity,
  type Status,
  type Ticket,
  type TimelineEntry,
  type Visibility,
} from "./model.js";

/**
 * The ticket's commands as pure functions: (ticket, caller, input, clock) in,
 * (new ticket, timeline entries) out, or a Failure. No I/O: the use cases in
 * service.ts load and store; everything decided about a ticket is decided here.
 */

export interface Change {
  ticket: Ticket;
  entries: TimelineEntry[];
}

/** The public view of an entry type: what a requester may see of their ticket's history. */
const PUBLIC_TYPES: ReadonlySet<EntryType> = new Set(["opened", "status_changed"]);

export function canSee(ticket: Ticket, caller: Principal): boolean {
  return isAgent(caller) || ticket.requester.id === caller.id;
}

/** Visibility first, so that a stranger learns nothing (404), then the role (403). */
function requireVisible(ticket: Ticket, caller: Principal): void {
  if (!canSee(ticket, caller)) throw notFound();
}

function requireAgent(ticket: Ticket, caller: Principal): void {
  requireVisible(ticket, caller);
  if (!isAgent(caller)) throw new Failure("forbidden", "Only agents may do this.");
}

export const entryId = (seq: number): string => `entry-${String(seq).padStart(8, "0")}`;

/** Appends entries in order, numbering them from the ticket's version. */
class ChangeBuilder {
  readonly entries: TimelineEntry[] = [];
  constructor(
    public ticket: Ticket,
    private readonly caller: Principal,
    private readonly now: string,
  ) {}

  add(type: EntryType, data: Record<string, unknown>, visibility?: Visibility): void {
    const seq = this.ticket.version + this.entries.length + 1;
    this.entries.push({
      id: entryId(seq),
      seq,
      type,
      at: this.now,
      actor: { id: this.caller.id, name: this.caller.name, role: this.caller.role },
      visibility: visibility ?? (PUBLIC_TYPES.has(type) ? "public" : "internal"),
      data,
    });
  }

  done(): Change {
    if (this.entries.length === 0) return { ticket: this.ticket, entries: [] };
    return {
      ticket: { ...this.ticket, version: this.ticket.version + this.entries.length, updatedAt: this.now },
      entries: this.entries,
    };
  }
}

export interface OpenInput {
  subject: string;
  description: string;
  priority?: Priority;
  severity?: Severity | null;
  category?: string | null;
  requester?: { name: string; email: string };
}

export function openTicket(
  input: OpenInput,
  caller: Principal,
  ids: { id: string; number: string; requesterId: (email: string) => string },
  now: string,
): Change {
  const priority = input.priority ?? "normal";
  const onBehalf = input.requester !== undefined;
  if (!isAgent(caller)) {
    const why =
      priority === "emergency" ? "priority" : input.severity != null ? "severity" : onBehalf ? "requester" : null;
    if (why) throw new Failure("forbidden", `Only agents may set ${why} when opening a ticket.`);
  }
  const requester: Person = input.requester
    ? { id: ids.requesterId(input.requester.email), name: input.requester.name, email: input.requester.email }
    : { id: caller.id, name: caller.name, email: caller.email };
  const ticket: Ticket = {
    id: ids.id,
    number: ids.number,
    subject: input.subject,
    description: input.description,
    status: "open",
    priority,
    severity: input.severity ?? null,
    category: input.category ?? null,
    requester,
    assignee: null,
    resolution: null,
    createdAt: now,
    updatedAt: now,
    resolvedAt: null,
    closedAt: null,
    version: 0,
  };
  const b = new ChangeBuilder(ticket, caller, now);
  b.add("opened", { subject: ticket.subject, priority, category: ticket.category, onBehalfOf: onBehalf ? requester.id : undefined });
  // Severity is triage: recorded apart so a requester's view never shows it.
  if (ticket.severity) b.add("severity_changed", { from: null, to: ticket.severity });
  return b.done();
}

export interface TriageInput {
  priority?: Priority;
  severity?: Severity | null;
  category?: string | null;
  subject?: string;
  reason?: string;
}

const TRIAGE_FIELDS = ["priority", "severity", "category", "subject"] as const;

export function triage(ticket: Ticket, caller: Principal, input: TriageInput, now: string): Change {
  requireAgent(ticket, caller);
  const b = new ChangeBuilder(ticket, caller, now);
  let next = ticket;
  for (const field of TRIAGE_FIELDS) {
    const to = input[field];
    if (to === undefined || to === ticket[field]) continue;
    b.add(`${field}_changed`, { from: ticket[field], to, reason: input.reason });
    next = { ...next, [field]: to };
  }
  b.ticket = next;
  return b.done();
}

export function assign(ticket: Ticket, caller: Principal, agent: { id: string; name: string } | null, now: string): Change {
  requireAgent(ticket, caller);
  const b = new ChangeBuilder({ ...ticket, assignee: agent }, caller, now);
  if (agent && ticket.assignee?.id !== agent.id) {
    b.add("assigned", { from: ticket.assignee, to: agent });
  } else if (!agent && ticket.assignee) {
    b.add("unassigned", { from: ticket.assignee });
  }
  if (b.entries.length === 0) b.ticket = ticket;
  return b.done();
}

function moverOf(ticket: Ticket, caller: Principal): Mover {
  return isAgent(caller) ? "agent" : "owner";
}

/** The fields a status change sets or clears, beside `status` itself. */
function enter(ticket: Ticket, to: Status, resolution: string | undefined, now: string): Ticket {
  switch (to) {
    case "resolved":
      return { ...ticket, status: to, resolution: resolution ?? ticket.resolution, resolvedAt: now };
    case "closed":
      return { ...ticket, status: to, resolution: resolution ?? ticket.resolution, closedAt: now };
    case "open": // a reopen: the old resolution no longer holds
      return { ...ticket, status: to, resolution: null, resolvedAt: null, closedAt: null };
    default:
      return { ...ticket, status: to };
  }
}

export interface MoveInput {
  status: Status;
  resolution?: string;
  reason?: string;
}

export function move(ticket: Ticket, caller: Principal, input: MoveInput, now: string): Change {
  requireVisible(ticket, caller);
  const from = ticket.status;
  const verdict = judgeMove(from, input.status, moverOf(ticket, caller));
  if (verdict === "not_a_move") {
    throw new Failure("conflict", `A ticket cannot move from ${from} to ${input.status}.`);
  }
  if (verdict === "forbidden") {
    throw new Failure("forbidden", `Only agents may move a ticket from ${from} to ${input.status}.`);
  }
  if (needsResolution(from, input.status) && !input.resolution) {
    throw new Failure("invalid", "A resolution is required.", [
      { path: "resolution", message: `Required when moving from ${from} to ${input.status}.` },
    ]);
  }
  const b = new ChangeBuilder(enter(ticket, input.status, input.resolution, now), caller, now);
  b.add("status_changed", { from, to: input.status, resolution: input.resolution, reason: input.reason });
  return b.done();
}

export interface CommentInput {
  body: string;
  visibility: Visibility;
}

/**
 * A reply or an internal note. The owner's public reply is also the requester
 * answering: it takes an on-hold ticket back to work and reopens a resolved one.
 */
export function comment(ticket: Ticket, caller: Principal, input: CommentInput, now: string): Change {
  requireVisible(ticket, caller);
  if (input.visibility === "internal" && !isAgent(caller)) {
    throw new Failure("forbidden", "Only agents may write internal notes.");
  }
  if (ticket.status === "closed") {
    throw new Failure("conflict", "The ticket is closed: reopen it before commenting.");
  }
  const b = new ChangeBuilder(ticket, caller, now);
  b.add("comment", { body: input.body }, input.visibility);
  const isOwnerReply = !isAgent(caller) && input.visibility === "public";
  const to: Status | null =
    isOwnerReply && ticket.status === "on_hold" ? "in_progress" : isOwnerReply && ticket.status === "resolved" ? "open" : null;
  if (to) {
    b.ticket = enter(ticket, to, undefined, now);
    b.add("status_changed", { from: ticket.status, to, reason: "requester replied" });
  }
  return b.done();
}

export const priorityRank = (t: Pick<Ticket, "priority">): number => PRIORITY_RANK[t.priority];

/** What a caller may see of a ticket's history. */
export function visibleEntries(entries: TimelineEntry[], caller: Principal): TimelineEntry[] {
  return isAgent(caller) ? entries : entries.filter((e) => e.visibility === "public");
}
