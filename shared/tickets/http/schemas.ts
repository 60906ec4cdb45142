import { z } from "zod";
import { Priority, Severity, Status } from "../domain/model.js";
import { EntryView, TicketView } from "../domain/visibility.js";

/**
 * The HTTP contract of DESIGN.md section 3 as zod schemas: the same objects
 * validate requests and generate GET /api/openapi.json. Unknown fields are invalid.
 */

const text = (max: number) => z.string().trim().min(1).max(max);
const reason = z.string().trim().max(2000).optional();
const category = z.string().trim().min(1).max(64).nullable();

export const OpenTicketBody = z
  .strictObject({
    subject: text(200),
    description: text(20_000),
    priority: Priority.optional(),
    severity: Severity.nullable().optional(),
    category: category.optional(),
    requester: z.strictObject({ name: text(200), email: z.email().max(320) }).optional(),
  })
  .meta({ id: "OpenTicket" });

export const TriageBody = z
  .strictObject({
    priority: Priority.optional(),
    severity: Severity.nullable().optional(),
    category: category.optional(),
    subject: text(200).optional(),
    reason,
  })
  .refine((b) => b.priority !== undefined || b.severity !== undefined || b.category !== undefined || b.subject !== undefined, {
    message: "Give at least one of priority, severity, category, subject.",
  })
  .meta({ id: "Triage" });

export const AssignBody = z.strictObject({ agentId: text(256) }).meta({ id: "Assign" });

export const CommentBody = z
  .strictObject({ body: text(20_000), visibility: z.enum(["public", "internal"]).default("public") })
  .meta({ id: "Comment" });

export const MoveBody = z.strictObject({ status: Status, resolution: text(20_000).optional(), reason }).meta({ id: "StatusChange" });

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

export const ListTicketsQuery = z.strictObject({
  status: csvOf(Status).optional(),
  priority: csvOf(Priority).optional(),
  severity: csvOf(Severity).optional(),
  assignee: z.string().min(1).max(256).optional().describe("me, none, or an agent id"),
  requester: z.string().min(1).max(256).optional().describe("me, or a requester id"),
  limit,
  cursor: z.string().min(1).max(1024).optional(),
});

export const TimelineQuery = z.strictObject({ limit, cursor: z.string().min(1).max(64).optional() });

/** The responses: the domain's views (visibility.ts), named for the OpenAPI document. */
export const TicketJson = TicketView.meta({ id: "Ticket" });

export const TicketPage = z.object({ items: z.array(TicketJson), nextCursor: z.string().nullable() }).meta({ id: "TicketPage" });

export const TimelineEntryJson = EntryView.meta({ id: "TimelineEntry" });

export const TimelinePage = z.object({ items: z.array(TimelineEntryJson), nextCursor: z.string().nullable() }).meta({ id: "TimelinePage" });
