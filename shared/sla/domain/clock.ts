import { z } from "zod";
import type { Priority, Status } from "../../tickets/domain/model.js";
import { addBusinessMinutes, businessMinutesBetween } from "./business-time.js";
import { clockOf, type SlaPolicy } from "./policy.js";

/**
 * A ticket's SLA clocks: its first-response and resolution targets, as the policy it follows
 * sets them, moved by what happens to the ticket. Pure: each function takes the state and an
 * event with its instant, and returns the new state and what it changed (achieved, breached),
 * from which the caller writes timeline entries and schedules the timers.
 *
 * - Both clocks start at intake. A priority change re-targets from that start, not from now.
 * - `on_hold` pauses the resolution clock (not the first response's); leaving it adds the
 *   business minutes it was paused back to the target.
 * - The first public reply by an agent achieves the first response; entering `resolved`, or
 *   `closed` from anything but `resolved`, achieves the resolution. A reopen starts a new
 *   resolution cycle from then.
 * - A target is breached when its timer arrives while it still runs with that due time; a
 *   re-target whose due time has passed breaches it at once. A timer of a cycle or due time
 *   that moved on does nothing.
 */

export const SlaTargetState = z
  .object({
    status: z.enum(["running", "paused", "achieved", "breached"]),
    dueAt: z.iso.datetime(),
    warnAt: z.iso.datetime().nullable(),
    achievedAt: z.iso.datetime().nullable(),
    breachedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: "SlaTargetState" });
export type SlaTargetState = z.infer<typeof SlaTargetState>;

/** What the ticket keeps to move its clocks: the agents' view plus where each cycle started. */
export const SlaClocks = z.object({
  policyVersion: z.int().min(0),
  priority: z.string(),
  firstResponse: SlaTargetState,
  resolution: SlaTargetState,
  /** The resolution cycle: 1 at intake, one more at each reopen. */
  cycle: z.int().min(1),
  /** When each target's clock started (intake; a reopen for the resolution). */
  startedAt: z.object({ firstResponse: z.iso.datetime(), resolution: z.iso.datetime() }),
  /** Business minutes the resolution clock spent paused in this cycle, and since when it is paused. */
  pausedMinutes: z.number().min(0),
  pausedSince: z.iso.datetime().nullable(),
});
export type SlaClocks = z.infer<typeof SlaClocks>;

export type SlaTargetName = "firstResponse" | "resolution";

export type SlaEvent =
  | { kind: "priority"; priority: Priority }
  | { kind: "public_agent_reply" }
  | { kind: "status"; from: Status; to: Status }
  | { kind: "policy"; policy: SlaPolicy }
  | { kind: "timer"; target: SlaTargetName; timer: "warning" | "breach"; cycle: number; at: string };

/** What an event did to a target: the caller tells the timeline. */
export interface SlaOutcome {
  target: SlaTargetName;
  outcome: "warned" | "achieved" | "breached";
  at: string;
}

const iso = (d: Date) => d.toISOString();

/** Due and warning instants of a target that runs (or is paused) from `startedAt`. */
function targetTimes(policy: SlaPolicy, priority: Priority, name: SlaTargetName, startedAt: string, pausedMinutes: number) {
  const clock = clockOf(policy, priority);
  const { minutes, warnBeforeMinutes } = policy.targets[priority][name];
  const start = new Date(startedAt);
  const dueAt = iso(addBusinessMinutes(clock, start, minutes + pausedMinutes));
  const warnAt = warnBeforeMinutes > 0 ? iso(addBusinessMinutes(clock, start, minutes - warnBeforeMinutes + pausedMinutes)) : null;
  return { dueAt, warnAt };
}

const running = (times: { dueAt: string; warnAt: string | null }): SlaTargetState => ({
  status: "running",
  ...times,
  achievedAt: null,
  breachedAt: null,
});

/** The clocks of a ticket opened at `at` with `priority`. */
export function startClocks(policy: SlaPolicy, priority: Priority, at: string): SlaClocks {
  return {
    policyVersion: policy.version,
    priority,
    firstResponse: running(targetTimes(policy, priority, "firstResponse", at, 0)),
    resolution: running(targetTimes(policy, priority, "resolution", at, 0)),
    cycle: 1,
    startedAt: { firstResponse: at, resolution: at },
    pausedMinutes: 0,
    pausedSince: null,
  };
}

/** A target that still counts takes its new times; one whose new due time has passed is breached there. */
function retarget(
  state: SlaTargetState,
  times: { dueAt: string; warnAt: string | null },
  now: string,
  name: SlaTargetName,
  out: SlaOutcome[],
) {
  if (state.status === "achieved" || state.status === "breached") return state;
  if (state.status === "running" && times.dueAt <= now) {
    out.push({ target: name, outcome: "breached", at: now });
    return { ...state, ...times, status: "breached" as const, breachedAt: times.dueAt };
  }
  return { ...state, ...times };
}

/**
 * The clocks after `event` at `now` (ISO), under `policy` (the one the ticket follows, or a
 * newer one, which it follows from this change on), with what the event achieved or breached.
 */
export function moveClocks(
  clocks: SlaClocks,
  event: SlaEvent,
  now: string,
  policy: SlaPolicy,
): { clocks: SlaClocks; outcomes: SlaOutcome[] } {
  const out: SlaOutcome[] = [];
  let next: SlaClocks = clocks;
  const retargetAll = (c: SlaClocks, priority: Priority, p: SlaPolicy): SlaClocks => ({
    ...c,
    policyVersion: p.version,
    priority,
    firstResponse: retarget(
      c.firstResponse,
      targetTimes(p, priority, "firstResponse", c.startedAt.firstResponse, 0),
      now,
      "firstResponse",
      out,
    ),
    resolution: retarget(
      c.resolution,
      targetTimes(p, priority, "resolution", c.startedAt.resolution, c.pausedMinutes),
      now,
      "resolution",
      out,
    ),
  });
  // A newer policy applies from the ticket's next change on, whatever that change is.
  if (policy.version !== clocks.policyVersion && event.kind !== "timer") next = retargetAll(next, next.priority as Priority, policy);

  switch (event.kind) {
    case "priority":
      if (event.priority !== next.priority) next = retargetAll(next, event.priority, policy);
      break;
    case "public_agent_reply":
      if (next.firstResponse.status === "running") {
        next = { ...next, firstResponse: { ...next.firstResponse, status: "achieved", achievedAt: now } };
        out.push({ target: "firstResponse", outcome: "achieved", at: now });
      }
      break;
    case "status":
      next = onStatus(next, event.from, event.to, now, policy, out);
      break;
    case "policy":
      break;
    case "timer": {
      const target = next[event.target];
      const current = event.target === "firstResponse" || event.cycle === next.cycle;
      if (!current || target.status !== "running") break;
      if (event.timer === "breach" && target.dueAt === event.at && event.at <= now) {
        next = { ...next, [event.target]: { ...target, status: "breached", breachedAt: target.dueAt } };
        out.push({ target: event.target, outcome: "breached", at: now });
      } else if (event.timer === "warning" && target.warnAt === event.at) {
        out.push({ target: event.target, outcome: "warned", at: now });
      }
      break;
    }
  }
  return { clocks: next, outcomes: out };
}

function onStatus(c: SlaClocks, from: Status, to: Status, now: string, policy: SlaPolicy, out: SlaOutcome[]): SlaClocks {
  const priority = c.priority as Priority;
  const reopened = (from === "resolved" || from === "closed") && to !== "resolved" && to !== "closed";
  if (reopened) {
    // A new resolution cycle from now; the first response stays as it was.
    const resolution = running(targetTimes(policy, priority, "resolution", now, 0));
    const onHold = to === "on_hold";
    return {
      ...c,
      cycle: c.cycle + 1,
      startedAt: { ...c.startedAt, resolution: now },
      pausedMinutes: 0,
      pausedSince: onHold ? now : null,
      resolution: onHold ? { ...resolution, status: "paused" } : resolution,
    };
  }
  let next = c;
  if (from === "on_hold" && to !== "on_hold" && next.pausedSince) {
    // Resume: the business minutes it was paused are added back to the target.
    const paused = businessMinutesBetween(clockOf(policy, priority), new Date(next.pausedSince), new Date(now));
    const pausedMinutes = next.pausedMinutes + paused;
    const times = targetTimes(policy, priority, "resolution", next.startedAt.resolution, pausedMinutes);
    const resolution = next.resolution.status === "paused" ? { ...next.resolution, ...times, status: "running" as const } : next.resolution;
    next = { ...next, pausedMinutes, pausedSince: null, resolution: retarget(resolution, times, now, "resolution", out) };
  }
  if (to === "on_hold" && from !== "on_hold" && next.resolution.status === "running") {
    next = { ...next, pausedSince: now, resolution: { ...next.resolution, status: "paused" } };
  }
  const achieves = to === "resolved" || (to === "closed" && from !== "resolved");
  if (achieves && (next.resolution.status === "running" || next.resolution.status === "paused")) {
    next = { ...next, pausedSince: null, resolution: { ...next.resolution, status: "achieved", achievedAt: now } };
    out.push({ target: "resolution", outcome: "achieved", at: now });
  }
  return next;
}
