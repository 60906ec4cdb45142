import type { Escalation, Ticket } from "./model.js";

/**
 * When a change to a ticket raises or resolves an escalation (DESIGN.md sections 2
 * and 6). Part of the ticket's own domain, applied by every command (change.ts), so no
 * path that makes a ticket business-impacting can forget to page ops. What ops is
 * then told, and how, is the escalation feature's (shared/escalation/).
 */

/** Business-impacting enough to page ops: not resolved or closed, and emergency or SEV-A. */
export function isEscalationWorthy(t: Pick<Ticket, "status" | "priority" | "severity">): boolean {
  if (t.status === "resolved" || t.status === "closed") return false;
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
  entry: { type: "escalation_triggered" | "escalation_resolved"; data: Record<string, unknown> };
}

/**
 * `before` is null for a new ticket. `seq` is the sequence the step's timeline
 * entry will get: a new trigger takes it as its cycle number, which tells the
 * re-pages of one escalation from those of a later one.
 */
export function followEscalation(before: Ticket | null, after: Ticket, now: string, seq: number, reason?: string): EscalationStep | null {
  const was = before !== null && isEscalationWorthy(before);
  const is = isEscalationWorthy(after);
  if (!was && is) {
    return {
      escalation: { state: "triggered", triggeredAt: now, acknowledgedAt: null, acknowledgedBy: null, pages: 0, cycle: seq },
      entry: { type: "escalation_triggered", data: { cycle: seq, cause: escalationCause(after), reason: reason ?? null } },
    };
  }
  const open = after.escalation.state === "triggered" || after.escalation.state === "acknowledged";
  if (was && !is && open) {
    const why = after.status === "resolved" || after.status === "closed" ? `ticket ${after.status}` : "no longer emergency or SEV-A";
    return {
      escalation: { ...after.escalation, state: "resolved" },
      entry: { type: "escalation_resolved", data: { cycle: after.escalation.cycle, cause: why, reason: reason ?? null } },
    };
  }
  return null;
}
