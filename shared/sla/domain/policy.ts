import * as z from "zod";
import { PRIORITIES, type Priority } from "../../tickets/domain/terms.js";
import { isTimeZone, WEEKDAYS, type BusinessClock, type Weekday } from "./business-time.js";

/**
 * The SLA policy (issue "SLA clocks"): for each priority, a first-response target (the first
 * public reply by an agent) and a resolution target, each in minutes counted around the
 * clock or in the calendar's working hours, with a warning some minutes before. One policy
 * for the help desk, versioned; admins replace it whole.
 */

const HOUR_MINUTE = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const HOUR_MINUTE_OR_MIDNIGHT = /^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/;
const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export const WorkingHours = z
  .object({
    start: z.string().regex(HOUR_MINUTE, "a local time, HH:mm (00:00 to 23:59)"),
    end: z.string().regex(HOUR_MINUTE_OR_MIDNIGHT, "a local time, HH:mm (00:01 to 24:00)"),
  })
  .strict()
  // Compared only once both are times (each malformed one has its own issue).
  .refine((h) => !HOUR_MINUTE.test(h.start) || !HOUR_MINUTE_OR_MIDNIGHT.test(h.end) || minutesOf(h.start) < minutesOf(h.end), {
    message: "Working hours end after they start.",
    path: ["end"],
  })
  .meta({ id: "SlaWorkingHours" });

const DayHours = z.array(WorkingHours).max(8);

export const SlaCalendar = z
  .object({
    timeZone: z.string().refine(isTimeZone, "an IANA time zone, such as Europe/Paris"),
    /** ISO weekdays, "1" (Monday) to "7" (Sunday); a day absent or empty is not worked. */
    week: z
      .object(Object.fromEntries(WEEKDAYS.map((d) => [d, DayHours.optional()])) as Record<Weekday, z.ZodOptional<typeof DayHours>>)
      .strict(),
    holidays: z
      .array(z.iso.date())
      .max(400)
      .refine((days) => new Set(days).size === days.length, "each holiday once"),
  })
  .strict()
  .superRefine((calendar, ctx) => {
    for (const day of WEEKDAYS) {
      const hours = calendar.week[day] ?? [];
      for (let i = 1; i < hours.length; i++)
        if (minutesOf(hours[i]!.start) < minutesOf(hours[i - 1]!.end))
          ctx.addIssue({ code: "custom", message: "Working hours are in order and do not overlap.", path: ["week", day, i, "start"] });
    }
  })
  .meta({ id: "SlaCalendar" });
export type SlaCalendar = z.infer<typeof SlaCalendar>;

/** A number of minutes that is a whole number of seconds (0.05 is 3 s; 0.01 is refused). */
const wholeSeconds = z.number().refine((m) => Math.abs(m * 60 - Math.round(m * 60)) < 1e-6, "minutes to the second: a multiple of 1/60");

export const SlaTarget = z
  .object({
    /** Minutes, to the second: 0.5 is 30 s (a drill's or a test's target), at most a year. */
    minutes: wholeSeconds.min(1 / 60).max(525_600),
    /** How long before the target its warning is due (0: no warning). */
    warnBeforeMinutes: wholeSeconds.min(0),
  })
  .strict()
  .refine((t) => t.warnBeforeMinutes < t.minutes, {
    message: "A warning comes before its target: fewer minutes than it.",
    path: ["warnBeforeMinutes"],
  })
  .meta({ id: "SlaTarget" });

export const SlaTargets = z
  .object({
    /** "always": minutes around the clock; "business": minutes of the calendar's working hours. */
    clock: z.enum(["always", "business"]),
    firstResponse: SlaTarget,
    resolution: SlaTarget,
  })
  .strict()
  .meta({ id: "SlaTargets" });

export const SlaPolicyBody = z
  .object({
    calendar: SlaCalendar,
    targets: z.object(Object.fromEntries(PRIORITIES.map((p) => [p, SlaTargets])) as Record<Priority, typeof SlaTargets>).strict(),
  })
  .strict()
  .superRefine((policy, ctx) => {
    const works = WEEKDAYS.some((d) => (policy.calendar.week[d] ?? []).length > 0);
    const business = PRIORITIES.filter((p) => policy.targets[p].clock === "business");
    if (business.length && !works)
      ctx.addIssue({
        code: "custom",
        message: `The calendar has no working hours, and ${business.join(", ")} count business time.`,
        path: ["calendar", "week"],
      });
  })
  .meta({ id: "SlaPolicyBody" });
export type SlaPolicyBody = z.infer<typeof SlaPolicyBody>;

/** A policy as stored and served: its version moves with every replacement. */
export type SlaPolicy = SlaPolicyBody & { version: number };

const weekdays = (hours: { start: string; end: string }[]) => ({ "1": hours, "2": hours, "3": hours, "4": hours, "5": hours });
const BUSINESS_DAY = 8 * 60; // the default calendar's day: 09:00 to 17:00

/**
 * What a help desk starts with, until an admin replaces it: an emergency is answered within
 * 15 minutes and resolved within 4 hours around the clock; the rest in business time.
 */
export const DEFAULT_SLA_POLICY: SlaPolicy = {
  version: 0,
  calendar: { timeZone: "UTC", week: weekdays([{ start: "09:00", end: "17:00" }]), holidays: [] },
  targets: {
    emergency: {
      clock: "always",
      firstResponse: { minutes: 15, warnBeforeMinutes: 5 },
      resolution: { minutes: 240, warnBeforeMinutes: 30 },
    },
    high: {
      clock: "business",
      firstResponse: { minutes: 60, warnBeforeMinutes: 15 },
      resolution: { minutes: BUSINESS_DAY, warnBeforeMinutes: 60 },
    },
    normal: {
      clock: "business",
      firstResponse: { minutes: 240, warnBeforeMinutes: 30 },
      resolution: { minutes: 3 * BUSINESS_DAY, warnBeforeMinutes: 120 },
    },
    low: {
      clock: "business",
      firstResponse: { minutes: BUSINESS_DAY, warnBeforeMinutes: 60 },
      resolution: { minutes: 5 * BUSINESS_DAY, warnBeforeMinutes: 240 },
    },
  },
};

/** How a priority's targets count their minutes under a policy. */
export function clockOf(policy: SlaPolicyBody, priority: Priority): BusinessClock {
  return policy.targets[priority].clock === "always" ? { kind: "always" } : { kind: "calendar", calendar: policy.calendar };
}
