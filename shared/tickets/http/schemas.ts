import { z } from "zod";
import { AssignInput, CommentInput, EscalateInput, MoveInput, OpenInput, TriageInput } from "../domain/inputs.js";
import { Priority, Severity, Status } from "../domain/model.js";
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
