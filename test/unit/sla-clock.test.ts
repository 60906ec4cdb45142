import { describe, expect, it } from "vitest";
import { moveClocks, startClocks, type SlaClocks, type SlaEvent } from "../../shared/sla/domain/clock.js";
import { DEFAULT_SLA_POLICY, type SlaPolicy } from "../../shared/sla/domain/policy.js";

/**
 * A ticket's SLA clocks (shared/sla/domain/clock.ts) under the default policy: UTC, Monday to
 * Friday 09:00-17:00; normal is 4 business hours to a first response (warned 30 min before)
 * and 3 business days to resolution (warned 2 h before); emergency 15 min and 4 h around the clock.
 */
const policy = DEFAULT_SLA_POLICY;
const MON = "2026-12-07";
const at = (day: string, hhmm: string) => `${day}T${hhmm}:00.000Z`;
const move = (c: SlaClocks, event: SlaEvent, now: string, p: SlaPolicy = policy) => moveClocks(c, event, now, p);

describe("SLA clocks", () => {
  it("start at intake with both targets due by the priority's minutes, in business time", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    expect(c.firstResponse).toEqual({
      status: "running",
      dueAt: at(MON, "13:00"),
      warnAt: at(MON, "12:30"),
      achievedAt: null,
      breachedAt: null,
    });
    // 3 business days from Monday 09:00 end exactly at Wednesday's closing.
    expect(c.resolution).toMatchObject({ status: "running", dueAt: at("2026-12-09", "17:00"), warnAt: at("2026-12-09", "15:00") });
    expect(c.policyVersion).toBe(0);
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

  it("achieve the first response on the first public agent reply, once", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const replied = move(c, { kind: "public_agent_reply" }, at(MON, "10:00"));
    expect(replied.clocks.firstResponse).toMatchObject({ status: "achieved", achievedAt: at(MON, "10:00") });
    expect(replied.outcomes).toEqual([{ target: "firstResponse", outcome: "achieved", at: at(MON, "10:00") }]);
    expect(move(replied.clocks, { kind: "public_agent_reply" }, at(MON, "11:00")).outcomes).toEqual([]);
  });

  it("pause the resolution on hold (not the first response) and add the paused business time back", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const held = move(c, { kind: "status", from: "open", to: "on_hold" }, at(MON, "10:00")).clocks;
    expect(held.resolution.status).toBe("paused");
    expect(held.firstResponse.status).toBe("running");
    // Held until Tuesday 10:00: 7 business hours on Monday and 1 on Tuesday, 8 in all.
    const resumed = move(held, { kind: "status", from: "on_hold", to: "in_progress" }, at("2026-12-08", "10:00")).clocks;
    expect(resumed.pausedMinutes).toBe(480);
    expect(resumed.resolution).toMatchObject({ status: "running", dueAt: at("2026-12-10", "17:00") });
  });

  it("achieve the resolution on resolved, not again on closing, and start a new cycle on a reopen", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const resolved = move(c, { kind: "status", from: "in_progress", to: "resolved" }, at(MON, "15:00"));
    expect(resolved.clocks.resolution).toMatchObject({ status: "achieved", achievedAt: at(MON, "15:00") });
    expect(resolved.outcomes).toEqual([{ target: "resolution", outcome: "achieved", at: at(MON, "15:00") }]);
    expect(move(resolved.clocks, { kind: "status", from: "resolved", to: "closed" }, at(MON, "16:00")).outcomes).toEqual([]);
    const reopened = move(resolved.clocks, { kind: "status", from: "resolved", to: "open" }, at("2026-12-08", "09:00")).clocks;
    expect(reopened.cycle).toBe(2);
    expect(reopened.resolution).toMatchObject({ status: "running", dueAt: at("2026-12-10", "17:00") });
    // Closing straight from open achieves it too.
    expect(move(reopened, { kind: "status", from: "open", to: "closed" }, at("2026-12-08", "10:00")).clocks.resolution.status).toBe(
      "achieved",
    );
  });

  it("breach on a timer of the current due time and cycle; a stale timer does nothing", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const breach = (target: "firstResponse" | "resolution", dueAt: string, cycle = 1): SlaEvent => ({
      kind: "timer",
      target,
      timer: "breach",
      cycle,
      at: dueAt,
    });
    const breached = move(c, breach("firstResponse", at(MON, "13:00")), at(MON, "13:00"));
    expect(breached.clocks.firstResponse).toMatchObject({ status: "breached", breachedAt: at(MON, "13:00") });
    expect(breached.outcomes).toEqual([{ target: "firstResponse", outcome: "breached", at: at(MON, "13:00") }]);
    // Re-targeted to emergency meanwhile: the old timer is stale.
    const moved = move(c, { kind: "priority", priority: "emergency" }, at(MON, "09:05")).clocks;
    expect(move(moved, breach("firstResponse", at(MON, "13:00")), at(MON, "13:00")).outcomes).toEqual([]);
    // Achieved already: nothing. Another cycle: nothing.
    const replied = move(c, { kind: "public_agent_reply" }, at(MON, "10:00")).clocks;
    expect(move(replied, breach("firstResponse", at(MON, "13:00")), at(MON, "13:00")).outcomes).toEqual([]);
    expect(move(c, breach("resolution", c.resolution.dueAt, 2), c.resolution.dueAt).outcomes).toEqual([]);
    // A warning timer warns, and changes nothing.
    const warned = move(c, { kind: "timer", target: "firstResponse", timer: "warning", cycle: 1, at: at(MON, "12:30") }, at(MON, "12:30"));
    expect(warned.outcomes).toEqual([{ target: "firstResponse", outcome: "warned", at: at(MON, "12:30") }]);
    expect(warned.clocks).toEqual(c);
  });

  it("follow a newer policy from the ticket's next change, recording its version", () => {
    const c = startClocks(policy, "normal", at(MON, "09:00"));
    const stricter: SlaPolicy = {
      ...policy,
      version: 1,
      targets: { ...policy.targets, normal: { ...policy.targets.normal, firstResponse: { minutes: 60, warnBeforeMinutes: 10 } } },
    };
    const next = move(c, { kind: "public_agent_reply" }, at(MON, "09:30"), stricter).clocks;
    expect(next.policyVersion).toBe(1);
    expect(next.firstResponse).toMatchObject({ status: "achieved", dueAt: at(MON, "10:00") });
  });
});
