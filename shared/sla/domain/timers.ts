import { z } from "zod";
import { SlaTargetName, type SlaClocks } from "./clock.js";

/**
 * The SLA clocks' timers: a warning and a breach per running target, each a message
 * scheduled for its instant on the `ticket-timers` queue, written through the outbox in the
 * batch of the change that set the instant. No timer is ever cancelled: one that arrives
 * after its target moved on (re-targeted, paused, achieved, a new cycle) finds nothing to do
 * (clock.ts moveClocks), so a missed cancellation is harmless.
 */

export const SlaTimer = z.object({
  target: SlaTargetName,
  timer: z.enum(["warning", "breach"]),
  /** The resolution cycle it was set in (a first response has only one). */
  cycle: z.int().min(1),
  scheduledFor: z.iso.datetime(),
});
export type SlaTimer = z.infer<typeof SlaTimer>;

/** A timer's message on the queue: a versioned JSON body. */
export const TimerMessage = SlaTimer.extend({
  version: z.literal(1),
  ticketId: z.string().min(1),
  /** On a later copy (a retry, or a timer that came early): the first message's id, and the retry. */
  retryOf: z.string().min(1).optional(),
  attempt: z.int().min(1).optional(),
});
export type TimerMessage = z.infer<typeof TimerMessage>;

/**
 * The timers a change must set: for each running target, its warning (while not given) and
 * its breach, each where the change moved its instant (or started it). Both at once, so that
 * a warning lost on its way never takes its breach with it. A paused target has none
 * (resuming sets them again).
 */
export function timersToSet(before: SlaClocks | undefined, after: SlaClocks): SlaTimer[] {
  const timers: SlaTimer[] = [];
  for (const target of SlaTargetName.options) {
    const now = after[target];
    if (now.status !== "running") continue;
    const was = before?.[target];
    const newCycle = target === "resolution" && before?.cycle !== after.cycle;
    const moved = (field: "dueAt" | "warnAt") => !was || was.status !== "running" || newCycle || was[field] !== now[field];
    if (now.warnAt !== null && now.warnedAt === null && moved("warnAt"))
      timers.push({ target, timer: "warning", cycle: after.cycle, scheduledFor: now.warnAt });
    if (moved("dueAt")) timers.push({ target, timer: "breach", cycle: after.cycle, scheduledFor: now.dueAt });
  }
  return timers;
}
