import * as z from "zod";
import type { SlaClocks } from "./clock.js";

/**
 * The SLA clocks' timer: one per ticket, a message scheduled on the `ticket-timers` queue for
 * the clocks' next instant (the earliest warning still to give or due time of a running
 * target), written through the outbox in the batch of the change that set it. When it comes,
 * it records whatever is due by then (clock.ts), and its change sets the next. None is ever
 * cancelled: one that comes after the clocks moved on finds nothing due, so a missed
 * cancellation is harmless.
 */

export const SlaTimer = z.object({ scheduledFor: z.iso.datetime() });
export type SlaTimer = z.infer<typeof SlaTimer>;

/** A timer's message on the queue: a versioned JSON body. */
export const TimerMessage = SlaTimer.extend({
  version: z.literal(1),
  ticketId: z.string().min(1),
  /** On a later copy (a retry, or a timer that came early): the first message's id, and the retry. */
  retryOf: z.string().min(1).optional(),
  attempt: z.int().min(1).optional(),
  /** How many times it came over 30 s early and went back on the queue. */
  early: z.int().min(1).optional(),
});
export type TimerMessage = z.infer<typeof TimerMessage>;

/** The clocks' next instant (epoch ms): a running target's warning still to give, or its due time; null if none runs. */
export function nextInstantOf(c: SlaClocks | undefined): number | null {
  const instants = [c?.firstResponse, c?.resolution].flatMap((t) =>
    t?.status !== "running" ? [] : [Date.parse(t.dueAt), ...(t.warnAt !== null && t.warnedAt === null ? [Date.parse(t.warnAt)] : [])],
  );
  return instants.length ? Math.min(...instants) : null;
}

/**
 * The timer a change must set: at the clocks' next instant, when the change moved it (or
 * started the clocks), or when that instant has passed by `now` (ISO) with nothing recorded:
 * the timer set for it is late or was lost (dead-lettered), and a change arms it again, so the
 * clocks never stall (a second one finds nothing due). A paused target has none (resuming
 * sets it again).
 */
export function timersToSet(before: SlaClocks | undefined, after: SlaClocks, now: string): SlaTimer[] {
  const next = nextInstantOf(after);
  if (next === null) return [];
  if (before && nextInstantOf(before) === next && next > Date.parse(now)) return [];
  return [{ scheduledFor: new Date(next).toISOString() }];
}
