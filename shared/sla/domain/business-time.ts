import { DateTime } from "luxon";

/**
 * Business time: the minutes an SLA target counts, either around the clock or within a
 * calendar's working hours in its own time zone. Time zones and daylight saving are
 * Luxon's (the IANA database through Intl): a working day is built from its local wall-clock
 * hours, and a business minute is a real minute inside one of them, so a window that a
 * clock change shortens or lengthens counts what really elapsed.
 */

/** ISO weekdays: 1 is Monday, 7 is Sunday. */
export type Weekday = 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** Local wall-clock hours, "HH:mm"; an end may be "24:00" (midnight that ends the day). */
export interface WorkingHours {
  start: string;
  end: string;
}

export interface Calendar {
  /** An IANA time zone, such as "Europe/Paris". */
  timeZone: string;
  /** Each weekday's working hours, in order and apart; a day without any is not worked. */
  week: Partial<Record<Weekday, WorkingHours[]>>;
  /** Local dates ("YYYY-MM-DD") that are not worked, whatever their weekday. */
  holidays: string[];
}

/** How a target's minutes are counted. */
export type BusinessClock = { kind: "always" } | { kind: "calendar"; calendar: Calendar };

/** A calendar that works no day for this long finds no time at all: a policy error, not a loop. */
const SEARCH_DAYS = 3 * 366;

/** The instant a local "HH:mm" ("24:00": the next midnight) falls on, on `day` in the calendar's zone. */
function at(day: DateTime, hhmm: string): DateTime {
  const [hour, minute] = hhmm.split(":").map(Number) as [number, number];
  // Luxon moves a wall-clock time that a spring-forward skips to just after the gap.
  return hour === 24 ? day.plus({ days: 1 }).startOf("day") : day.set({ hour, minute, second: 0, millisecond: 0 });
}

/** One day's working windows as instants, in order. */
function windowsOf(calendar: Calendar, day: DateTime): [start: number, end: number][] {
  if (calendar.holidays.includes(day.toISODate()!)) return [];
  return (calendar.week[day.weekday as Weekday] ?? []).map(({ start, end }) => [at(day, start).toMillis(), at(day, end).toMillis()]);
}

/** The working windows that end after `from`, day by day, from the local day `from` falls on. */
function* windowsFrom(calendar: Calendar, from: Date): Generator<[number, number]> {
  let day = DateTime.fromJSDate(from, { zone: calendar.timeZone }).startOf("day");
  for (let i = 0; i < SEARCH_DAYS; i++, day = day.plus({ days: 1 })) {
    for (const window of windowsOf(calendar, day)) if (window[1] > from.getTime()) yield window;
  }
  throw new Error(`The calendar (${calendar.timeZone}) has no working time in ${SEARCH_DAYS} days.`);
}

const MINUTE_MS = 60_000;

/**
 * The instant `minutes` of business time after `from`. A start outside working hours counts
 * from the next working window; a target that ends exactly at a window's end ends there
 * (closing time), not at the next opening.
 */
export function addBusinessMinutes(clock: BusinessClock, from: Date, minutes: number): Date {
  if (clock.kind === "always") return new Date(from.getTime() + minutes * MINUTE_MS);
  let left = minutes * MINUTE_MS;
  for (const [start, end] of windowsFrom(clock.calendar, from)) {
    const begin = Math.max(start, from.getTime());
    if (begin + left <= end) return new Date(begin + left);
    left -= end - begin;
  }
  throw new Error("unreachable: windowsFrom ends by throwing");
}

/** The business minutes between two instants (0 if `to` is not after `from`): what a pause adds back. */
export function businessMinutesBetween(clock: BusinessClock, from: Date, to: Date): number {
  if (to <= from) return 0;
  if (clock.kind === "always") return (to.getTime() - from.getTime()) / MINUTE_MS;
  let counted = 0;
  for (const [start, end] of windowsFrom(clock.calendar, from)) {
    if (start >= to.getTime()) break;
    counted += Math.min(end, to.getTime()) - Math.max(start, from.getTime());
  }
  return counted / MINUTE_MS;
}

/** Whether a name is a time zone the IANA database (as Intl knows it) has. */
export const isTimeZone = (name: string): boolean => DateTime.local().setZone(name).isValid;
