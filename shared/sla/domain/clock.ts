import * as z from "zod";
import { Priority, type Status } from "../../tickets/domain/terms.js";
import { addBusinessMinutes, businessMinutesBetween, type BusinessClock } from "./business-time.js";
import { clockOf, type SlaPolicy } from "./policy.js";

/**
 * A ticket's SLA clocks: its first-response and resolution targets, as the policy it follows
 * sets them, moved by what happens to the ticket. Pure: each function takes the state and an
 * event with its instant, and returns the new state and what it changed (warned, achieved,
 * breached), from which the caller writes timeline entries and schedules the timers.
 *
 * - Both clocks start at intake. A priority change re-targets from that start, not from now.
 * - `on_hold` pauses the resolution clock (not the first response's); its holds are kept, and
 *   the business minutes they span (under the clock in force, whichever it is now) are added
 *   back to the target.
 * - The first public reply by an agent achieves the first response. Entering `resolved`, or
 *   `closed` from anything but `resolved`, achieves the resolution, and a first response
 *   still running with it: the ticket is answered. A reopen starts a new resolution cycle.
 * - A target whose due time has passed is breached at its due time by whatever event comes
 *   next: its timer (which exists for that), or any change, should the timer be late.
 * - A warning is given by the ticket's timer once its time has come (timers.ts: one timer per
 *   ticket, at its clocks' next instant). A timer finds what is due by then, so one that comes
 *   after the clocks moved on does nothing, nor one before its time (its handler waits for it:
 *   shared/sla/timer-handler.ts).
 * - A newer policy applies from the ticket's next change: the due times it had judge whether
 *   the change came late; the newer policy re-targets what still counts.
 */

const Instant = z.iso.datetime();

export const SlaTargetState = z
  .object({
    status: z.enum(["running", "paused", "achieved", "breached"]),
    dueAt: Instant,
    warnAt: Instant.nullable(),
    achievedAt: Instant.nullable(),
    breachedAt: Instant.nullable(),
    /** When its warning was given (once per due time). */
    warnedAt: Instant.nullable(),
  })
  .meta({ id: "SlaTargetState" });
export type SlaTargetState = z.infer<typeof SlaTargetState>;

/** What the ticket keeps to move its clocks. */
export const SlaClocks = z.object({
  policyVersion: z.int().min(0),
  priority: Priority,
  firstResponse: SlaTargetState,
  resolution: SlaTargetState,
  /** The resolution cycle: 1 at intake, one more at each reopen. */
  cycle: z.int().min(1),
  /** When each target's clock started (intake; a reopen for the resolution). */
  startedAt: z.object({ firstResponse: Instant, resolution: Instant }),
  /** This resolution cycle's holds; the last is open (`to` null) while the ticket is on hold. */
  holds: z.array(z.object({ from: Instant, to: Instant.nullable() })),
});
export type SlaClocks = z.infer<typeof SlaClocks>;

export const SlaTargetName = z.enum(["firstResponse", "resolution"]);
export type SlaTargetName = z.infer<typeof SlaTargetName>;
const TARGETS = SlaTargetName.options;

export type SlaEvent =
  | { kind: "priority"; priority: Priority }
  | { kind: "public_agent_reply" }
  | { kind: "status"; from: Status; to: Status }
  /** Any other change: it only lets a newer policy in, and catches a breach whose timer is late. */
  | { kind: "other" }
  /** The ticket's timer: whatever warning or breach is due by now. */
  | { kind: "timer" };

/** What an event did to a target: the caller tells the timeline. */
export interface SlaOutcome {
  target: SlaTargetName;
  outcome: "warned" | "achieved" | "breached";
  at: string;
}

const ms = (instant: string) => Date.parse(instant);
const iso = (t: number | Date) => new Date(t).toISOString();

/** The business minutes the cycle's holds span, an open one up to `until`. */
const heldMinutes = (c: SlaClocks, clock: BusinessClock, until: string) =>
  c.holds.reduce((sum, h) => sum + businessMinutesBetween(clock, new Date(h.from), new Date(h.to ?? until)), 0);

/** A target's due and warning instants under `policy`, its holds added back (an open one: up to when it began). */
function timesOf(c: SlaClocks, policy: SlaPolicy, name: SlaTargetName): { dueAt: string; warnAt: string | null } {
  const clock = clockOf(policy, c.priority);
  const { minutes, warnBeforeMinutes } = policy.targets[c.priority][name];
  const open = c.holds.at(-1);
  const held = name === "resolution" ? heldMinutes(c, clock, open && open.to === null ? open.from : c.startedAt.resolution) : 0;
  const start = new Date(c.startedAt[name]);
  return {
    dueAt: iso(addBusinessMinutes(clock, start, minutes + held)),
    warnAt: warnBeforeMinutes > 0 ? iso(addBusinessMinutes(clock, start, minutes - warnBeforeMinutes + held)) : null,
  };
}

const fresh = (times: { dueAt: string; warnAt: string | null }): SlaTargetState => ({
  status: "running",
  ...times,
  achievedAt: null,
  breachedAt: null,
  warnedAt: null,
});

/** The clocks of a ticket opened at `at` with `priority`. */
export function startClocks(policy: SlaPolicy, priority: Priority, at: string): SlaClocks {
  const c: SlaClocks = {
    policyVersion: policy.version,
    priority,
    firstResponse: fresh({ dueAt: at, warnAt: null }),
    resolution: fresh({ dueAt: at, warnAt: null }),
    cycle: 1,
    startedAt: { firstResponse: at, resolution: at },
    holds: [],
  };
  return { ...c, firstResponse: fresh(timesOf(c, policy, "firstResponse")), resolution: fresh(timesOf(c, policy, "resolution")) };
}

/**
 * New due times for the targets that still count, under `policy` (the ticket then follows it).
 * A warning given stays given when only a hold moved the times (`keepWarnings`): the lead time
 * is the same; a new priority or policy that moves the warning time warns again.
 */
function retarget(c: SlaClocks, policy: SlaPolicy, keepWarnings = false): SlaClocks {
  const next = { ...c, policyVersion: policy.version };
  for (const name of TARGETS) {
    const target = c[name];
    if (target.status === "achieved" || target.status === "breached") continue;
    const times = timesOf(c, policy, name);
    const warnedAt = keepWarnings || times.warnAt === target.warnAt ? target.warnedAt : null;
    next[name] = { ...target, ...times, warnedAt };
  }
  return next;
}

/**
 * Breaches, at their due time, the targets whose due time has passed: a running one by `now`,
 * a paused one by when its hold began (it was late before the hold).
 */
function breachOverdue(c: SlaClocks, now: string, out: SlaOutcome[]): SlaClocks {
  let next = c;
  for (const name of TARGETS) {
    const target = next[name];
    const by = target.status === "running" ? now : target.status === "paused" ? next.holds.at(-1)?.from : undefined;
    if (by === undefined || ms(target.dueAt) > ms(by)) continue;
    next = { ...next, [name]: { ...target, status: "breached", breachedAt: target.dueAt } };
    out.push({ target: name, outcome: "breached", at: now });
  }
  return next;
}

const achieve = (c: SlaClocks, name: SlaTargetName, now: string, out: SlaOutcome[]): SlaClocks => {
  const target = c[name];
  if (target.status !== "running" && target.status !== "paused") return c;
  out.push({ target: name, outcome: "achieved", at: now });
  return { ...c, [name]: { ...target, status: "achieved", achievedAt: now } };
};

/**
 * The clocks after `event` at `now` (ISO), with what it warned, achieved or breached. `policy`
 * is the one in force (never older than the ticket's: the writer sees to it); the ticket
 * follows it from this event on.
 */
export function moveClocks(
  clocks: SlaClocks,
  event: SlaEvent,
  now: string,
  policy: SlaPolicy,
): { clocks: SlaClocks; outcomes: SlaOutcome[] } {
  const out: SlaOutcome[] = [];
  // First what came due before this event, by the times the ticket had.
  let c = breachOverdue(clocks, now, out);
  switch (event.kind) {
    case "priority":
      if (event.priority !== c.priority) c = breachOverdue(retarget({ ...c, priority: event.priority }, policy), now, out);
      break;
    case "public_agent_reply":
      c = achieve(c, "firstResponse", now, out);
      break;
    case "status":
      c = onStatus(c, event.from, event.to, now, policy, out);
      break;
    case "timer":
      for (const name of TARGETS) {
        const target = c[name];
        if (target.status !== "running" || target.warnAt === null || target.warnedAt !== null || ms(target.warnAt) > ms(now)) continue;
        c = { ...c, [name]: { ...target, warnedAt: now } };
        out.push({ target: name, outcome: "warned", at: now });
      }
      break;
    case "other":
      break;
  }
  if (policy.version > c.policyVersion && event.kind !== "timer") c = breachOverdue(retarget(c, policy), now, out);
  return { clocks: c, outcomes: out };
}

function onStatus(c: SlaClocks, from: Status, to: Status, now: string, policy: SlaPolicy, out: SlaOutcome[]): SlaClocks {
  const done = (s: Status) => s === "resolved" || s === "closed";
  if (done(from) && !done(to)) {
    // A reopen: a new resolution cycle from now; the first response stays as it was.
    const onHold = to === "on_hold";
    const reopened: SlaClocks = {
      ...c,
      cycle: c.cycle + 1,
      startedAt: { ...c.startedAt, resolution: now },
      holds: onHold ? [{ from: now, to: null }] : [],
    };
    const resolution = fresh(timesOf(reopened, policy, "resolution"));
    return { ...reopened, resolution: onHold ? { ...resolution, status: "paused" } : resolution };
  }
  let next = c;
  const open = next.holds.at(-1);
  if (from === "on_hold" && to !== "on_hold" && open && open.to === null) {
    // Resumed: the hold closes, and what it spanned is added back to the due time.
    next = { ...next, holds: [...next.holds.slice(0, -1), { ...open, to: now }] };
    if (next.resolution.status === "paused") next = { ...next, resolution: { ...next.resolution, status: "running" } };
    // Only the hold moved the times, under the same policy: a warning given stays given.
    next = breachOverdue(retarget(next, policy, policy.version === next.policyVersion), now, out);
  }
  if (to === "on_hold" && from !== "on_hold" && next.resolution.status === "running") {
    next = { ...next, holds: [...next.holds, { from: now, to: null }], resolution: { ...next.resolution, status: "paused" } };
  }
  if (to === "resolved" || (to === "closed" && from !== "resolved")) {
    next = achieve(achieve(next, "resolution", now, out), "firstResponse", now, out);
  }
  return next;
}

/** What agents see of a target: its state, without the clock's own bookkeeping. */
export const SlaTargetView = SlaTargetState.omit({ warnedAt: true }).meta({ id: "SlaClock" });

/** What agents see of a ticket's clocks (requesters see none: an SLA is the help desk's own). */
export const SlaView = z
  .object({ policyVersion: z.int().min(0), firstResponse: SlaTargetView, resolution: SlaTargetView })
  .meta({ id: "Sla" });
export type SlaView = z.infer<typeof SlaView>;

export function slaViewOf(c: SlaClocks): SlaView {
  const view = ({ warnedAt: _w, ...target }: SlaTargetState) => target;
  return { policyVersion: c.policyVersion, firstResponse: view(c.firstResponse), resolution: view(c.resolution) };
}

/**
 * Where a ticket's SLA clocks stand, as its `sla` has them (clocks move at each change and at
 * their timers: a target past its due time counts as breached once its breach is recorded).
 * One of these, or none, per ticket, looking at both targets (first response, resolution):
 *
 * - `breached`: a target is breached.
 * - `warning`: none is breached, and a running target has had its warning.
 * - `running`: none is breached, no running target has had its warning, and a target is
 *   running or paused.
 *
 * A ticket whose targets are both achieved, or that has no clocks (opened before they
 * existed, until its next change), is none of them.
 */
export const SLA_STATES = ["breached", "warning", "running"] as const;
export type SlaState = (typeof SLA_STATES)[number];

export function slaStateOf(c: SlaClocks | undefined): SlaState | "none" {
  if (!c) return "none";
  const targets = [c.firstResponse, c.resolution];
  if (targets.some((t) => t.status === "breached")) return "breached";
  if (targets.some((t) => t.status === "running" && t.warnedAt !== null)) return "warning";
  if (targets.some((t) => t.status === "running" || t.status === "paused")) return "running";
  return "none";
}

/** The next due time (epoch ms): the earliest of the running targets' (a paused, achieved or breached one has none). */
export function nextDueOf(c: SlaClocks | undefined): number | null {
  const due = [c?.firstResponse, c?.resolution].flatMap((t) => (t?.status === "running" ? [Date.parse(t.dueAt)] : []));
  return due.length ? Math.min(...due) : null;
}
