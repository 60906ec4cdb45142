import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../shared/kernel/webhook-signature.js";
import { messageOf, OutboxEntry } from "../../shared/outbox/ports.js";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { about, escalationSettings, openOutage, WEBHOOK_SECRET } from "../support/escalation-host.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/**
 * The SLA clocks' warnings and breaches, told to ops end to end on the local host: the
 * timers on their queue, the change they make, its outbox entry on the escalations queue,
 * the notifier, and channels that are HTTP servers started here. The clock moves only
 * when a test moves it, so each timer fires when the test says.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let webhook: AlertReceiver;
let pagerduty: AlertReceiver;
let t: TestHost;
let clock: ManualScheduler;
let qa: string;
let jane: string;
let karen: string;

beforeAll(async () => {
  webhook = await startAlertReceiver();
  pagerduty = await startAlertReceiver(202);
  clock = new ManualScheduler();
  t = await startTestHost(
    { ...escalationSettings(webhook.url), PAGERDUTY_ROUTING_KEY: "R0UTINGKEY", PAGERDUTY_EVENTS_URL: pagerduty.url },
    { scheduler: clock },
  );
  [qa, jane, karen] = await Promise.all([t.token(PEOPLE.qa), t.token(PEOPLE.jane), t.token(PEOPLE.karen)]);
});
afterAll(async () => {
  await t.close();
  await webhook.close();
  await pagerduty.close();
});
afterEach(() => {
  webhook.requests.length = 0;
  pagerduty.requests.length = 0;
});

interface Entry {
  type: string;
  data: { event?: string; channel?: string; messageId?: string };
}

const webhookEvents = (number: string) => webhook.delivered().filter(about(number));
const eventsAt = (number: string) => webhookEvents(number).map((d) => d.headers["x-helpdesk-event"]);
const pagerdutyActions = (id: string) =>
  pagerduty
    .delivered()
    .filter(about(id))
    .map((d) => (d.json as { event_action: string }).event_action);
const timeline = async (id: string) => (await t.call(jane, "GET", `/tickets/${id}/timeline?limit=100`)).body.items as Entry[];
const notified = async (id: string, event: string) =>
  (await timeline(id)).filter((e) => e.type === "escalation_notified" && e.data.event === event).map((e) => e.data.channel);

describe("SLA alerts", () => {
  it("an emergency's breach is paged on every channel, and reaches the webhook exactly once; its warning is a notice", async () => {
    const opened = await t.call(qa, "POST", "/tickets", {
      body: { subject: "Mobile banking is down", description: "The entire mobile banking is down.", priority: "emergency" },
    });
    expect(opened.status).toBe(201);
    const ticket = opened.body as { id: string; number: string };
    await webhook.waitFor(1, about(ticket.number));
    // Acknowledged, so that no re-page comes in the 15 minutes: only the SLA speaks.
    expect((await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`)).status).toBe(200);
    await clock.settle();
    expect(eventsAt(ticket.number)).toEqual(["triggered", "acknowledged"]);

    await clock.advance(10 * MINUTE); // the first response's warning: 5 minutes before it is due
    expect(eventsAt(ticket.number)).toEqual(["triggered", "acknowledged", "sla.warning"]);
    expect(pagerdutyActions(ticket.id)).toEqual(["trigger", "acknowledge"]);

    await clock.advance(5 * MINUTE); // due: breached
    expect(eventsAt(ticket.number)).toEqual(["triggered", "acknowledged", "sla.warning", "sla_breached"]);
    expect(pagerdutyActions(ticket.id)).toEqual(["trigger", "acknowledge", "trigger"]);
    const page = webhookEvents(ticket.number).at(-1)!;
    const alert = (page.json as { event: string; summary: string; alert: { sla: unknown; actor: unknown } }).alert;
    expect(page.json).toMatchObject({
      event: "sla_breached",
      summary: expect.stringMatching(/^SLA breached: \[EMERGENCY\] #\d+: first response was due /),
    });
    expect(alert).toMatchObject({ sla: { target: "firstResponse" }, actor: { name: "SLA clock", role: "system" } });
    expect(page.body).not.toMatch(/mobile banking/i);
    const signed = { timestamp: String(page.headers["x-helpdesk-timestamp"]), signature: String(page.headers["x-helpdesk-signature"]) };
    expect(verifyWebhookSignature({ body: page.body, ...signed, secret: WEBHOOK_SECRET })).toBe(true);
    // Agents see each delivery on the timeline.
    expect((await notified(ticket.id, "sla_breached")).sort()).toEqual(["console", "pagerduty", "webhook"]);
    expect((await notified(ticket.id, "sla.warning")).sort()).toEqual(["console", "webhook"]);

    // The queue delivers the page's message again, twice: nothing more is sent.
    // Its message id is the ticket's and the sequence of the sla_breached entry: its outbox entry's too.
    const paged = (await timeline(ticket.id)).find((e) => e.type === "escalation_notified" && e.data.event === "sla_breached")!;
    const seq = paged.data.messageId!.split(".").pop();
    const store = (await t.host.composition.stores()).tickets;
    const message = messageOf((await store.record(ticket.id, `outbox-${seq}`, OutboxEntry))!);
    expect(message.subject).toBe("escalation.sla_breached");
    const notifier = await t.host.composition.notifier();
    await notifier.handle(message);
    await notifier.handle(message);
    await clock.settle();
    expect(eventsAt(ticket.number).filter((e) => e === "sla_breached")).toHaveLength(1);
    expect(pagerdutyActions(ticket.id)).toEqual(["trigger", "acknowledge", "trigger"]);
    await t.call(jane, "POST", `/tickets/${ticket.id}/status`, { body: { status: "resolved", resolution: "fixed" } });
  });

  it("a ticket that is not business-impacting: its warnings and breaches are notices to the webhook only", async () => {
    const ticket = await openOutage(t, karen, "Printer queue stuck");
    // Past both targets of a normal ticket (4 business hours, 3 business days), whatever day it is.
    await clock.advance(8 * DAY);
    expect(eventsAt(ticket.number)).toEqual(["sla.warning", "sla.breached", "sla.warning", "sla.breached"]);
    expect(pagerdutyActions(ticket.id)).toEqual([]);
    const bodies = webhookEvents(ticket.number).map((d) => d.json as { alert: { sla: { target: string } } });
    expect(bodies.map((b) => b.alert.sla.target)).toEqual(["firstResponse", "firstResponse", "resolution", "resolution"]);
    expect((await notified(ticket.id, "sla.breached")).sort()).toEqual(["console", "console", "webhook", "webhook"]);
  });
});
