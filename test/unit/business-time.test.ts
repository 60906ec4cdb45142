import { describe, expect, it } from "vitest";
import {
  addBusinessMinutes,
  businessMinutesBetween,
  isTimeZone,
  type BusinessClock,
  type Calendar,
} from "../../shared/sla/domain/business-time.js";

/**
 * Business-time arithmetic (shared/sla/domain/business-time.ts): weekends, holidays, clock
 * changes both ways in two zones, pauses over non-working time, a target ending at closing.
 * Instants are written in UTC (`Z`) with their local time beside them, so each expectation
 * says which offset applied.
 */
const officeHours = (timeZone: string, holidays: string[] = []): BusinessClock => {
  const day = [{ start: "09:00", end: "17:00" }];
  const calendar: Calendar = { timeZone, week: { 1: day, 2: day, 3: day, 4: day, 5: day }, holidays };
  return { kind: "calendar", calendar };
};
const allDay = (timeZone: string): BusinessClock => {
  const day = [{ start: "00:00", end: "24:00" }];
  return { kind: "calendar", calendar: { timeZone, week: { 1: day, 2: day, 3: day, 4: day, 5: day, 6: day, 7: day }, holidays: [] } };
};
const iso = (d: Date) => d.toISOString().replace(".000", "");
const add = (clock: BusinessClock, from: string, minutes: number) => iso(addBusinessMinutes(clock, new Date(from), minutes));

describe("business time", () => {
  const paris = officeHours("Europe/Paris");
  const newYork = officeHours("America/New_York");

  it("counts around the clock as plain minutes", () => {
    expect(add({ kind: "always" }, "2026-12-05T23:50:00Z", 15)).toBe("2026-12-06T00:05:00Z");
    expect(businessMinutesBetween({ kind: "always" }, new Date("2026-12-05T10:00:00Z"), new Date("2026-12-05T12:30:00Z"))).toBe(150);
  });

  it("skips the weekend, and a start outside working hours counts from the next opening", () => {
    // Friday 16:00 in Paris (UTC+1) + 2 h: 1 h on Friday, 1 h on Monday from 09:00.
    expect(add(paris, "2026-12-04T15:00:00Z", 120)).toBe("2026-12-07T09:00:00Z"); // Mon 10:00 local
    // Saturday noon: nothing counts until Monday 09:00.
    expect(add(paris, "2026-12-05T11:00:00Z", 30)).toBe("2026-12-07T08:30:00Z"); // Mon 09:30 local
    // Before opening on a weekday: from 09:00 that day.
    expect(add(newYork, "2026-12-07T11:00:00Z", 60)).toBe("2026-12-07T15:00:00Z"); // Mon 10:00 EST (UTC-5)
  });

  it("ends exactly at closing time, not at the next opening", () => {
    expect(add(paris, "2026-12-07T08:00:00Z", 480)).toBe("2026-12-07T16:00:00Z"); // Mon 09:00 + 8 h = Mon 17:00 local
    expect(add(paris, "2026-12-07T08:00:00Z", 481)).toBe("2026-12-08T08:01:00Z"); // one minute more: Tue 09:01
  });

  it("skips holidays", () => {
    const withChristmas = officeHours("Europe/Paris", ["2026-12-24", "2026-12-25"]);
    // Wednesday 23 December 16:30 + 1 h: 30 min that day, then Thursday and Friday are holidays: Monday 09:30.
    expect(add(withChristmas, "2026-12-23T15:30:00Z", 60)).toBe("2026-12-28T08:30:00Z");
  });

  it("follows daylight saving changes in both directions, in Paris and in New York", () => {
    // Paris springs forward on Sunday 29 March 2026: Friday is UTC+1, Monday UTC+2.
    expect(add(paris, "2026-03-27T15:00:00Z", 120)).toBe("2026-03-30T08:00:00Z"); // Mon 10:00 CEST
    // Paris falls back on Sunday 25 October 2026: Friday UTC+2, Monday UTC+1.
    expect(add(paris, "2026-10-23T14:00:00Z", 120)).toBe("2026-10-26T09:00:00Z"); // Mon 10:00 CET
    // New York springs forward on Sunday 8 March 2026 (UTC-5 to UTC-4) and falls back on 1 November (UTC-4 to UTC-5).
    expect(add(newYork, "2026-03-06T21:00:00Z", 120)).toBe("2026-03-09T14:00:00Z"); // Fri 16:00 EST → Mon 10:00 EDT
    expect(add(newYork, "2026-10-30T20:00:00Z", 120)).toBe("2026-11-02T15:00:00Z"); // Fri 16:00 EDT → Mon 10:00 EST
  });

  it("counts the real minutes of a working day that a clock change shortens or lengthens", () => {
    // Working all day every day: the spring-forward Sunday has 23 hours, the fall-back one 25.
    expect(businessMinutesBetween(allDay("Europe/Paris"), new Date("2026-03-28T23:00:00Z"), new Date("2026-03-29T22:00:00Z"))).toBe(
      23 * 60,
    );
    expect(add(allDay("Europe/Paris"), "2026-03-28T23:00:00Z", 24 * 60)).toBe("2026-03-29T23:00:00Z"); // Monday 01:00 local
    expect(businessMinutesBetween(allDay("America/New_York"), new Date("2026-11-01T04:00:00Z"), new Date("2026-11-02T05:00:00Z"))).toBe(
      25 * 60,
    );
  });

  it("holds only the time that exists when a window's edge falls in a spring-forward gap", () => {
    const day = (hours: { start: string; end: string }[], timeZone: string): BusinessClock => ({
      kind: "calendar",
      calendar: { timeZone, week: { 7: hours }, holidays: [] },
    });
    // Paris, Sunday 29 March 2026: 02:00-03:00 does not exist. 00:00-02:30 is 2 real hours, 03:00-24:00 is 21.
    const split = day(
      [
        { start: "00:00", end: "02:30" },
        { start: "03:00", end: "24:00" },
      ],
      "Europe/Paris",
    );
    expect(businessMinutesBetween(split, new Date("2026-03-28T23:00:00Z"), new Date("2026-03-29T22:00:00Z"))).toBe(23 * 60);
    expect(add(split, "2026-03-28T23:00:00Z", 23 * 60)).toBe("2026-03-29T22:00:00Z"); // midnight that ends the day
    // New York, Sunday 8 March 2026: a window wholly inside the gap holds nothing.
    const gap = day(
      [
        { start: "02:00", end: "02:30" },
        { start: "09:00", end: "10:00" },
      ],
      "America/New_York",
    );
    expect(businessMinutesBetween(gap, new Date("2026-03-08T05:00:00Z"), new Date("2026-03-08T20:00:00Z"))).toBe(60);
  });

  it("finds a target years of working days away, and only gives up after years without any", () => {
    // 400,000 business minutes of 9-17 weekdays: about three years and two months.
    expect(add(paris, "2026-12-07T08:00:00Z", 400_000).slice(0, 4)).toBe("2030");
  });

  it("counts a pause only over working time: a pause from Friday afternoon to Monday morning is two hours", () => {
    expect(businessMinutesBetween(paris, new Date("2026-12-04T15:00:00Z"), new Date("2026-12-07T09:00:00Z"))).toBe(120);
    // Entirely outside working hours: nothing.
    expect(businessMinutesBetween(paris, new Date("2026-12-05T08:00:00Z"), new Date("2026-12-06T20:00:00Z"))).toBe(0);
    // Backwards: nothing.
    expect(businessMinutesBetween(paris, new Date("2026-12-07T10:00:00Z"), new Date("2026-12-07T09:00:00Z"))).toBe(0);
  });

  it("refuses a calendar that never works, rather than searching forever", () => {
    const never: BusinessClock = { kind: "calendar", calendar: { timeZone: "Europe/Paris", week: {}, holidays: [] } };
    expect(() => addBusinessMinutes(never, new Date("2026-12-07T08:00:00Z"), 60)).toThrow(/no working time/);
  });

  it("counts every real minute of a day whose midnight comes twice (the Azores set clocks back from 01:00 to 00:00)", () => {
    // Saturday 23:00 to Sunday 01:00 local, summer time then winter: three real hours, all worked.
    expect(businessMinutesBetween(allDay("Atlantic/Azores"), new Date("2026-10-24T23:00:00Z"), new Date("2026-10-25T02:00:00Z"))).toBe(180);
  });

  it("answers the same from the days it keeps as from days worked out afresh, in any order, across clock changes", () => {
    // Calendar objects that answer every call (their days kept, in whatever order the calls
    // come), three per zone that differ in their holidays and hours; against a copy, new for
    // each call, that works each day out again. Instants over two years, shuffled; zones whose
    // clocks skip midnight (Santiago) or repeat it (Azores, Havana), with a window from 00:30.
    const copy = (clock: BusinessClock): BusinessClock => structuredClone(clock);
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (const zone of ["Europe/Paris", "America/Santiago", "Australia/Lord_Howe", "Atlantic/Azores", "America/Havana"]) {
      const early = [{ start: "00:30", end: "08:00" }];
      const nights: BusinessClock = { kind: "calendar", calendar: { timeZone: zone, week: { 6: early, 7: early }, holidays: [] } };
      const kept = [officeHours(zone, ["2026-12-25", "2027-01-01"]), allDay(zone), nights];
      for (let i = 0; i < 600; i++) {
        const clock = kept[i % kept.length]!;
        const from = new Date(Date.UTC(2026, 0, 1) + Math.floor(random() * 730 * 86_400_000));
        const minutes = Math.floor(random() * 3000);
        const to = new Date(from.getTime() + minutes * 180_000);
        const at = `${zone} ${from.toISOString()} + ${minutes}`;
        expect(iso(addBusinessMinutes(clock, from, minutes)), at).toBe(iso(addBusinessMinutes(copy(clock), from, minutes)));
        expect(businessMinutesBetween(clock, from, to), at).toBe(businessMinutesBetween(copy(clock), from, to));
      }
    }
    // About 20 s of Luxon alone on two cores, longer beside the rest of the suite: its own budget.
  }, 120_000);

  it("tells a time zone from a name that is none", () => {
    expect(isTimeZone("Europe/Paris")).toBe(true);
    expect(isTimeZone("America/Sao_Paulo")).toBe(true);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
    // Luxon's own names are not IANA zones: "local" would make due times depend on the host.
    for (const name of ["local", "system", "default", "UTC+5"]) expect(isTimeZone(name)).toBe(false);
  });
});
