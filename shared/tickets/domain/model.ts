import { z } from "zod";
import { ROLES } from "../../kernel/principal.js";

/**
 * The ticket model of DESIGN.md section 2, as zod schemas: the one source of each
 * shape. The types are inferred from them; the store parses what it reads with them;
 * the API's views (visibility.ts) and the alerts' facts are derived from them.
 */

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
export const priorityRank = (t: Pick<Ticket, "priority">): number => PRIORITY_RANK[t.priority];

const iso = z.iso.datetime();
const isoOrNull = iso.nullable();

export const Person = z.object({ id: z.string(), name: z.string(), email: z.string().nullable() });
export type Person = z.infer<typeof Person>;

export const AgentRef = z.object({ id: z.string(), name: z.string() });
export type AgentRef = z.infer<typeof AgentRef>;

export const ESCALATION_STATES = ["none", "triggered", "acknowledged", "resolved"] as const;

export const Escalation = z.object({
  state: z.enum(ESCALATION_STATES),
  triggeredAt: isoOrNull,
  acknowledgedAt: isoOrNull,
  acknowledgedBy: AgentRef.nullable(),
  /** Pages sent to ops for the current escalation: the first page and re-pages. */
  pages: z.number().int().min(0),
  /** Sequence of the entry that triggered the current escalation; 0 if none ever did. */
  cycle: z.number().int().min(0),
});
export type Escalation = z.infer<typeof Escalation>;

/**
 * What the ticket said when it was opened, of the fields triage changes: a requester
 * sees these, never the triaged values (DESIGN.md section 3: triage is internal).
 */
export const Opened = z.object({ subject: z.string(), priority: Priority, category: z.string().nullable() });
export type Opened = z.infer<typeof Opened>;

export const Ticket = z.object({
  id: z.string(),
  number: z.string(),
  subject: z.string(),
  description: z.string(),
  status: Status,
  priority: Priority,
  severity: Severity.nullable(),
  category: z.string().nullable(),
  requester: Person,
  assignee: AgentRef.nullable(),
  resolution: z.string().nullable(),
  createdAt: iso,
  updatedAt: iso,
  resolvedAt: isoOrNull,
  closedAt: isoOrNull,
  escalation: Escalation,
  /** Tickets stored before it was kept read it from the current values (openedOf). */
  opened: Opened.optional(),
  /** Number of timeline entries so far; the entry of change n has sequence n. */
  version: z.number().int().min(0),
  /** Number of changes people made (not the system's bookkeeping): an agent's ETag. */
  revision: z.number().int().min(0),
  /**
   * Number of those changes a requester could see (their view of the ticket changed), and
   * when the last one was: a requester's ETag and `updatedAt`, which internal notes and
   * bookkeeping never move. Tickets stored before these existed read them from the above.
   */
  publicRevision: z.number().int().min(0).optional(),
  publicUpdatedAt: iso.optional(),
});
export type Ticket = z.infer<typeof Ticket>;

/** A requester's revision and last change (for a ticket stored before they were kept: everyone's). */
export const publicRevisionOf = (t: Pick<Ticket, "revision" | "publicRevision">): number => t.publicRevision ?? t.revision;
export const openedOf = (t: Pick<Ticket, "opened" | "subject" | "priority" | "category">): Opened =>
  t.opened ?? { subject: t.subject, priority: t.priority, category: t.category };
/** A requester's queue is in the order of the priority they see: the one the ticket was opened with. */
export const requesterRank = (t: Pick<Ticket, "opened" | "subject" | "priority" | "category">): number => priorityRank(openedOf(t));
export const publicUpdatedAtOf = (t: Pick<Ticket, "updatedAt" | "publicUpdatedAt">): string => t.publicUpdatedAt ?? t.updatedAt;

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
export const EntryType = z.enum(ENTRY_TYPES);
export type EntryType = z.infer<typeof EntryType>;

export const Visibility = z.enum(["public", "internal"]);
export type Visibility = z.infer<typeof Visibility>;

/** Who made a timeline entry: a person, or the system acting on its own (the escalation notifier). */
export const Actor = z.object({ id: z.string(), name: z.string(), role: z.enum([...ROLES, "system"]) });
export type Actor = z.infer<typeof Actor>;

export const TimelineEntry = z.object({
  id: z.string(),
  seq: z.number().int().min(1),
  type: EntryType,
  at: iso,
  actor: Actor,
  visibility: Visibility,
  data: z.record(z.string(), z.unknown()),
});
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** The stored id of a timeline entry; clients see a sealed one (timeline-seal.ts). */
export const entryId = (seq: number): string => `entry-${String(seq).padStart(8, "0")}`;
