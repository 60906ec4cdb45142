import * as z from "zod";
import { ROLES } from "../../kernel/principal.js";
import { SlaClocks, SlaTargetName } from "../../sla/domain/clock.js";
import { Priority, Severity, Status } from "./terms.js";

/**
 * The ticket model of DESIGN.md section 2, as zod schemas: the one source of each
 * shape. The types are inferred from them; the store parses what it reads with them;
 * the API's views (visibility.ts) and the alerts' facts are derived from them.
 */

export * from "./terms.js";

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

/** Another ticket, by id and number: a report's incident, an incident's report. */
export const TicketRef = z.object({ id: z.string(), number: z.string() });
export type TicketRef = z.infer<typeof TicketRef>;

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
  /** The SLA clocks (shared/sla/domain/clock.ts); a ticket stored before they existed starts them at its next change. */
  sla: SlaClocks.optional(),
  /**
   * The incident this ticket is a report of (issue "Major incidents"): it pages ops through
   * its parent only. Agents' to see; absent on a ticket stored before it was kept: none.
   */
  parent: TicketRef.nullable().optional(),
  /** How many reports are linked to this ticket as their incident, as its parent has been told (eventually: a link is told through a queue). */
  children: z.object({ count: z.number().int().min(0) }).optional(),
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
  "sla_warning",
  "sla_breached",
  "sla_achieved",
  "attachment_malicious",
  "parent_linked",
  "parent_unlinked",
  "incident_linked",
  "child_linked",
  "child_unlinked",
  "broadcast_started",
  "link_refused",
  "email_refused",
] as const;
export const EntryType = z.enum(ENTRY_TYPES);
export type EntryType = z.infer<typeof EntryType>;

export const Visibility = z.enum(["public", "internal"]);
export type Visibility = z.infer<typeof Visibility>;

/** Who made a timeline entry: a person, or the system acting on its own (the escalation notifier). */
export const Actor = z.object({ id: z.string(), name: z.string(), role: z.enum([...ROLES, "system"]) });
export type Actor = z.infer<typeof Actor>;

/**
 * What ops is told: an escalation's first page, a re-page, its acknowledgement, its end; a
 * page for an SLA target breached on a business-impacting ticket; and the SLA's notices (a
 * warning, a breach on any other ticket), for the generic webhook only.
 */
export const ESCALATION_EVENTS = [
  "triggered",
  "repaged",
  "acknowledged",
  "resolved",
  "sla_breached",
  "sla.warning",
  "sla.breached",
] as const;

const reason = z.string().optional().describe("Why, in the caller's words, if they gave any");
const changeOf = <T extends z.ZodType>(value: T) => z.object({ from: value, to: value, reason });
const escalationStep = z.object({
  cycle: z.number().int().min(0).describe("Sequence of the entry that triggered this escalation"),
  cause: z.string().describe("The policy's reason, e.g. priority emergency, ticket closed"),
  reason: z.string().nullable().describe("The agent's own words, if they gave any; never a requester's"),
});

const slaStep = z.object({
  target: SlaTargetName.describe("Which target: the first response or the resolution"),
  dueAt: iso.describe("The target's due time, as the policy set it"),
  cycle: z.number().int().min(1).describe("The resolution cycle: 1 at intake, one more at each reopen"),
  policyVersion: z.number().int().min(0).describe("The SLA policy version the ticket follows"),
});

/** An upload's id, which its attachment keeps: 96 random bits in hex. */
export const ATTACHMENT_ID = /^[0-9a-f]{24}$/;

/**
 * A file a comment or the opening names (shared/attachments/): its name, its size and its type
 * as checked from its bytes. GET /api/tickets/{id}/attachments/{attachmentId} fetches it, for
 * whoever may see its entry.
 */
export const AttachmentRef = z
  .object({
    id: z.string().describe("The attachment's id: GET /api/tickets/{id}/attachments/{attachmentId}"),
    fileName: z.string(),
    size: z.number().int().min(1).describe("In bytes"),
    contentType: z.string().describe("As told by the file's first bytes, never by the uploader"),
  })
  .meta({ id: "AttachmentRef" });
export type AttachmentRef = z.infer<typeof AttachmentRef>;

const attachments = z.array(AttachmentRef).optional().describe("The files attached, if any");

/**
 * The `data` of each entry type, as the commands write it (commands.ts, change.ts,
 * escalation.ts): ChangeBuilder.add takes exactly these shapes, and the timeline's
 * schema (and so the OpenAPI document) is built from them, so the two cannot drift.
 */
export const ENTRY_DATA = {
  opened: Opened.extend({
    onBehalfOf: z.string().optional().describe("The requester's id, when an agent opened the ticket for them"),
    attachments,
  }).meta({ id: "OpenedData" }),
  comment: z.object({ body: z.string(), attachments }).meta({ id: "CommentData" }),
  priority_changed: changeOf(Priority).meta({ id: "PriorityChangedData" }),
  severity_changed: changeOf(Severity.nullable()).meta({ id: "SeverityChangedData" }),
  category_changed: changeOf(z.string().nullable()).meta({ id: "CategoryChangedData" }),
  subject_changed: changeOf(z.string()).meta({ id: "SubjectChangedData" }),
  assigned: z.object({ from: AgentRef.nullable(), to: AgentRef }).meta({ id: "AssignedData" }),
  unassigned: z.object({ from: AgentRef }).meta({ id: "UnassignedData" }),
  status_changed: z
    .object({ from: Status, to: Status, resolution: z.string().optional().describe("The resolution given with the move"), reason })
    .meta({ id: "StatusChangedData" }),
  escalation_triggered: escalationStep.meta({ id: "EscalationTriggeredData" }),
  escalation_notified: z
    .object({
      channel: z.string().describe("The ops channel that took the alert: webhook, teams, slack, pagerduty, console"),
      event: z.enum(ESCALATION_EVENTS),
      page: z.number().int().min(0),
      messageId: z.string(),
    })
    .meta({ id: "EscalationNotifiedData" }),
  escalation_acknowledged: escalationStep.omit({ reason: true }).meta({ id: "EscalationAcknowledgedData" }),
  escalation_resolved: escalationStep.meta({ id: "EscalationResolvedData" }),
  sla_warning: slaStep.meta({ id: "SlaWarningData" }),
  sla_breached: slaStep.meta({ id: "SlaBreachedData" }),
  sla_achieved: slaStep.meta({ id: "SlaAchievedData" }),
  attachment_malicious: z
    .object({
      attachmentId: z.string().describe("The attachment the malware scan found malicious: never served"),
      fileName: z.string(),
    })
    .meta({ id: "AttachmentMaliciousData" }),
  parent_linked: z
    .object({ parent: TicketRef, from: TicketRef.nullable().describe("The incident it was linked to before, if any") })
    .meta({ id: "ParentLinkedData" }),
  parent_unlinked: z
    .object({ from: TicketRef, reason: z.string().optional().describe("Why the incident dropped it, when it did (not an agent)") })
    .meta({ id: "ParentUnlinkedData" }),
  incident_linked: z
    .object({ note: z.string().describe("What the requester is told: their report is part of an incident being worked on") })
    .meta({ id: "IncidentLinkedData" }),
  child_linked: z.object({ child: TicketRef }).meta({ id: "ChildLinkedData" }),
  child_unlinked: z.object({ child: TicketRef }).meta({ id: "ChildUnlinkedData" }),
  broadcast_started: z
    .object({
      broadcastId: z.string().describe("GET /api/tickets/{id}/broadcasts/{broadcastId} reports how far it is"),
      action: z.enum(["reply", "move"]).describe("A public reply posted on every report, or the incident's status move made on each"),
      to: Status.optional().describe("The status each report is moved to (a move)"),
    })
    .meta({ id: "BroadcastStartedData" }),
  link_refused: z
    .object({ child: TicketRef, why: z.string().describe("Why the incident could not take the report: it is itself a report, or closed") })
    .meta({ id: "LinkRefusedData" }),
  email_refused: z
    .object({
      to: z.string().describe("The address the email service refused"),
      about: z
        .number()
        .int()
        .min(1)
        .describe("The entry the email was about (its seq): a reply, a resolution, a close, a reopen or the opening"),
      code: z.string().describe("The service's error code, e.g. InvalidRecipients"),
      message: z.string().describe("The service's words"),
    })
    .meta({ id: "EmailRefusedData" }),
} as const satisfies Record<EntryType, z.ZodObject>;

export type EntryData<T extends EntryType> = z.input<(typeof ENTRY_DATA)[T]>;

/**
 * A timeline entry of each type, with that type's `data`, over the fields every entry has
 * (`fields`): the stored entry, and the view clients get (visibility.ts).
 */
export function entryUnion<F extends z.core.$ZodShape>(fields: F, name?: (type: EntryType) => string) {
  const of = <T extends EntryType>(type: T) => {
    const variant = z.object({ ...fields, type: z.literal(type), data: ENTRY_DATA[type] });
    return name ? variant.meta({ id: name(type) }) : variant;
  };
  return z.discriminatedUnion("type", [
    of("opened"),
    of("comment"),
    of("priority_changed"),
    of("severity_changed"),
    of("category_changed"),
    of("subject_changed"),
    of("assigned"),
    of("unassigned"),
    of("status_changed"),
    of("escalation_triggered"),
    of("escalation_notified"),
    of("escalation_acknowledged"),
    of("escalation_resolved"),
    of("sla_warning"),
    of("sla_breached"),
    of("sla_achieved"),
    of("attachment_malicious"),
    of("parent_linked"),
    of("parent_unlinked"),
    of("incident_linked"),
    of("child_linked"),
    of("child_unlinked"),
    of("broadcast_started"),
    of("link_refused"),
    of("email_refused"),
  ]);
}

/** What every entry has, beside its type and data. */
export const EntryFields = z.object({
  id: z.string(),
  seq: z.number().int().min(1),
  at: iso,
  actor: Actor,
  visibility: Visibility,
});

export const TimelineEntry = entryUnion(EntryFields.shape);
export type TimelineEntry = z.infer<typeof TimelineEntry>;

/** The stored id of a timeline entry; clients see a sealed one (timeline-seal.ts). */
export const entryId = (seq: number): string => `entry-${String(seq).padStart(8, "0")}`;
