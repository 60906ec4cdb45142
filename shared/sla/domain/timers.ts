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
export const TimerMessage = SlaTimer.extend({ version: z.literal(1), ticketId: z.string().min(1) });
export type TimerMessage = z.infer<typeof TimerMessage>;

/**
 * The id of a timer's message: the same timer (ticket, target, kind, cycle, instant) always
 * has the same id, so the queue's duplicate detection drops one set twice (an outbox entry
 * republished, or a change that restates a due time).
 */
export const timerMessageId = (ticketId: string, t: SlaTimer): string =>
  `${ticketId}.sla.${t.target}.${t.timer}.${t.cycle}.${Date.parse(t.scheduledFor)}`;

/**
 * The timers a change must set: those of each running target whose instants it moved (or
 * started). A paused target has none (resuming sets them again); a warning already given,
 * none.
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
