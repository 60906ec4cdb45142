import { z } from "zod";
import { SlaTargetName, type SlaClocks } from "./clock.js";

/**
 * The SLA clocks' timers: a warning and then a breach per running target, each a message
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

/** A running target's next timer: its warning while not given, then its breach. */
function nextTimer(target: SlaClocks["firstResponse"]): { timer: SlaTimer["timer"]; scheduledFor: string } {
  return target.warnAt !== null && target.warnedAt === null
    ? { timer: "warning", scheduledFor: target.warnAt }
    : { timer: "breach", scheduledFor: target.dueAt };
}

/**
 * The timers a change must set: each running target's next one (its warning, or once that is
 * given its breach), where the change moved it (or started it). One at a time, so a ticket has
 * at most one timer per target to come, and its re-targets leave few stale ones behind: the
 * warning's own change sets the breach. A paused target has none (resuming sets it again).
 */
export function timersToSet(before: SlaClocks | undefined, after: SlaClocks): SlaTimer[] {
  const timers: SlaTimer[] = [];
  for (const target of SlaTargetName.options) {
    if (after[target].status !== "running") continue;
    const next = nextTimer(after[target]);
    const was = before?.[target];
    const newCycle = target === "resolution" && before?.cycle !== after.cycle;
    const had = was && was.status === "running" && !newCycle ? nextTimer(was) : undefined;
    if (had?.timer === next.timer && had.scheduledFor === next.scheduledFor) continue;
    timers.push({ target, ...next, cycle: after.cycle });
  }
  return timers;
}
