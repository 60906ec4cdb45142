import * as z from "zod";
import { commaSeparated } from "../../adapters/http/query.js";
import { AssignInput, BroadcastInput, CommentInput, EscalateInput, MoveInput, OpenInput, TriageInput } from "../domain/inputs.js";
import { Priority, Severity, Status } from "../domain/model.js";
import { LIST_SORTS, SLA_STATES } from "../ports.js";
import { EntryView, TicketView } from "../domain/visibility.js";
import { TICKET_ID } from "../ids.js";

/**
 * The HTTP contract of DESIGN.md section 3 as zod schemas: the same objects validate
 * requests and generate GET /api/openapi.json. Request bodies are the commands' own
 * input schemas (domain/inputs.ts); responses are the domain's views (domain/visibility.ts).
 * Their descriptions and examples are the document's.
 */

export const OpenTicketBody = OpenInput.meta({
  id: "OpenTicket",
  description:
    "A new ticket. Requesters may choose low, normal or high; emergency, a severity and `requester` (opening for someone) need an agent.",
  examples: [{ subject: "Mobile banking is down", description: "The entire mobile banking is down since 9:00.", priority: "normal" }],
});
export const TriageBody = TriageInput.meta({
  id: "Triage",
  description: "What triage changes: at least one of priority, severity, category, subject; `reason` goes to the timeline.",
  examples: [{ priority: "emergency", reason: "business-impacting: the entire mobile banking is down" }],
});
export const AssignBody = AssignInput.meta({
  id: "Assign",
  description: "The agent to assign: an id from GET /api/agents.",
  examples: [{ agentId: "8c1d2e3f-0a1b-4c5d-9e8f-7a6b5c4d3e2f" }],
});
export const CommentBody = CommentInput.meta({
  id: "Comment",
  description: "A public reply (the default) or an internal note (agents only).",
  examples: [{ body: "Working with the system administrators on it.", visibility: "internal" }],
});
export const MoveBody = MoveInput.meta({
  id: "StatusChange",
  description: "The status to move to; entering resolved, or closing from anything but resolved, needs a resolution.",
  examples: [{ status: "closed", resolution: "Franck from the system administrators found and fixed the gateway." }],
});
export const EscalateBody = EscalateInput.meta({
  id: "ManualEscalation",
  description: "Why ops is paged, in words ops will read.",
  examples: [{ reason: "Customers report failed payments since 9:00." }],
});

/** A ticket's id, as ticketIdOf makes them: anything else names no ticket (404). */
export const TicketIdParam = z.string().regex(TICKET_ID).describe("The ticket's `id` (the last segment of its Location)");

const limit = z.coerce.number().int().min(1).max(100).default(25).describe("Items per page, 1 to 100");

/** The filters a ticket number leaves no room for: it names one ticket. */
const FILTERS = ["status", "priority", "severity", "sla", "assignee", "requester", "parent", "updatedSince", "cursor"] as const;

// A list's description goes on its optional wrapper (openapi.ts finds the list inside it). No parameter
// has an example: the docs page (Swagger UI) would fill it in, and try a query nobody asked for.
const ListFields = z.strictObject({
  number: z
    .string()
    .regex(/^[1-9][0-9]{7}$/, "8 digits")
    .optional()
    .describe("A ticket's number (the short reference people quote): that ticket, or an empty page; no other filter applies"),
  status: commaSeparated(Status).optional().describe("Only these statuses, comma-separated"),
  priority: commaSeparated(Priority)
    .optional()
    .describe("Only these priorities, comma-separated (a requester's list: the priority they opened with)"),
  severity: commaSeparated(Severity).optional().describe("Only these severities, comma-separated (agents only)"),
  sla: commaSeparated(z.enum(SLA_STATES))
    .optional()
    .describe(
      "Only tickets whose SLA clocks are in one of these states, comma-separated (agents only). Each ticket is in one at most: " +
        "`breached`, a target is breached (whatever the ticket's status now); " +
        "`warning`, none is breached and a running target has had its warning (`sla_warning` in the timeline); " +
        "`running`, none is breached, no running target has had its warning, and a target is running or paused. " +
        "A ticket whose targets are both achieved, or that has no clocks yet, is in none. " +
        "A state moves with the ticket's `sla`: a breach counts once recorded (`sla_breached`), which its timer does at the due time",
    ),
  assignee: z.string().min(1).max(256).optional().describe("`me`, `none` (unassigned), or an agent's id (agents only)"),
  requester: z.string().min(1).max(256).optional().describe("`me`, or a requester's id (agents only)"),
  parent: z
    .string()
    .refine((p) => p === "none" || TICKET_ID.test(p), "`none` or a ticket's id")
    .optional()
    .describe("`none`: no report linked to an incident; or an incident's id: its reports (agents only)"),
  sort: z
    .enum(LIST_SORTS)
    .default("priority")
    .describe(
      "`priority`: emergency first, then oldest first; `updated`: most recently changed first; `created`: newest first; " +
        "`due` (agents only): the next SLA due time first (the earliest `dueAt` of a running target; a paused, achieved or breached one has none), " +
        "then by priority (emergency first), then by id; tickets with nothing due last",
    ),
  updatedSince: z.iso
    .datetime({ offset: true })
    // In UTC, as stored; an offset that moves the time past year 9999 would not compare as a date.
    .refine((at) => new Date(at).getUTCFullYear() <= 9999, "A time before the year 10000.")
    .transform((at) => new Date(at).toISOString())
    .optional()
    .describe(
      "Only tickets changed at or after this time (ISO 8601; a requester's list: changes they can see); with sort=updated, what a client syncs by",
    ),
  limit,
  cursor: z.string().min(1).max(1024).optional().describe("The `nextCursor` of the previous page, with the same query"),
});
export const ListTicketsQuery = ListFields.superRefine((q, ctx) => {
  if (q.number === undefined) return;
  for (const f of FILTERS) if (q[f] !== undefined) ctx.addIssue({ code: "custom", path: [f], message: "Not with number." });
});

export const TimelineQuery = z.strictObject({
  limit,
  cursor: z.string().min(1).max(64).optional().describe("The `nextCursor` of the previous page of this timeline"),
});

/** The responses: the domain's views (visibility.ts), named for the OpenAPI document. */
export const TicketJson = TicketView.meta({
  id: "Ticket",
  description: "A ticket as the caller may see it: a requester sees it as opened, without triage, assignment, escalation or SLA clocks.",
  examples: [
    {
      id: "4f7a9c2e1b3d5f6a7c8e9d0b",
      number: "51623929",
      subject: "Mobile banking is down",
      description: "The entire mobile banking is down since 9:00.",
      status: "in_progress",
      priority: "emergency",
      severity: "SEV-A",
      category: "mobile",
      requester: { id: "email:0c83f57c786a0b4a39efab23731c7ebc", name: "Karen Karen", email: "karen.karen@example.com" },
      assignee: { id: "8c1d2e3f-0a1b-4c5d-9e8f-7a6b5c4d3e2f", name: "Jane Doe" },
      resolution: null,
      createdAt: "2024-05-01T09:00:00.000Z",
      updatedAt: "2024-05-01T09:20:00.000Z",
      resolvedAt: null,
      closedAt: null,
      escalation: {
        state: "acknowledged",
        triggeredAt: "2024-05-01T09:05:00.000Z",
        acknowledgedAt: "2024-05-01T09:07:00.000Z",
        acknowledgedBy: { id: "8c1d2e3f-0a1b-4c5d-9e8f-7a6b5c4d3e2f", name: "Jane Doe" },
        pages: 1,
      },
      sla: {
        policyVersion: 2,
        firstResponse: {
          status: "achieved",
          dueAt: "2024-05-01T09:15:00.000Z",
          warnAt: "2024-05-01T09:10:00.000Z",
          achievedAt: "2024-05-01T09:08:00.000Z",
          breachedAt: null,
        },
        resolution: {
          status: "running",
          dueAt: "2024-05-01T13:00:00.000Z",
          warnAt: "2024-05-01T12:30:00.000Z",
          achievedAt: null,
          breachedAt: null,
        },
      },
      parent: null,
      children: { count: 20 },
    },
  ],
});

export const TicketPage = z
  .object({
    items: z.array(TicketJson),
    nextCursor: z.string().nullable().describe("Pass it as `cursor` for the next page; null on the last"),
  })
  .meta({ id: "TicketPage", description: "A page of tickets, in the order asked for." });

export const TimelineEntryJson = EntryView.meta({
  id: "TimelineEntry",
  description:
    "One entry of a ticket's history; `data` depends on `type`. Requesters see only public entries (opened, public replies, status changes), and other people by name and role.",
  examples: [
    {
      id: "9a8b7c6d5e4f3a2b1c0d",
      type: "comment",
      at: "2024-05-01T09:10:00.000Z",
      actor: { id: "8c1d2e3f-0a1b-4c5d-9e8f-7a6b5c4d3e2f", name: "Jane Doe", role: "agent" },
      visibility: "internal",
      data: { body: "Working with the system administrators on it." },
    },
  ],
});

export const TimelinePage = z
  .object({
    items: z.array(TimelineEntryJson),
    nextCursor: z.string().nullable().describe("Pass it as `cursor` for the next page; null on the last"),
  })
  .meta({ id: "TimelinePage", description: "A page of a ticket's history, oldest first." });

/** An incident's reports: the list's own filters and order, of its children. */
export const ChildrenQuery = ListFields.omit({ number: true, parent: true });

export const ParentBody = z
  .strictObject({ ticketId: z.string().regex(TICKET_ID, "a ticket's id").describe("The incident's id") })
  .meta({ id: "ParentLink", description: "The incident this ticket is a report of." });

export const BroadcastBody = BroadcastInput.meta({
  id: "Broadcast",
  description: "The update every reporter of the incident gets: a public reply on the incident and on each report linked to it.",
  examples: [{ body: "Mobile banking is back: a failover restored it at 10:40. Thank you for your patience." }],
});

export const BroadcastJson = z
  .object({
    id: z.string().describe("The broadcast's id"),
    state: z.enum(["running", "done"]).describe("`done` once every report it was sent to has its change made, or was skipped"),
    total: z.number().int().min(0).nullable().describe("How many reports it was sent to; null until its last page of reports was sent"),
    done: z.number().int().min(0).describe("Reports whose change is made"),
    skipped: z
      .array(z.object({ ticketId: z.string(), why: z.string() }))
      .describe("Reports left as they were, and why (their status did not allow the change, or they were unlinked meanwhile)"),
  })
  .meta({ id: "BroadcastStatus" });

export const BroadcastIdParam = z
  .string()
  .regex(/^[0-9a-f]{24}$/)
  .describe("The broadcast's id, from its Location");
