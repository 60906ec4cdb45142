import { DateTime, IANAZone } from "luxon";

/**
 * Business time: the minutes an SLA target counts, either around the clock or within a
 * calendar's working hours in its own time zone. Time zones and daylight saving are
 * Luxon's (the IANA database through Intl): a working day is built from its local wall-clock
 * hours, and a business minute is a real minute inside one of them, so a window that a
 * clock change shortens or lengthens counts what really elapsed.
 */

/** ISO weekdays, as a policy's JSON names them: "1" is Monday, "7" is Sunday. */
export const WEEKDAYS = ["1", "2", "3", "4", "5", "6", "7"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

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
const IDLE_DAYS = 3 * 366;

/**
 * The instant a local "HH:mm" ("24:00": the next midnight) falls on, on `day` in the calendar's
 * zone. A time that a spring-forward skips is the instant the clocks jump (the gap's end), so
 * that a window starting or ending in the gap holds only the time that exists. (Luxon would
 * move it past the gap by the gap's length: 02:15 to 03:15.)
 */
function at(day: DateTime, hhmm: string): number {
  const [hour, minute] = hhmm.split(":").map(Number) as [number, number];
  if (hour === 24) return day.plus({ days: 1 }).startOf("day").toMillis();
  const moved = day.set({ hour, minute, second: 0, millisecond: 0 });
  if (moved.hour === hour && moved.minute === minute) return moved.toMillis();
  // In a gap: the jump lies within the gap's length before `moved`; find it by its offset change.
  const zone = day.zone;
  let lo = moved.toMillis() - (moved.offset - zone.offset(moved.toMillis() - 86_400_000)) * 60_000;
  let hi = moved.toMillis();
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (zone.offset(mid) === moved.offset) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** One day's working windows as instants, in order and apart (a clock change may have made two meet). */
function windowsOf(calendar: Calendar, day: DateTime): [start: number, end: number][] {
  if (calendar.holidays.includes(day.toISODate()!)) return [];
  const windows: [number, number][] = [];
  for (const { start, end } of calendar.week[String(day.weekday) as Weekday] ?? []) {
    const begin = Math.max(at(day, start), windows.at(-1)?.[1] ?? -Infinity);
    const finish = at(day, end);
    if (finish > begin) windows.push([begin, finish]);
  }
  return windows;
}

/** One local day of a calendar: the instant it starts, the instant the next one starts, its working windows. */
interface Day {
  start: number;
  next: number;
  windows: [start: number, end: number][];
}

/**
 * The days of each calendar worked out so far, in order of their start. Building a day takes
 * Luxon tens of microseconds (a zone's offsets, a date's weekday, each window's instants), and
 * every change of every ticket walks the same few days ahead for each of its clocks: measured
 * on creates, this was the API's largest cost of its own. Keyed by the calendar object (a
 * policy once read is never changed: a new policy is a new object), and bounded.
 */
const daysOf = new WeakMap<Calendar, Day[]>();
const KEPT_DAYS = 2 * 366;

/** The local day `instant` falls on, from the table or worked out (and kept). */
function dayAt(calendar: Calendar, instant: number): Day {
  let days = daysOf.get(calendar);
  if (!days || days.length >= KEPT_DAYS) daysOf.set(calendar, (days = []));
  // The last day that starts at or before the instant.
  let lo = 0;
  let hi = days.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (days[mid]!.start <= instant) lo = mid + 1;
    else hi = mid;
  }
  const known = days[lo - 1];
  if (known && instant < known.next) return known;
  const start = midnightOf(DateTime.fromMillis(instant, { zone: calendar.timeZone }));
  const day: Day = { start: start.toMillis(), next: midnightOf(start.plus({ days: 1 })).toMillis(), windows: windowsOf(calendar, start) };
  days.splice(lo, 0, day);
  return day;
}

/**
 * The first instant of a local date, one and the same however it is reached (from an instant of
 * that day or from the day before), so that a kept day is the one any call would have built.
 * Where the clocks skip midnight it is the first instant that exists (Luxon's); where they go
 * back over it (01:00 to 00:00), the first of the two midnights, as the day before's "24:00" is.
 */
const midnightOf = (t: DateTime): DateTime => {
  const start = DateTime.fromObject({ year: t.year, month: t.month, day: t.day }, { zone: t.zone });
  const before = start.minus({ milliseconds: 1 });
  return before.toISODate() === start.toISODate() ? before.startOf("day") : start;
};

/** The working windows that end after `from`, day by day, from the local day `from` falls on. */
function* windowsFrom(calendar: Calendar, from: Date): Generator<[number, number]> {
  let day = dayAt(calendar, from.getTime());
  for (let idle = 0; idle < IDLE_DAYS; day = dayAt(calendar, day.next)) {
    idle = day.windows.length ? 0 : idle + 1;
    for (const window of day.windows) if (window[1] > from.getTime()) yield window;
  }
  throw new Error(`The calendar (${calendar.timeZone}) has no working time in ${IDLE_DAYS} days in a row.`);
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

/** Whether a name is a time zone of the IANA database (as Intl knows it): not "local", "system" or "UTC+5". */
export const isTimeZone = (name: string): boolean => IANAZone.isValidZone(name);
