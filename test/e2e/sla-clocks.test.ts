import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_SLA_POLICY, type SlaPolicyBody } from "../../shared/sla/domain/policy.js";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { about, WEBHOOK_SECRET } from "../support/escalation-host.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * The SLA clocks over HTTP, on the real clock, with targets of a few seconds: the warnings
 * and breaches are timers on the in-process `ticket-timers` queue, scheduled through the
 * outbox by the change that set their instants.
 */
let t: TestHost;
let webhook: AlertReceiver;
let qa: string;
let karen: string;
let jane: string;
let ada: string;

const SECOND = 1 / 60; // a policy counts minutes, to the second

/** Around the clock, so that the test does not depend on the day it runs. */
const POLICY: SlaPolicyBody = {
  calendar: DEFAULT_SLA_POLICY.calendar,
  targets: {
    emergency: {
      clock: "always",
      firstResponse: { minutes: 4 * SECOND, warnBeforeMinutes: 2 * SECOND },
      resolution: { minutes: 60, warnBeforeMinutes: 10 },
    },
    high: {
      clock: "always",
      firstResponse: { minutes: 3 * SECOND, warnBeforeMinutes: SECOND },
      resolution: { minutes: 60, warnBeforeMinutes: 10 },
    },
    normal: {
      clock: "always",
      firstResponse: { minutes: 8 * SECOND, warnBeforeMinutes: 3 * SECOND },
      resolution: { minutes: 60, warnBeforeMinutes: 10 },
    },
    low: {
      clock: "always",
      firstResponse: { minutes: 60, warnBeforeMinutes: 10 },
      resolution: { minutes: 4 * SECOND, warnBeforeMinutes: 0 },
    },
  },
};

beforeAll(async () => {
  webhook = await startAlertReceiver();
  t = await startTestHost({ ALERT_WEBHOOK_URL: webhook.url, ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET });
  [qa, karen, jane, ada] = await Promise.all([t.token(PEOPLE.qa), t.token(PEOPLE.karen), t.token(PEOPLE.jane), t.token(PEOPLE.admin)]);
  // This instance replaced it: its changes follow the new version at once.
  expect((await t.call(ada, "PUT", "/sla/policy", { body: POLICY })).status).toBe(200);
});
afterAll(async () => {
  await t?.close();
  await webhook?.close();
});

interface Entry {
  type: string;
  at: string;
  visibility: string;
  actor: { name: string; role: string };
  data: Record<string, unknown>;
}

const open = async (priority: "low" | "normal" | "high") => {
  const res = await t.call(karen, "POST", "/tickets", { body: { subject: `SLA ${priority}`, description: "Timed.", priority } });
  expect(res.status).toBe(201);
  return res.body as { id: string; createdAt: string };
};
const timeline = async (token: string, id: string): Promise<Entry[]> => {
  const res = await t.call(token, "GET", `/tickets/${id}/timeline?limit=100`);
  expect(res.status).toBe(200);
  return res.body.items as Entry[];
};
const slaEntries = async (id: string) => (await timeline(jane, id)).filter((e) => e.type.startsWith("sla_"));
const slaOf = async (id: string) => (await t.call(jane, "GET", `/tickets/${id}`)).body.sla;
const ms = (iso: unknown) => Date.parse(iso as string);
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));
/** Waits for the ticket's SLA entries to be these, in order ("type target"). */
const untilEntries = (id: string, expected: string[], timeout = 10_000) =>
  vi.waitFor(async () => expect((await slaEntries(id)).map((e) => `${e.type} ${String(e.data.target)}`)).toEqual(expected), {
    timeout,
    interval: 50,
  });

// Each test times its own ticket: they run side by side, a few seconds in all instead of their sum.
describe.concurrent("the SLA clocks", () => {
  it("warn and then breach a target at their times (within 1 s), as internal entries requesters never see", async () => {
    const ticket = await open("high");
    const sla = await slaOf(ticket.id);
    expect(sla).toMatchObject({ policyVersion: 1, firstResponse: { status: "running", achievedAt: null, breachedAt: null } });
    expect(ms(sla.firstResponse.dueAt) - ms(ticket.createdAt)).toBe(3000);
    expect(ms(sla.firstResponse.warnAt) - ms(ticket.createdAt)).toBe(2000);

    await untilEntries(ticket.id, ["sla_warning firstResponse", "sla_breached firstResponse"]);
    const [warning, breach] = await slaEntries(ticket.id);
    for (const [entry, due] of [
      [warning!, sla.firstResponse.warnAt],
      [breach!, sla.firstResponse.dueAt],
    ] as const) {
      const late = ms(entry.at) - ms(due);
      expect(late).toBeGreaterThanOrEqual(0);
      expect(late).toBeLessThan(1000);
      expect(entry).toMatchObject({ visibility: "internal", actor: { name: "SLA clock", role: "system" } });
      expect(entry.data).toEqual({ target: "firstResponse", dueAt: sla.firstResponse.dueAt, cycle: 1, policyVersion: 1 });
    }
    expect((await slaOf(ticket.id)).firstResponse).toMatchObject({ status: "breached", breachedAt: sla.firstResponse.dueAt });
    // Karen sees none of it: no clocks on her ticket, no SLA entries in her timeline.
    expect((await t.call(karen, "GET", `/tickets/${ticket.id}`)).body.sla).toBeNull();
    expect((await timeline(karen, ticket.id)).map((e) => e.type)).toEqual(["opened"]);
  });

  it("a first public reply by an agent achieves the first response; an internal note does not; the timers then do nothing", async () => {
    const ticket = await open("normal");
    const due = (await slaOf(ticket.id)).firstResponse.dueAt as string;
    const note = await t.call(jane, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "Looking.", visibility: "internal" } });
    expect(note.status).toBe(201);
    expect((await slaOf(ticket.id)).firstResponse).toMatchObject({ status: "running", achievedAt: null });
    // Karen's own reply is no response either.
    expect((await t.call(karen, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "Any news?" } })).status).toBe(201);
    expect((await slaOf(ticket.id)).firstResponse.status).toBe("running");

    const reply = await t.call(jane, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "On it.", visibility: "public" } });
    expect(reply.status).toBe(201);
    const firstResponse = (await slaOf(ticket.id)).firstResponse;
    expect(firstResponse).toMatchObject({ status: "achieved", achievedAt: reply.body.at, breachedAt: null, dueAt: due });
    await untilEntries(ticket.id, ["sla_achieved firstResponse"]);
    // Its warning and breach timers still arrive, find the target achieved, and record nothing.
    await sleep(ms(due) - Date.now() + 1500);
    await untilEntries(ticket.id, ["sla_achieved firstResponse"]);
    expect((await slaOf(ticket.id)).firstResponse).toEqual(firstResponse);
  });

  it("on hold pauses the resolution clock and moves its dueAt by the pause; the timer of the old due time does nothing", async () => {
    const ticket = await open("low");
    const first = (await slaOf(ticket.id)).resolution;
    expect(ms(first.dueAt) - ms(ticket.createdAt)).toBe(4000);
    const held = await t.call(jane, "POST", `/tickets/${ticket.id}/status`, { body: { status: "on_hold", reason: "waiting on Karen" } });
    expect(held.status).toBe(200);
    expect(held.body.sla.resolution).toMatchObject({ status: "paused", dueAt: first.dueAt });
    // The first response does not pause.
    expect(held.body.sla.firstResponse.status).toBe("running");
    await sleep(2500);
    const resumed = await t.call(jane, "POST", `/tickets/${ticket.id}/status`, { body: { status: "in_progress" } });
    expect(resumed.status).toBe(200);
    const pausedMs = ms(resumed.body.updatedAt) - ms(held.body.updatedAt);
    const moved = resumed.body.sla.resolution;
    expect(moved.status).toBe("running");
    expect(ms(moved.dueAt) - ms(first.dueAt)).toBe(pausedMs);

    // Past the first due time: its timer came and found the target due later.
    await sleep(ms(first.dueAt) - Date.now() + 1000);
    expect(await slaEntries(ticket.id)).toEqual([]);
    await untilEntries(ticket.id, ["sla_breached resolution"]);
    const [breach] = await slaEntries(ticket.id);
    expect(ms(breach!.at) - ms(moved.dueAt)).toBeGreaterThanOrEqual(0);
    expect(ms(breach!.at) - ms(moved.dueAt)).toBeLessThan(1000);
    expect(breach!.data).toMatchObject({ target: "resolution", dueAt: moved.dueAt });
  });

  it("a priority change re-targets from the start, not from now, and the ticket records the policy version it follows", async () => {
    const ticket = await open("normal");
    expect(ms((await slaOf(ticket.id)).firstResponse.dueAt) - ms(ticket.createdAt)).toBe(8000);
    await sleep(500);
    const triaged = await t.call(jane, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "high" } });
    expect(triaged.status).toBe(200);
    expect(ms(triaged.body.sla.firstResponse.dueAt) - ms(ticket.createdAt)).toBe(3000);
    expect(ms(triaged.body.sla.firstResponse.warnAt) - ms(ticket.createdAt)).toBe(2000);
    expect(triaged.body.sla.policyVersion).toBe(1);
    // The new times have their own timers: the breach lands at the re-targeted time, once.
    await untilEntries(ticket.id, ["sla_warning firstResponse", "sla_breached firstResponse"]);
    const breach = (await slaEntries(ticket.id))[1]!;
    expect(ms(breach.at) - ms(triaged.body.sla.firstResponse.dueAt)).toBeLessThan(1000);
    // The timers of the first due time (8 s) arrive later and change nothing.
    await sleep(ms(ticket.createdAt) + 8000 - Date.now() + 1000);
    expect((await slaEntries(ticket.id)).map((e) => e.type)).toEqual(["sla_warning", "sla_breached"]);
  });

  it("an emergency's breach pages the webhook once, within 1 s of its due time; its warning is a notice", async () => {
    const opened = await t.call(qa, "POST", "/tickets", { body: { subject: "Outage", description: "All down.", priority: "emergency" } });
    expect(opened.status).toBe(201);
    const { id, number, createdAt } = opened.body as { id: string; number: string; createdAt: string };
    const dueAt = Date.parse(createdAt) + 4000;
    const event = (d: { headers: Record<string, unknown> }) => String(d.headers["x-helpdesk-event"]);
    const [breach] = await webhook.waitFor(1, (d) => about(number)(d) && event(d) === "sla_breached", 10_000);
    // When the webhook received it, on this process's clock.
    const late = performance.timeOrigin + breach!.at - dueAt;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    // Nothing more comes of it: one page for the breach, after the intake's page and the warning's notice.
    await sleep(1500);
    expect(webhook.delivered().filter(about(number)).map(event)).toEqual(["triggered", "sla.warning", "sla_breached"]);
    await untilEntries(id, ["sla_warning firstResponse", "sla_breached firstResponse"]);
  });
});
