import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { about, ACK_MS, escalationSettings, openOutage } from "../support/escalation-host.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/**
 * Ops are paged at an agent's word only (issue "Harden", point 1), end to end on the
 * local host: the real outbox, dispatcher, in-process queue and notifier, and a webhook
 * receiver started here. The host runs on a clock the tests move (ManualScheduler), so
 * "no other page comes" is checked by running everything that could send one.
 */
let webhook: AlertReceiver;
let t: TestHost;
let clock: ManualScheduler;
let qa: string;
let jane: string;
let karen: string;
let ken: string;

beforeAll(async () => {
  webhook = await startAlertReceiver();
  clock = new ManualScheduler();
  t = await startTestHost(escalationSettings(webhook.url), { scheduler: clock });
  [qa, jane, karen, ken] = await Promise.all([t.token(PEOPLE.qa), t.token(PEOPLE.jane), t.token(PEOPLE.karen), t.token(PEOPLE.ken)]);
});
afterAll(async () => {
  await t.close();
  await webhook.close();
});
afterEach(() => {
  webhook.requests.length = 0;
});

interface WebhookAlert {
  event: string;
  alert: { reason: string; actor: { name: string; role: string } };
}

const openTicket = (subject?: string) => openOutage(t, karen, subject);

async function raise(id: string) {
  const res = await t.call(qa, "PATCH", `/tickets/${id}`, { body: { priority: "emergency", reason: "business-impacting" } });
  expect(res.body.escalation).toMatchObject({ state: "triggered" });
}

const alerts = (number: string) =>
  webhook
    .delivered()
    .filter(about(number))
    .map((d) => d.json as WebhookAlert);
const events = (number: string) => alerts(number).map((a) => a.event);
/** Everything due before the first re-page of a page sent now has run (retries, redeliveries). */
const untilFirstRepage = () => clock.advance(ACK_MS - 1);

const move = (token: string, id: string, body: Record<string, string>) => t.call(token, "POST", `/tickets/${id}/status`, { body });
const escalate = (token: string | null, id: string, body: unknown, headers?: Record<string, string>) =>
  t.call(token, "POST", `/tickets/${id}/escalation`, { body, headers });

describe("ops are paged at an agent's word only", () => {
  it("an owner closing and reopening an emergency five times pages ops once, and never quotes them", async () => {
    const ticket = await openTicket();
    await raise(ticket.id);
    await webhook.waitFor(1, about(ticket.number));
    for (let loop = 0; loop < 5; loop++) {
      expect(
        (await move(karen, ticket.id, { status: "closed", resolution: `works now ${loop}`, reason: `karen-close-${loop}` })).status,
      ).toBe(200);
      expect((await move(karen, ticket.id, { status: "open", reason: `karen-reopen-${loop}: page everyone` })).status).toBe(200);
    }
    await clock.advance(ACK_MS * 4); // every page, re-page and retry anything above could have caused
    expect(events(ticket.number)).toEqual(["triggered", "resolved"]);
    const sent = webhook.requests.filter(about(ticket.number)).map((r) => r.body);
    expect(sent.join("\n")).not.toMatch(/karen-|works now/);
    expect(alerts(ticket.number)[1]!.alert).toMatchObject({ reason: "ticket closed", actor: { name: "the requester", role: "requester" } });

    // Back at the top of the queue: open, an emergency, listed before every ticket that is not,
    // even one opened after it; its escalation left resolved for an agent to raise again.
    const later = await openTicket("Printer jams");
    await t.call(qa, "PATCH", `/tickets/${later.id}`, { body: { priority: "high" } });
    const queue = (await t.call(jane, "GET", "/tickets?status=open&limit=100")).body.items as {
      id: string;
      priority: string;
      escalation: { state: string };
    }[];
    const at = queue.findIndex((x) => x.id === ticket.id);
    expect(at).toBeGreaterThanOrEqual(0);
    expect(queue.slice(0, at).every((x) => x.priority === "emergency")).toBe(true);
    expect(queue.findIndex((x) => x.id === later.id)).toBeGreaterThan(at);
    expect(queue[at]).toMatchObject({ priority: "emergency", escalation: { state: "resolved" } });
  });

  it("an owner's reply that reopens a resolved emergency does not page ops", async () => {
    const ticket = await openTicket();
    await raise(ticket.id);
    await move(jane, ticket.id, { status: "resolved", resolution: "Restarted the gateway." });
    await webhook.waitFor(2, about(ticket.number));
    const reply = await t.call(karen, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "karen-reply: still down!" } });
    expect(reply.status).toBe(201);
    expect((await t.call(jane, "GET", `/tickets/${ticket.id}`)).body).toMatchObject({ status: "open", escalation: { state: "resolved" } });
    await clock.advance(ACK_MS * 4);
    expect(events(ticket.number)).toEqual(["triggered", "resolved"]);
    expect(
      webhook.requests
        .filter(about(ticket.number))
        .map((r) => r.body)
        .join("\n"),
    ).not.toContain("karen-reply");
  });

  it("an agent's reopen of an emergency pages ops again", async () => {
    const ticket = await openTicket();
    await raise(ticket.id);
    await move(jane, ticket.id, { status: "closed", resolution: "Fixed." });
    await webhook.waitFor(2, about(ticket.number));
    const reopened = await move(jane, ticket.id, { status: "open", reason: "down again since 10:00" });
    expect(reopened.body.escalation).toMatchObject({ state: "triggered" });
    await webhook.waitFor(2, (d) => about(ticket.number)(d) && (d.json as WebhookAlert).event === "triggered");
    await untilFirstRepage();
    expect(events(ticket.number)).toEqual(["triggered", "resolved", "triggered"]);
    expect(alerts(ticket.number)[2]!.alert.reason).toBe("priority emergency: down again since 10:00");
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("an agent pages ops by hand for a ticket at normal priority: one page, with the agent's reason", async () => {
    const ticket = await openTicket("Payments slow");
    const res = await escalate(jane, ticket.id, { reason: "  Payments failing in two regions  " });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toMatch(/.+/);
    expect(res.body).toMatchObject({ id: ticket.id, priority: "normal", escalation: { state: "triggered", pages: 0 } });
    await webhook.waitFor(1, about(ticket.number));
    await untilFirstRepage();
    expect(events(ticket.number)).toEqual(["triggered"]);
    expect(alerts(ticket.number)[0]!.alert).toMatchObject({
      reason: "raised by hand: Payments failing in two regions",
      actor: { name: "Jane Doe", role: "agent" },
    });
    // The requester sees nothing of it.
    expect((await t.call(karen, "GET", `/tickets/${ticket.id}`)).body.escalation).toBeNull();
    expect(JSON.stringify((await t.call(karen, "GET", `/tickets/${ticket.id}/timeline`)).body)).not.toContain("escalation");
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("an agent raises by hand an emergency its owner reopened: one more page, with the agent's reason", async () => {
    const ticket = await openTicket();
    await raise(ticket.id);
    await move(karen, ticket.id, { status: "closed", resolution: "fine now" });
    await move(karen, ticket.id, { status: "open", reason: "karen-words" });
    await webhook.waitFor(2, about(ticket.number));
    const res = await escalate(jane, ticket.id, { reason: "Confirmed with the bank: still down" });
    expect(res.status).toBe(200);
    expect(res.body.escalation).toMatchObject({ state: "triggered" });
    await webhook.waitFor(2, (d) => about(ticket.number)(d) && (d.json as WebhookAlert).event === "triggered");
    await untilFirstRepage();
    expect(events(ticket.number)).toEqual(["triggered", "resolved", "triggered"]);
    expect(alerts(ticket.number)[2]!.alert.reason).toBe("raised by hand (priority emergency): Confirmed with the bank: still down");
    expect(
      webhook.requests
        .filter(about(ticket.number))
        .map((r) => r.body)
        .join("\n"),
    ).not.toContain("karen-words");
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("escalating by hand answers 400, 401, 403, 404, 409 and 412 as declared, and pages nobody then", async () => {
    const ticket = await openTicket("Laptop fan noisy");
    const reason = { reason: "check" };
    expect((await escalate(jane, ticket.id, {})).status).toBe(400);
    expect((await escalate(jane, ticket.id, { reason: "   " })).status).toBe(400);
    expect((await escalate(jane, ticket.id, { reason: "x".repeat(2001) })).status).toBe(400);
    expect((await escalate(null, ticket.id, reason)).status).toBe(401);
    expect((await escalate(karen, ticket.id, reason)).status).toBe(403); // the owner
    expect((await escalate(ken, ticket.id, reason)).status).toBe(404); // another requester
    expect((await escalate(jane, "no-such-ticket", reason)).status).toBe(404);
    expect((await escalate(jane, ticket.id, reason, { "if-match": '"stale"' })).status).toBe(412);
    await clock.advance(ACK_MS * 4);
    expect(webhook.requests.filter(about(ticket.number))).toEqual([]);

    expect((await escalate(jane, ticket.id, reason)).status).toBe(200);
    const again = await escalate(qa, ticket.id, reason);
    expect(again.status).toBe(409); // triggered
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect((await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`)).status).toBe(200);
    expect((await escalate(qa, ticket.id, reason)).status).toBe(409); // acknowledged
    await move(jane, ticket.id, { status: "closed", resolution: "Cleaned the fan." });
    expect((await escalate(qa, ticket.id, reason)).status).toBe(409); // closed: reopen first
    await clock.advance(ACK_MS * 4);
    expect(events(ticket.number)).toEqual(["triggered", "acknowledged", "resolved"]);
  });
});
