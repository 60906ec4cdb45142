import { describe, expect, it } from "vitest";
import { addBusinessMinutes } from "../../shared/sla/domain/business-time.js";
import { clockOf, DEFAULT_SLA_POLICY, SlaPolicyBody } from "../../shared/sla/domain/policy.js";

/** The SLA policy's schema (shared/sla/domain/policy.ts): its defaults, and each bad policy refused with the field it names. */
const { version: _version, ...defaults } = DEFAULT_SLA_POLICY;
const clone = (): Record<string, any> => structuredClone(defaults);
const issuesOf = (body: unknown) => {
  const parsed = SlaPolicyBody.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join("."));
};

describe("the SLA policy", () => {
  it("ships defaults that are a valid policy, emergency around the clock and the rest in business time", () => {
    expect(SlaPolicyBody.parse(defaults)).toEqual(defaults);
    expect(clockOf(defaults, "emergency")).toEqual({ kind: "always" });
    // High: a first response within 1 business hour. Friday 16:30 UTC: 30 min that day, 30 on Monday.
    const due = addBusinessMinutes(
      clockOf(defaults, "high"),
      new Date("2026-12-04T16:30:00Z"),
      defaults.targets.high.firstResponse.minutes,
    );
    expect(due.toISOString()).toBe("2026-12-07T09:30:00.000Z");
  });

  it("refuses an unknown time zone, hours out of order or overlapping, and bad holidays, naming the field", () => {
    const zone = clone();
    zone.calendar.timeZone = "Mars/Olympus_Mons";
    expect(issuesOf(zone)).toEqual(["calendar.timeZone"]);

    const backwards = clone();
    backwards.calendar.week["1"] = [{ start: "17:00", end: "09:00" }];
    expect(issuesOf(backwards)).toEqual(["calendar.week.1.0.end"]);

    const overlapping = clone();
    overlapping.calendar.week["2"] = [
      { start: "09:00", end: "13:00" },
      { start: "12:00", end: "17:00" },
    ];
    expect(issuesOf(overlapping)).toEqual(["calendar.week.2.1.start"]);

    const malformed = clone();
    malformed.calendar.week["3"] = [{ start: "9:00", end: "25:00" }];
    expect(issuesOf(malformed)).toEqual(["calendar.week.3.0.start", "calendar.week.3.0.end"]);

    const unknownDay = clone();
    unknownDay.calendar.week["8"] = [{ start: "09:00", end: "17:00" }];
    expect(issuesOf(unknownDay)).toEqual(["calendar.week"]);

    const holidays = clone();
    holidays.calendar.holidays = ["2026-12-25", "2026-12-25"];
    expect(issuesOf(holidays)).toEqual(["calendar.holidays"]);
    holidays.calendar.holidays = ["2026-13-01"];
    expect(issuesOf(holidays)).toEqual(["calendar.holidays.0"]);
  });

  it("refuses a warning as long as its target, and business time with no working hours", () => {
    const warning = clone();
    warning.targets.high.firstResponse = { minutes: 60, warnBeforeMinutes: 60 };
    expect(issuesOf(warning)).toEqual(["targets.high.firstResponse.warnBeforeMinutes"]);

    const idle = clone();
    idle.calendar.week = {};
    expect(issuesOf(idle)).toEqual(["calendar.week"]);
    // Around the clock for every priority, a calendar without hours is fine.
    for (const p of ["emergency", "high", "normal", "low"]) idle.targets[p].clock = "always";
    expect(issuesOf(idle)).toEqual([]);
  });

  it("refuses a priority missing, a field it does not know, and a target of no minutes", () => {
    const missing = clone();
    delete missing.targets.low;
    expect(issuesOf(missing)).toEqual(["targets.low"]);
    expect(issuesOf({ ...clone(), extra: 1 })).toEqual([""]);
    const zero = clone();
    zero.targets.normal.resolution = { minutes: 0, warnBeforeMinutes: 0 };
    expect(issuesOf(zero)).toContain("targets.normal.resolution.minutes");
  });
});
