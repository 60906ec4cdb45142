import * as z from "zod";

/**
 * The ticket's vocabulary: its statuses, priorities and severities. Apart from the model
 * (model.ts re-exports them) so that other domains the ticket is made of (its SLA clocks,
 * shared/sla/domain/) can speak of them without importing the model that imports them.
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
