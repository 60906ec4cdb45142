import { z } from "zod";
import { AssignInput, CommentInput, EscalateInput, MoveInput, OpenInput, TriageInput } from "../domain/inputs.js";
import { Priority, Severity, Status } from "../domain/model.js";
import { LIST_SORTS } from "../ports.js";
import { EntryView, TicketView } from "../domain/visibility.js";

/**
 * The HTTP contract of DESIGN.md section 3 as zod schemas: the same objects validate
 * requests and generate GET /api/openapi.json. Request bodies are the commands' own
 * input schemas (domain/inputs.ts); responses are the domain's views (domain/visibility.ts).
 */

export const OpenTicketBody = OpenInput.meta({ id: "OpenTicket" });
export const TriageBody = TriageInput.meta({ id: "Triage" });
export const AssignBody = AssignInput.meta({ id: "Assign" });
export const CommentBody = CommentInput.meta({ id: "Comment" });
export const MoveBody = MoveInput.meta({ id: "StatusChange" });
export const EscalateBody = EscalateInput.meta({ id: "ManualEscalation" });

const csvOf = <T extends z.ZodType<string, string>>(item: T) =>
  z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item).min(1));

const limit = z.coerce.number().int().min(1).max(100).default(25);

/** The filters a ticket number leaves no room for: it names one ticket. */
const FILTERS = ["status", "priority", "severity", "assignee", "requester", "updatedSince", "cursor"] as const;

export const ListTicketsQuery = z
  .strictObject({
    number: z
      .string()
      .regex(/^[1-9][0-9]{7}$/, "8 digits")
      .optional()
      .describe("A ticket's number: that ticket, or an empty page; no other filter applies"),
    status: csvOf(Status).optional(),
    priority: csvOf(Priority).optional(),
    severity: csvOf(Severity).optional(),
    assignee: z.string().min(1).max(256).optional().describe("me, none, or an agent id"),
    requester: z.string().min(1).max(256).optional().describe("me, or a requester id"),
    sort: z
      .enum(LIST_SORTS)
      .default("priority")
      .describe("priority: emergency first, then oldest first; updated: most recently changed first; created: newest first"),
    updatedSince: z.iso
      .datetime({ offset: true })
      .transform((at) => new Date(at).toISOString())
      .optional()
      .describe("Only tickets changed at or after this time (ISO 8601); with sort=updated, what a client syncs by"),
    limit,
    cursor: z.string().min(1).max(1024).optional(),
  })
  .superRefine((q, ctx) => {
    if (q.number === undefined) return;
    for (const f of FILTERS) if (q[f] !== undefined) ctx.addIssue({ code: "custom", path: [f], message: "Not with number." });
  });

export const TimelineQuery = z.strictObject({ limit, cursor: z.string().min(1).max(64).optional() });

/** The responses: the domain's views (visibility.ts), named for the OpenAPI document. */
export const TicketJson = TicketView.meta({ id: "Ticket" });

export const TicketPage = z.object({ items: z.array(TicketJson), nextCursor: z.string().nullable() }).meta({ id: "TicketPage" });

export const TimelineEntryJson = EntryView.meta({ id: "TimelineEntry" });

export const TimelinePage = z.object({ items: z.array(TimelineEntryJson), nextCursor: z.string().nullable() }).meta({ id: "TimelinePage" });
