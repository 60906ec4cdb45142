import { Failure, invalid } from "../../kernel/failure.js";
import { isAgent, type Principal } from "../../kernel/principal.js";
import { actorOf, ChangeBuilder, type Change } from "./change.js";
import { escalationCause, isEscalationWorthy, isOpen, NO_ESCALATION, raiseByHand } from "./escalation.js";
import type { BroadcastInput, CommentInput, EscalateInput, MoveInput, OpenInput, TriageInput } from "./inputs.js";
import { judgeMove, needsResolution, type Mover } from "./lifecycle.js";
import type { Actor, AttachmentRef, EntryData, Person, Status, Ticket, TicketRef } from "./model.js";
import { requireAgent, requireVisible } from "./visibility.js";

/**
 * The ticket's commands as pure functions: (ticket, caller, input, clock reading) in,
 * a Change (the new ticket, its timeline entries, its events) out, or a Failure. No
 * I/O: the use cases load and store; everything decided about a ticket is decided here.
 */

export function openTicket(
  input: OpenInput,
  caller: Principal,
  ids: { id: string; number: string; requesterId: (email: string) => string },
  now: string,
  attachments: AttachmentRef[] = [],
): Change {
  const priority = input.priority ?? "normal";
  const onBehalf = input.requester !== undefined;
  if (!isAgent(caller)) {
    const why = priority === "emergency" ? "priority" : input.severity != null ? "severity" : onBehalf ? "requester" : null;
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
    escalation: NO_ESCALATION,
    opened: { subject: input.subject, priority, category: input.category ?? null },
    version: 0,
    revision: 0,
  };
  const b = new ChangeBuilder(null, ticket, actorOf(caller), now);
  b.add("opened", {
    subject: ticket.subject,
    priority,
    category: ticket.category,
    onBehalfOf: onBehalf ? requester.id : undefined,
    attachments: attachments.length ? attachments : undefined,
  });
  // Severity is triage: recorded apart so a requester's view never shows it.
  if (ticket.severity) b.add("severity_changed", { from: null, to: ticket.severity });
  return b.done(`opened at ${escalationCause(ticket) || "normal priority"}`);
}

export function triage(ticket: Ticket, caller: Principal, input: TriageInput, now: string): Change {
  requireAgent(ticket, caller);
  const b = new ChangeBuilder(ticket, ticket, actorOf(caller), now);
  const { priority, severity, category, subject, reason } = input;
  // Each field that changes: its own entry, with its own shape (model.ts ENTRY_DATA).
  if (priority !== undefined && priority !== ticket.priority) b.add("priority_changed", { from: ticket.priority, to: priority, reason });
  if (severity !== undefined && severity !== ticket.severity) b.add("severity_changed", { from: ticket.severity, to: severity, reason });
  if (category !== undefined && category !== ticket.category) b.add("category_changed", { from: ticket.category, to: category, reason });
  if (subject !== undefined && subject !== ticket.subject) b.add("subject_changed", { from: ticket.subject, to: subject, reason });
  const next: Ticket = {
    ...ticket,
    priority: priority ?? ticket.priority,
    severity: severity === undefined ? ticket.severity : severity,
    category: category === undefined ? ticket.category : category,
    subject: subject ?? ticket.subject,
  };
  // Restating emergency or SEV-A on a business-impacting ticket whose escalation is not open
  // (its owner reopened it, say) is an agent raising it again: ops is paged, as by hand.
  const restated = input.priority === "emergency" || input.severity === "SEV-A";
  if (b.entries.length === 0 && restated && isEscalationWorthy(ticket) && !isOpen(ticket.escalation)) {
    return escalate(ticket, caller, { reason: input.reason ?? "raised again by triage" }, now);
  }
  b.ticket = next;
  return b.done(input.reason);
}

export function assign(ticket: Ticket, caller: Principal, agent: { id: string; name: string } | null, now: string): Change {
  requireAgent(ticket, caller);
  const b = new ChangeBuilder(ticket, { ...ticket, assignee: agent }, actorOf(caller), now);
  if (agent && ticket.assignee?.id !== agent.id) {
    b.add("assigned", { from: ticket.assignee, to: agent });
  } else if (!agent && ticket.assignee) {
    b.add("unassigned", { from: ticket.assignee });
  }
  return b.done();
}

const moverOf = (caller: Principal): Mover => (isAgent(caller) ? "agent" : "owner");

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

export function move(ticket: Ticket, caller: Principal, input: MoveInput, now: string, broadcastId?: string): Change {
  requireVisible(ticket, caller);
  if (input.cascade) requireIncident(ticket, caller);
  const from = ticket.status;
  const verdict = judgeMove(from, input.status, moverOf(caller));
  if (verdict === "not_a_move") {
    throw new Failure("conflict", `A ticket cannot move from ${from} to ${input.status}.`);
  }
  if (verdict === "forbidden") {
    throw new Failure("forbidden", `Only agents may move a ticket from ${from} to ${input.status}.`);
  }
  if (needsResolution(from, input.status) && !input.resolution) {
    throw invalid("A resolution is required.", "resolution", `Required when moving from ${from} to ${input.status}.`);
  }
  // Closing a resolved ticket keeps the agent's resolution: the owner's text goes to the history only.
  const resolution = from === "resolved" && !isAgent(caller) ? undefined : input.resolution;
  const b = new ChangeBuilder(ticket, enter(ticket, input.status, resolution, now), actorOf(caller), now);
  b.add("status_changed", { from, to: input.status, resolution: input.resolution, reason: input.reason });
  if (input.cascade && broadcastId) b.add("broadcast_started", { broadcastId, action: "move", to: input.status });
  return b.done(input.reason ?? input.resolution);
}

/**
 * A reply or an internal note, with the files it attaches (checked already: shared/attachments/).
 * The owner's public reply is also the requester answering: it takes an on-hold ticket back to
 * work and reopens a resolved one.
 */
export function comment(ticket: Ticket, caller: Principal, input: CommentInput, now: string, attachments: AttachmentRef[] = []): Change {
  requireVisible(ticket, caller);
  if (input.visibility === "internal" && !isAgent(caller)) {
    throw new Failure("forbidden", "Only agents may write internal notes.");
  }
  if (ticket.status === "closed") {
    throw new Failure("conflict", "The ticket is closed: reopen it before commenting.");
  }
  const b = new ChangeBuilder(ticket, ticket, actorOf(caller), now);
  b.add("comment", { body: input.body, attachments: attachments.length ? attachments : undefined }, input.visibility);
  const isOwnerReply = !isAgent(caller) && input.visibility === "public";
  const to: Status | null =
    isOwnerReply && ticket.status === "on_hold" ? "in_progress" : isOwnerReply && ticket.status === "resolved" ? "open" : null;
  if (to) {
    b.ticket = enter(ticket, to, undefined, now);
    b.add("status_changed", { from: ticket.status, to, reason: "requester replied" });
  }
  return b.done("requester replied");
}

/** An agent answers the page: re-pages stop, ops knows someone is on it. */
export function acknowledge(ticket: Ticket, caller: Principal, now: string): Change {
  requireAgent(ticket, caller);
  if (ticket.escalation.state !== "triggered") {
    throw new Failure("conflict", `Nothing is waiting for acknowledgement (escalation is ${ticket.escalation.state}).`);
  }
  const b = new ChangeBuilder(ticket, ticket, actorOf(caller), now);
  b.ticket = {
    ...ticket,
    escalation: { ...ticket.escalation, state: "acknowledged", acknowledgedAt: now, acknowledgedBy: { id: caller.id, name: caller.name } },
  };
  b.add("escalation_acknowledged", { cycle: ticket.escalation.cycle, cause: "acknowledged" });
  return b.done();
}

/**
 * An agent pages ops by hand, with their reason: to raise again an escalation-worthy
 * ticket its requester reopened, or for any ticket still being worked.
 */
export function escalate(ticket: Ticket, caller: Principal, input: EscalateInput, now: string): Change {
  requireAgent(ticket, caller);
  // A report of an incident pages ops through the incident only.
  if (ticket.parent) throw new Failure("conflict", `This ticket is a report of #${ticket.parent.number}: escalate the incident.`);
  const b = new ChangeBuilder(ticket, ticket, actorOf(caller), now);
  const step = raiseByHand(ticket, now, b.nextSeq, input.reason);
  b.ticket = { ...ticket, escalation: step.escalation };
  b.add(step.entry.type, step.entry.data);
  return b.done();
}

export const NOTIFIER: Actor = { id: "system:escalation", name: "Escalation notifier", role: "system" };

/** A channel took an alert: the entry's data (model.ts ENTRY_DATA). */
export type Delivery = EntryData<"escalation_notified">;

/** Records that a channel got an alert; a page delivered counts toward `pages`. */
export function recordDelivery(ticket: Ticket, delivery: Delivery, now: string): Change {
  const b = new ChangeBuilder(ticket, ticket, NOTIFIER, now);
  const paged = delivery.event === "triggered" || delivery.event === "repaged";
  if (paged) b.ticket = { ...ticket, escalation: { ...ticket.escalation, pages: Math.max(ticket.escalation.pages, delivery.page) } };
  b.add("escalation_notified", { ...delivery });
  return b.done();
}

export const MALWARE_SCAN: Actor = { id: "system:malware-scan", name: "Malware scan", role: "system" };

export type MaliciousFile = EntryData<"attachment_malicious">;

/** The record that says an attachment's malware verdict was told (in the ticket's partition). */
export const maliciousRecordId = (attachmentId: string): string => `malicious-${attachmentId}`;

/** The malware scan found an attached file malicious: an internal entry says so; the file is never served. */
export function markMalicious(ticket: Ticket, file: MaliciousFile, now: string): Change {
  const b = new ChangeBuilder(ticket, ticket, MALWARE_SCAN, now);
  b.add("attachment_malicious", { ...file });
  return b.done();
}

export const NOTIFICATIONS: Actor = { id: "system:notifications", name: "Requester notifications", role: "system" };

export type RefusedEmail = EntryData<"email_refused">;

/** The email service refused a requester's email for good: an internal entry says so, for an agent to reach them another way. */
export function recordEmailRefused(ticket: Ticket, refused: RefusedEmail, now: string): Change {
  const b = new ChangeBuilder(ticket, ticket, NOTIFICATIONS, now);
  b.add("email_refused", { ...refused });
  return b.done();
}

/** Nothing to write. */
export const noChange = (ticket: Ticket): Change => ({ ticket, entries: [], events: [] });

/** What a requester's report says once it is linked to an incident: never which one. */
export const INCIDENT_NOTE = "This report is part of a wider incident our team is working on; updates will follow here.";

const refOf = (t: Pick<Ticket, "id" | "number">): TicketRef => ({ id: t.id, number: t.number });

/**
 * An agent links a report to its incident, `parent` (issue "Major incidents"). An incident is
 * no report: a ticket cannot be its own parent, a parent cannot be a child, a ticket with
 * reports of its own cannot become one, and a closed incident takes no new reports (409).
 * The report stops paging ops on its own: an open escalation of it is resolved ("linked to
 * #N"), and its parent's alerts count it. `parent` is null when there is no such ticket (400). Its requester sees only that it is part of an
 * incident being worked on (a public entry, the first time it is linked).
 */
export function linkParent(ticket: Ticket, caller: Principal, parent: Ticket | null, now: string): Change {
  requireAgent(ticket, caller);
  if (!parent) throw invalid("No such ticket.", "ticketId", "No ticket has this id.");
  if (parent.id === ticket.id) throw new Failure("conflict", "A ticket cannot be its own parent.");
  if (parent.parent) throw new Failure("conflict", `#${parent.number} is itself linked to an incident (#${parent.parent.number}).`);
  if ((ticket.children?.count ?? 0) > 0)
    throw new Failure("conflict", "This ticket has reports linked to it: it is an incident, not a report.");
  if (parent.status === "closed") throw new Failure("conflict", `#${parent.number} is closed: it takes no new reports.`);
  if (ticket.parent?.id === parent.id) return noChange(ticket);
  // Its page is resolved as it is linked: ops must still hold one, the incident's.
  if (isOpen(ticket.escalation) && !isOpen(parent.escalation))
    throw new Failure(
      "conflict",
      `This ticket's escalation is open and #${parent.number} has none: escalate the incident before linking it.`,
    );
  const to = refOf(parent);
  const b = new ChangeBuilder(ticket, { ...ticket, parent: to }, actorOf(caller), now);
  b.add("parent_linked", { parent: to, from: ticket.parent ?? null });
  if (!ticket.parent) b.add("incident_linked", { note: INCIDENT_NOTE });
  return b.done();
}

/** An agent unlinks a report from its incident: it is a ticket of its own again, with its own escalation policy. */
export function unlinkParent(ticket: Ticket, caller: Principal, now: string): Change {
  requireAgent(ticket, caller);
  if (!ticket.parent) return noChange(ticket);
  const b = new ChangeBuilder(ticket, { ...ticket, parent: null }, actorOf(caller), now);
  b.add("parent_unlinked", { from: ticket.parent });
  return b.done();
}

export const INCIDENTS: Actor = { id: "system:incidents", name: "Incident links", role: "system" };

/** What an incident last heard of one report: the report's entry that linked or unlinked it. */
export interface ReportLink {
  seq: number;
  linked: boolean;
}

/**
 * The incident hears that a report was linked to it (`linked`), or unlinked, by the report's
 * entry `seq`; `prior` is what it heard of that report last. An older word changes nothing (a
 * message late or delivered again), so the count is exact whatever the order. An incident that
 * has become a report itself, or was closed, as the link was made (two agents at once) does not
 * take it: it says so, and the report is told to drop it (shared/incidents/).
 */
export function countChild(ticket: Ticket, child: TicketRef, linked: boolean, seq: number, prior: ReportLink | null, now: string): Change {
  if (prior && prior.seq >= seq) return noChange(ticket);
  const refusal = !linked
    ? null
    : ticket.parent
      ? `#${ticket.number} is itself a report of #${ticket.parent.number}`
      : ticket.status === "closed"
        ? `#${ticket.number} is closed`
        : null;
  const delta = (linked && !refusal ? 1 : 0) - (prior?.linked ? 1 : 0);
  const b = new ChangeBuilder(ticket, { ...ticket, children: { count: (ticket.children?.count ?? 0) + delta } }, INCIDENTS, now);
  if (refusal) b.add("link_refused", { child, why: refusal });
  if (delta > 0) b.add("child_linked", { child });
  // An unlink is said even when it moves no count (a link refused, or heard of after it): its
  // record goes in this batch, under the incident's etag, as every word of a report does, so
  // that an older word arriving later finds it and changes nothing.
  else if (!linked) b.add("child_unlinked", { child });
  return b.done();
}

/** The incident could not take this report: it is unlinked, and why is said (internal; the requester's view keeps its note). */
export function dropParent(ticket: Ticket, parentId: string, why: string, now: string): Change {
  if (ticket.parent?.id !== parentId) return noChange(ticket);
  const b = new ChangeBuilder(ticket, { ...ticket, parent: null }, INCIDENTS, now);
  b.add("parent_unlinked", { from: ticket.parent, reason: why });
  return b.done();
}

/** What only an incident does (a broadcast, a cascading move): an agent's, on a ticket that is no report. */
function requireIncident(ticket: Ticket, caller: Principal): void {
  requireAgent(ticket, caller);
  if (ticket.parent) throw new Failure("conflict", `This ticket is a report of #${ticket.parent.number}: update the incident.`);
}

/**
 * An agent's update to an incident's every report: a public reply on the incident itself (its
 * own requester is one of those affected), and, through the `ticket-commands` queue, the same
 * reply on each report linked to it (shared/incidents/), each an ordinary comment in its own
 * ticket, once.
 */
export function broadcast(ticket: Ticket, caller: Principal, input: BroadcastInput, broadcastId: string, now: string): Change {
  requireIncident(ticket, caller);
  if (ticket.status === "closed") throw new Failure("conflict", "The ticket is closed: reopen it before commenting.");
  // An agent's reply, as comment() makes it (an agent's reply moves no status).
  const b = new ChangeBuilder(ticket, ticket, actorOf(caller), now);
  b.add("comment", { body: input.body }, "public");
  b.add("broadcast_started", { broadcastId, action: "reply" });
  return b.done();
}

/** What an incident's broadcast does to each of its reports (shared/incidents/ carries it). */
export type BroadcastAction = { kind: "reply"; body: string } | { kind: "move"; status: Status; resolution: string | null };

/**
 * A broadcast's change on one report: the incident's reply, or its move, made by the agent
 * whose broadcast it is. A report unlinked meanwhile is left alone (409, as any refusal:
 * the report is skipped, and why is said); one in the status moved to already needs nothing.
 */
export function applyBroadcast(ticket: Ticket, caller: Principal, parentId: string, action: BroadcastAction, now: string): Change {
  if (ticket.parent?.id !== parentId) throw new Failure("conflict", "No longer a report of this incident.");
  if (action.kind === "reply") return comment(ticket, caller, { body: action.body, visibility: "public" }, now);
  // In that status already: nothing to do (done). A report keeps a resolution of its own: the
  // incident's is given only to a move that needs one.
  if (ticket.status === action.status) return noChange(ticket);
  const resolution = needsResolution(ticket.status, action.status) ? (action.resolution ?? undefined) : undefined;
  return move(ticket, caller, { status: action.status, resolution }, now);
}
