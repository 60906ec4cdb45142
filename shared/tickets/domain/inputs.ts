import * as z from "zod";
import { ATTACHMENT_ID, Priority, Severity, Status, Visibility } from "./model.js";

/**
 * What each command takes, as zod schemas: the commands' input types are inferred from
 * them, and the HTTP layer validates request bodies with the very same schemas (named
 * for the OpenAPI document in http/schemas.ts). Unknown fields are invalid.
 */

const text = (max: number) => z.string().trim().min(1).max(max);
const reason = z.string().trim().max(2000).optional();
const category = z.string().trim().min(1).max(64).nullable();
/**
 * Uploads to attach (POST /api/tickets/{id}/attachments, or POST /api/attachments before an
 * opening): at most 10, each once. Their bytes are checked as they are attached.
 */
const attachments = z
  .array(z.string().regex(ATTACHMENT_ID, "an upload's id"))
  .min(1)
  .max(10)
  .refine((ids) => new Set(ids).size === ids.length, "each upload once")
  .optional();

export const OpenInput = z.strictObject({
  subject: text(200),
  description: text(20_000),
  priority: Priority.optional(),
  severity: Severity.nullable().optional(),
  category: category.optional(),
  /** Opening on behalf of someone (agents only). */
  requester: z.strictObject({ name: text(200), email: z.email().max(320) }).optional(),
  attachments,
});
export type OpenInput = z.output<typeof OpenInput>;

export const TriageInput = z
  .strictObject({
    priority: Priority.optional(),
    severity: Severity.nullable().optional(),
    category: category.optional(),
    subject: text(200).optional(),
    reason,
  })
  .refine((b) => b.priority !== undefined || b.severity !== undefined || b.category !== undefined || b.subject !== undefined, {
    message: "Give at least one of priority, severity, category, subject.",
  });
export type TriageInput = z.output<typeof TriageInput>;

export const AssignInput = z.strictObject({ agentId: text(256) });

export const CommentInput = z.strictObject({ body: text(20_000), visibility: Visibility.default("public"), attachments });
export type CommentInput = z.output<typeof CommentInput>;

export const MoveInput = z.strictObject({
  status: Status,
  resolution: text(20_000).optional(),
  reason,
  /** On an incident (agents only): the same move on every report linked to it, with the incident's resolution. */
  cascade: z.boolean().optional(),
});
export type MoveInput = z.output<typeof MoveInput>;

/** Paging ops by hand: the agent says why, in words ops will read. */
export const EscalateInput = z.strictObject({ reason: text(2000) });
export type EscalateInput = z.output<typeof EscalateInput>;

/** An incident's update to every report linked to it: a public reply posted on each (and on the incident). */
export const BroadcastInput = z.strictObject({ body: text(20_000) });
export type BroadcastInput = z.output<typeof BroadcastInput>;
