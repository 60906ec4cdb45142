import { Failure } from "../../kernel/failure.js";
import { isAgent } from "../../kernel/principal.js";
import type { Actor, EntryData, Escalation, Ticket } from "./model.js";

/**
 * When a change to a ticket raises or resolves an escalation (DESIGN.md sections 2
 * and 6). Part of the ticket's own domain, applied by every command (change.ts), so no
 * path that makes a ticket business-impacting can forget to page ops. What ops is
 * then told, and how, is the escalation feature's (shared/escalation/).
 */

const hasEnded = (t: Pick<Ticket, "status">): boolean => t.status === "resolved" || t.status === "closed";

/**
 * Business-impacting enough to page ops: not resolved or closed, emergency or SEV-A, and not a
 * report linked to an incident (issue "Major incidents"): ops hold one page per outage, its
 * parent's.
 */
export function isEscalationWorthy(t: Pick<Ticket, "status" | "priority" | "severity" | "parent">): boolean {
  if (hasEnded(t) || t.parent) return false;
  return t.priority === "emergency" || t.severity === "SEV-A";
}

export const NO_ESCALATION: Escalation = {
  state: "none",
  triggeredAt: null,
  acknowledgedAt: null,
  acknowledgedBy: null,
  pages: 0,
  cycle: 0,
};

/** Why a ticket is escalation-worthy, in words for the alert. */
export function escalationCause(t: Pick<Ticket, "priority" | "severity">): string {
  const causes = [t.priority === "emergency" ? "priority emergency" : null, t.severity === "SEV-A" ? "severity SEV-A" : null];
  return causes.filter(Boolean).join(" and ");
}

export interface EscalationStep {
  escalation: Escalation;
  entry: { [T in "escalation_triggered" | "escalation_resolved"]: { type: T; data: EntryData<T> } }[
    "escalation_triggered" | "escalation_resolved"];
}

/** Who made a change, and why: the policy pages ops only at an agent's word. */
interface Cause {
  role: Actor["role"];
  /** The caller's own words, if they gave any. Kept only from an agent: a requester's text never reaches ops. */
  reason?: string;
}

export const isOpen = (e: Escalation): boolean => e.state === "triggered" || e.state === "acknowledged";

/** The change sets priority emergency or severity SEV-A: an agent's triage saying "business-impacting". */
function raisesImpact(before: Ticket, after: Ticket): boolean {
  return (after.priority === "emergency" && before.priority !== "emergency") || (after.severity === "SEV-A" && before.severity !== "SEV-A");
}

/** The cause an escalation raised by hand gives: the agent's reason follows it in the alert. */
const BY_HAND = "raised by hand";

/**
 * `before` is null for a new ticket. `seq` is the sequence the step's timeline
 * entry will get: a new trigger takes it as its cycle number, which tells the
 * re-pages of one escalation from those of a later one.
 *
 * Only an agent's change triggers: one that makes the ticket escalation-worthy (at
 * intake, by triage, or an agent's reopen), or a triage that sets emergency or SEV-A on
 * a worthy ticket with no escalation open (a ticket its requester reopened). A
 * requester's reopen or reply never pages ops: the ticket is back in the queue, and an
 * agent raises it again (by triage, or by hand: raiseByHand). Any change that ends the
 * ticket (resolved, closed), or makes it no longer worthy, resolves an open escalation,
 * whoever made it.
 */
export function followEscalation(before: Ticket | null, after: Ticket, now: string, seq: number, cause: Cause): EscalationStep | null {
  const was = before !== null && isEscalationWorthy(before);
  const is = isEscalationWorthy(after);
  const open = isOpen(after.escalation);
  const byAgent = isAgent(cause);
  const reason = byAgent ? (cause.reason ?? null) : null;
  if (is && !open && byAgent && (!was || (before !== null && raisesImpact(before, after)))) {
    return {
      escalation: triggered(now, seq),
      entry: { type: "escalation_triggered", data: { cycle: seq, cause: escalationCause(after), reason } },
    };
  }
  if (open && !is && (was || hasEnded(after))) {
    const why = hasEnded(after)
      ? `ticket ${after.status}`
      : after.parent
        ? `linked to #${after.parent.number}`
        : "no longer emergency or SEV-A";
    return {
      escalation: { ...after.escalation, state: "resolved" },
      entry: { type: "escalation_resolved", data: { cycle: after.escalation.cycle, cause: why, reason } },
    };
  }
  return null;
}

const triggered = (now: string, seq: number): Escalation => ({
  state: "triggered",
  triggeredAt: now,
  acknowledgedAt: null,
  acknowledgedBy: null,
  pages: 0,
  cycle: seq,
});

/**
 * An agent pages ops by hand, for any ticket still being worked, with their reason.
 * Refused (409) while an escalation is open, or once the ticket is resolved or closed
 * (reopen it first): there would be nothing for ops to act on.
 */
export function raiseByHand(ticket: Ticket, now: string, seq: number, reason: string): EscalationStep {
  if (isOpen(ticket.escalation)) {
    throw new Failure("conflict", `An escalation is already open (${ticket.escalation.state}).`);
  }
  if (hasEnded(ticket)) {
    throw new Failure("conflict", `The ticket is ${ticket.status}: reopen it before escalating.`);
  }
  const impact = escalationCause(ticket);
  return {
    escalation: triggered(now, seq),
    entry: { type: "escalation_triggered", data: { cycle: seq, cause: impact ? `${BY_HAND} (${impact})` : BY_HAND, reason } },
  };
}
