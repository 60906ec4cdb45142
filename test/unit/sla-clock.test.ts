import { describe, expect, it } from "vitest";
import { moveClocks, startClocks, type SlaClocks, type SlaEvent } from "../../shared/sla/domain/clock.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../shared/sla/domain/policy.js";

/**
 * A ticket's SLA clocks (shared/sla/domain/clock.ts) under the default policy: UTC, Monday to
 * Friday 09:00-17:00; normal is 4 business hours to a first response (warned 30 min before)
 * and 3 business days to resolution (warned 2 h before); emergency 15 min and 4 h around the
 * clock; low 1 and 5 business days.
 */
const policy = DEFAULT_SLA_POLICY;
const MON = "2026-12-07";
const TUE = "2026-12-08";
const at = (day: string, hhmm: string) => `${day}T${hhmm}:00.000Z`;
const move = (c: SlaClocks, event: SlaEvent, now: string, p: SlaPolicy = policy) => moveClocks(c, event, now, p);
const status = (from: string, to: string) => ({ kind: "status", from, to }) as SlaEvent;
/** The ticket's timer, come at the instant a test handles it: whatever is due by then. */
const TIMER: SlaEvent = { kind: "timer" };

describe("SLA clocks", () => {
  it("start at intake with both targets due by the priority's minutes, in business time", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    expect(c.firstResponse).toEqual({
      status: "running",
      dueAt: at(MON, "13:00"),
      warnAt: at(MON, "12:30"),
      achievedAt: null,
      breachedAt: null,
      warnedAt: null,
    });
    // 3 business days from Monday 09:00 end exactly at Wednesday's closing.
    expect(c.resolution).toMatchObject({ status: "running", dueAt: at("2026-12-09", "17:00"), warnAt: at("2026-12-09", "15:00") });
  });

  it("re-target from the start on a priority change, and breach at once a due time already past", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const soon = move(c, { kind: "priority", priority: "emergency" }, at(MON, "09:10"));
    expect(soon.clocks.firstResponse).toMatchObject({ status: "running", dueAt: at(MON, "09:15") });
    expect(soon.clocks.resolution).toMatchObject({ status: "running", dueAt: at(MON, "13:00") });
    expect(soon.outcomes).toEqual([]);
    const late = move(c, { kind: "priority", priority: "emergency" }, at(MON, "09:20"));
    expect(late.clocks.firstResponse).toMatchObject({ status: "breached", breachedAt: at(MON, "09:15") });
    expect(late.outcomes).toEqual([{ target: "firstResponse", outcome: "breached", at: at(MON, "09:20") }]);
  });

  it("achieve the first response on the first public agent reply, once; a reply after the due time is a breach", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const replied = move(c, { kind: "public_agent_reply" }, at(MON, "10:00"));
    expect(replied.clocks.firstResponse).toMatchObject({ status: "achieved", achievedAt: at(MON, "10:00") });
    expect(replied.outcomes).toEqual([{ target: "firstResponse", outcome: "achieved", at: at(MON, "10:00") }]);
    expect(move(replied.clocks, { kind: "public_agent_reply" }, at(MON, "11:00")).outcomes).toEqual([]);
    // Its timer was late or lost: the reply at 13:05 finds the target missed at 13:00.
    const late = move(c, { kind: "public_agent_reply" }, at(MON, "13:05"));
    expect(late.clocks.firstResponse).toMatchObject({ status: "breached", breachedAt: at(MON, "13:00"), achievedAt: null });
  });

  it("pause the resolution on hold (not the first response) and add the paused business time back", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const held = move(c, status("open", "on_hold"), at(MON, "10:00")).clocks;
    expect(held.resolution.status).toBe("paused");
    expect(held.firstResponse.status).toBe("running");
    // Held until Tuesday 10:00: 7 business hours on Monday and 1 on Tuesday, 8 in all.
    const resumed = move(held, status("on_hold", "in_progress"), at(TUE, "10:00")).clocks;
    expect(resumed.holds).toEqual([{ from: at(MON, "10:00"), to: at(TUE, "10:00") }]);
    expect(resumed.resolution).toMatchObject({ status: "running", dueAt: at("2026-12-10", "17:00") });
  });

  it("count a hold under the clock in force: a priority change after it measures it again", () => {
    // Low, held from Friday 10:00 to Monday 10:00, then raised to emergency (around the clock).
    const c = startClocks(policy, "low", at("2026-12-04", "09:00"));
    const held = move(c, status("open", "on_hold"), at("2026-12-04", "10:00")).clocks;
    const resumed = move(held, status("on_hold", "in_progress"), at(MON, "10:00")).clocks;
    const raised = move(resumed, { kind: "priority", priority: "emergency" }, at(MON, "10:05"));
    // Emergency's 4 h from Friday 09:00, plus the 72 h held: Monday 13:00, not breached.
    expect(raised.clocks.resolution).toMatchObject({ status: "running", dueAt: at(MON, "13:00") });
  });

  it("breach a target on hold when it was due before the hold began, on any change", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    // On hold just after its first response fell due, its timer lost: the next change breaches it.
    const held = move(c, status("open", "on_hold"), at(MON, "13:30"));
    expect(held.clocks.firstResponse).toMatchObject({ status: "breached", breachedAt: at(MON, "13:00") });
    const paused = move(c, status("open", "on_hold"), at(MON, "12:00")).clocks;
    const raised = move(paused, { kind: "priority", priority: "emergency" }, at(MON, "16:00"));
    // Held since 12:00, due at 13:00 now: it was not late yet when the hold began, so it stays paused.
    expect(raised.clocks.resolution).toMatchObject({ status: "paused", dueAt: at(MON, "13:00") });
    // Held since 14:00 instead: raised to emergency, its resolution was due at 13:00, before the hold.
    const later = move(c, status("open", "on_hold"), at(MON, "14:00")).clocks;
    expect(move(later, { kind: "priority", priority: "emergency" }, at(MON, "16:00")).clocks.resolution).toMatchObject({
      status: "breached",
      breachedAt: at(MON, "13:00"),
    });
  });

  it("achieve the resolution on resolved (and a first response still running), not again on closing; a reopen starts a cycle", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const resolved = move(c, status("in_progress", "resolved"), at(MON, "12:00"));
    expect(resolved.clocks.resolution).toMatchObject({ status: "achieved", achievedAt: at(MON, "12:00") });
    expect(resolved.clocks.firstResponse).toMatchObject({ status: "achieved", achievedAt: at(MON, "12:00") });
    expect(resolved.outcomes.map((o) => `${o.target} ${o.outcome}`)).toEqual(["resolution achieved", "firstResponse achieved"]);
    expect(move(resolved.clocks, status("resolved", "closed"), at(MON, "16:00")).outcomes).toEqual([]);
    // Its first-response timer arrives after the close: nothing.
    expect(move(resolved.clocks, TIMER, at(MON, "13:00")).outcomes).toEqual([]);
    const reopened = move(resolved.clocks, status("resolved", "open"), at(TUE, "09:00")).clocks;
    expect(reopened.cycle).toBe(2);
    expect(reopened.resolution).toMatchObject({ status: "running", dueAt: at("2026-12-10", "17:00") });
    // Closing straight from open (or from on hold) achieves it too.
    expect(move(reopened, status("open", "closed"), at(TUE, "10:00")).clocks.resolution.status).toBe("achieved");
  });

  it("breach on its timer, on time or late; one before its time or of a due time that moved on does nothing", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const onTime = move(c, TIMER, at(MON, "13:00"));
    expect(onTime.clocks.firstResponse).toMatchObject({ status: "breached", breachedAt: at(MON, "13:00") });
    expect(onTime.outcomes).toEqual([{ target: "firstResponse", outcome: "breached", at: at(MON, "13:00") }]);
    // Handled 200 ms before its time (its handler waits for it: timer-handler.ts): not yet, so a
    // reply in those 200 ms still answers in time.
    const early = move(c, TIMER, "2026-12-07T12:59:59.800Z");
    expect(early.outcomes.map((o) => o.outcome)).toEqual(["warned"]); // the 12:30 warning, not yet given
    expect(early.clocks.firstResponse.status).toBe("running");
    expect(move(early.clocks, { kind: "public_agent_reply" }, "2026-12-07T12:59:59.900Z").clocks.firstResponse.status).toBe("achieved");
    // Lowered to low meanwhile (due Tuesday 09:00, warned Monday 16:00): the 13:00 timer finds nothing due.
    const lowered = move(c, { kind: "priority", priority: "low" }, at(MON, "09:05")).clocks;
    expect(move(lowered, TIMER, at(MON, "13:00")).outcomes).toEqual([]);
  });

  it("warn once per due time, when the timer comes at or after it, and again after a re-target moves it", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    // Before its time: nothing.
    expect(move(c, TIMER, at(MON, "12:29")).outcomes).toEqual([]);
    const warned = move(c, TIMER, at(MON, "12:30"));
    expect(warned.outcomes).toEqual([{ target: "firstResponse", outcome: "warned", at: at(MON, "12:30") }]);
    // Delivered twice: warned once.
    expect(move(warned.clocks, TIMER, at(MON, "12:31")).outcomes).toEqual([]);
    // Lowered to low: a first response due Tuesday 09:00, warned Monday 16:00, which warns again.
    const lowered = move(warned.clocks, { kind: "priority", priority: "low" }, at(MON, "12:40")).clocks;
    expect(lowered.firstResponse).toMatchObject({ warnAt: at(MON, "16:00"), warnedAt: null });
    expect(move(lowered, TIMER, at(MON, "16:00")).outcomes).toEqual([{ target: "firstResponse", outcome: "warned", at: at(MON, "16:00") }]);
    // The timer again at that instant: given already.
    const again = move(move(lowered, TIMER, at(MON, "16:00")).clocks, TIMER, at(MON, "16:00"));
    expect(again.outcomes).toEqual([]);
  });

  it("follow a newer policy from the ticket's next change, judging the change itself by its own; never an older one", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const stricter: SlaPolicy = {
      ...policy,
      version: 1,
      targets: { ...policy.targets, normal: { ...policy.targets.normal, firstResponse: { minutes: 30, warnBeforeMinutes: 10 } } },
    };
    // A reply at 11:00 is within version 0's 13:00: achieved, though version 1 would have had it due at 09:30.
    const replied = move(c, { kind: "public_agent_reply" }, at(MON, "11:00"), stricter).clocks;
    expect(replied.policyVersion).toBe(1);
    expect(replied.firstResponse).toMatchObject({ status: "achieved" });
    // Another change under version 1: the running resolution follows it; an older policy changes nothing.
    const other = move(c, { kind: "other" }, at(MON, "09:10"), stricter).clocks;
    expect(other.firstResponse).toMatchObject({ status: "running", dueAt: at(MON, "09:30") });
    expect(move(other, { kind: "other" }, at(MON, "09:20"), policy).clocks).toEqual(other);
  });

  it("keep a warning given when only a hold moves the times: a resume warns no second time", () => {
    const c = startClocks(policy, "emergency", at(MON, "09:00")); // resolution due 13:00, warned 12:30
    const warned = move(c, TIMER, at(MON, "12:30")).clocks;
    const held = move(warned, status("in_progress", "on_hold"), at(MON, "12:40")).clocks;
    const resumed = move(held, status("on_hold", "in_progress"), at(MON, "13:40")).clocks;
    expect(resumed.resolution).toMatchObject({
      status: "running",
      dueAt: at(MON, "14:00"),
      warnAt: at(MON, "13:30"),
      warnedAt: at(MON, "12:30"),
    });
    expect(move(resumed, TIMER, at(MON, "13:40")).outcomes).toEqual([]);
  });

  it("warn again on a resume under a newer policy that moves the warning time, as at any other change", () => {
    const targets = (warn: number) => ({
      clock: "always" as const,
      firstResponse: { minutes: 10, warnBeforeMinutes: 2 },
      resolution: { minutes: 60, warnBeforeMinutes: warn },
    });
    const v1: SlaPolicy = {
      ...policy,
      version: 1,
      targets: { emergency: targets(10), high: targets(10), normal: targets(10), low: targets(10) },
    };
    const v2: SlaPolicy = {
      ...v1,
      version: 2,
      targets: { emergency: targets(30), high: targets(30), normal: targets(30), low: targets(30) },
    };
    const min = (m: number) => new Date(Date.parse(at(MON, "10:00")) + m * 60_000).toISOString();
    let c = startClocks(v1, "normal", min(0));
    c = move(c, { kind: "public_agent_reply" }, min(1), v1).clocks;
    c = move(c, TIMER, min(50), v1).clocks; // the resolution warned at 50
    c = move(c, status("in_progress", "on_hold"), min(51), v1).clocks;
    const resumed = move(c, status("on_hold", "in_progress"), min(52), v2).clocks;
    // v2 warns 30 minutes before (due 61: the minute on hold added back): a new warning time, to give.
    expect(resumed.resolution).toMatchObject({ warnAt: min(31), warnedAt: null });
  });

  it("follow the policy that re-targets them, and take a newer one at the next change", () => {
    const v2: SlaPolicy = structuredClone({ ...policy, version: 2 });
    v2.targets.normal.firstResponse = { minutes: 600, warnBeforeMinutes: 0 };
    const c = startClocks(policy, "low", at(MON, "09:00"));
    const raised = move(c, { kind: "priority", priority: "normal" }, at(MON, "09:30"), v2).clocks;
    expect(raised).toMatchObject({ policyVersion: 2, firstResponse: { dueAt: at(TUE, "11:00") } });
    const other = move(raised, { kind: "other" }, at(MON, "09:40"), { ...v2, version: 3 }).clocks;
    expect(other.policyVersion).toBe(3);
  });
});
