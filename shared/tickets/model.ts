import { z } from "zod";

/** The ticket model of DESIGN.md section 2. Pure: types and schemas, no I/O. */

export const STATUSES = ["open", "in_progress", "on_hold", "resolved", "closed"] as const;
export const PRIORITIES = ["low", "normal", "high", "emergency"] as const;
export const SEVERITIES = ["SEV-A", "SEV-B", "SEV-C", "SEV-D"] as const;

export const Status = z.enum(STATUSES);
export const Priority = z.enum(PRIORITIES);
export const Severity = z.enum(SEVERITIES);
export type Status = z.infer<typeof Status>;
export type Priority = z.infer<typeof Priority>;
export type Severity = z.infer<typeof Severity>;

/** Queue order: emergency first. Stored on the ticket so the store can ORDER BY it. */
export const PRIORITY_RANK: Record<Priority, number> = { emergency: 0, high: 1, normal: 2, low: 3 };

export type Role = "requester" | "agent" | "admin";
/** Who made a timeline entry: a person, or the system acting on its own (the escalation notifier). */
export type ActorRole = Role | "system";

/** The signed-in caller, as the identity layer resolved it from the token. */
export interface Principal {
  id: string;
  name: string;
  email: string | null;
  role: Role;
}

export const isAgent = (p: Principal): boolean => p.role === "agent" || p.role === "admin";

export interface Person {
  id: string;
  name: string;
  email: string | null;
}

export interface Ticket {
  id: string;
  number: string;
  subject: string;
  description: string;
  status: Status;
  priority: Priority;
  severity: Severity | null;
  category: string | null;
  requester: Person;
  assignee: { id: string; name: string } | null;
  resolution: string | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  closedAt: string | null;
  escalation: Escalation;
  /** Number of timeline entries so far; the entry of change n has sequence n. */
  version: number;
  /** Number of changes people made (not the system's bookkeeping): the ETag. */
  revision: number;
}

export type EscalationState = "none" | "triggered" | "acknowledged" | "resolved";

export interface Escalation {
  state: EscalationState;
  triggeredAt: string | null;
  acknowledgedAt: string | null;
  acknowledgedBy: { id: string; name: string } | null;
  /** Pages sent to ops for the current escalation: the first page and re-pages. */
  pages: number;
  /** Sequence of the entry that triggered the current escalation; 0 if none ever did. */
  cycle: number;
}

export const ENTRY_TYPES = [
  "opened",
  "comment",
  "priority_changed",
  "severity_changed",
  "category_changed",
  "subject_changed",
  "assigned",
  "unassigned",
  "status_changed",
  "escalation_triggered",
  "escalation_notified",
  "escalation_acknowledged",
  "escalation_resolved",
] as const;
export type EntryType = (typeof ENTRY_TYPES)[number];
export type Visibility = "public" | "internal";

export interface TimelineEntry {
  id: string;
  seq: number;
  type: EntryType;
  at: string;
  actor: { id: string; name: string; role: ActorRole };
  visibility: Visibility;
  data: Record<string, unknown>;
}

/** Whether a ticket is business-impacting enough to page ops (DESIGN.md section 2). */
export function isEscalationWorthy(t: Pick<Ticket, "status" | "priority" | "severity">): boolean {
  if (t.status === "resolved" || t.status === "closed") return false;
  return t.priority === "emergency" || t.severity === "SEV-A";
}
