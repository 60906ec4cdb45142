import { createHmac } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Dispatcher } from "../../shared/outbox/dispatcher.js";
import { messageOf, OutboxEntry } from "../../shared/outbox/ports.js";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { about, ACK_MS, escalationSettings, openOutage, WEBHOOK_SECRET } from "../support/escalation-host.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/**
 * Escalation end to end on the local host: the real outbox, dispatcher,
 * in-process queue and notifier, with alert channels that are HTTP servers
 * started here. Each fault case fails if its guarantee breaks.
 *
 * The host runs on a clock the tests move (ManualScheduler): re-pages, retries and
 * redeliveries come when a test advances it, and once it has, everything that was due
 * has finished, so "nothing more arrives" is checked without waiting for it.
 */

let webhook: AlertReceiver;
let pagerduty: AlertReceiver;
let t: TestHost;
let clock: ManualScheduler;
let qa: string;
let jane: string;
let karen: string;

const env = () => ({
  ...escalationSettings(webhook.url),
  PAGERDUTY_ROUTING_KEY: "R0UTINGKEY",
  PAGERDUTY_EVENTS_URL: pagerduty.url,
  TICKET_URL_TEMPLATE: "https://helpdesk.example/tickets/{number}",
});

beforeAll(async () => {
  webhook = await startAlertReceiver();
  pagerduty = await startAlertReceiver(202);
  clock = new ManualScheduler();
  t = await startTestHost(env(), { scheduler: clock });
  [qa, jane, karen] = await Promise.all([t.token(PEOPLE.qa), t.token(PEOPLE.jane), t.token(PEOPLE.karen)]);
});

/** A host of its own whose outbox entries wait for the test to dispatch them, with the same channels. */
async function withManualOutbox(run: (m: TestHost, who: { qa: string; jane: string; karen: string }) => Promise<void>) {
  // Its own clock, which nothing moves: no re-page or retry fires while a test looks at the first page.
  const m = await startTestHost(env(), { outbox: "manual", scheduler: new ManualScheduler() });
  try {
    const [mqa, mjane, mkaren] = await Promise.all([m.token(PEOPLE.qa), m.token(PEOPLE.jane), m.token(PEOPLE.karen)]);
    await run(m, { qa: mqa, jane: mjane, karen: mkaren });
  } finally {
    await m.close();
  }
}

const storeOf = async (host: TestHost) => (await host.host.composition.stores()).tickets;
/** An outbox entry's id is `outbox-<sequence of its timeline entry>`. */
const seqOf = (e: OutboxEntry) => Number(e.id.slice("outbox-".length));
afterAll(async () => {
  await t.close();
  await webhook.close();
  await pagerduty.close();
});
afterEach(() => {
  webhook.requests.length = 0;
  pagerduty.requests.length = 0;
});

const openTicket = (subject?: string) => openOutage(t, karen, subject);

const raise = (id: string) => t.call(qa, "PATCH", `/tickets/${id}`, { body: { priority: "emergency", reason: "business-impacting" } });
const forTicket = (r: AlertReceiver, number: string) => r.delivered().filter(about(number));
const webhookEvents = (number: string) => forTicket(webhook, number).map((d) => (d.json as { event: string }).event);
/** First pages only: re-pages come on their own schedule and are tested apart. */
const triggers = (number: string) => webhookEvents(number).filter((e) => e === "triggered");
const pagerdutyActions = (id: string) => forTicket(pagerduty, id).map((d) => (d.json as { event_action: string }).event_action);
/** Requests about the ticket that reached the receiver, delivered or not. */
const attemptsAt = (r: AlertReceiver, about: string) => r.requests.filter((x) => x.body.includes(about));
/** The webhook's first request about the ticket, answered or not: the page is being delivered. */
const firstAttempt = (number: string) =>
  vi.waitFor(() => expect(attemptsAt(webhook, number)).toHaveLength(1), { timeout: 5_000, interval: 10 });
/** Runs everything due up to just before a page's first re-page, and waits until it has all finished. */
const untilFirstRepage = () => clock.advance(ACK_MS - 1);

describe("escalation", () => {
  it("a triage to emergency makes exactly one signed alert reach the webhook", async () => {
    const ticket = await openTicket();
    const res = await raise(ticket.id);
    expect(res.status).toBe(200);
    expect(res.body.escalation).toMatchObject({ state: "triggered" });
    await webhook.waitFor(1, about(ticket.number));
    await untilFirstRepage(); // every retry or redelivery that could send it again has run
    expect(triggers(ticket.number)).toHaveLength(1);
    const alert = forTicket(webhook, ticket.number)[0];
    const timestamp = String(alert!.headers["x-helpdesk-timestamp"]);
    const expected = `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(`${timestamp}.${alert!.body}`).digest("hex")}`;
    expect(alert!.headers["x-helpdesk-signature"]).toBe(expected);
    expect(alert!.headers["x-helpdesk-delivery"]).toMatch(/.+/);
    const text = alert!.body;
    for (const fact of [
      ticket.number,
      "emergency",
      "Quinn QA",
      "business-impacting",
      `https://helpdesk.example/tickets/${ticket.number}`,
    ]) {
      expect(text).toContain(fact);
    }
    // Nothing the requester wrote or is called: not the subject or description, not their name or email.
    expect(text).not.toMatch(/mobile banking|karen/i);
    // The requester sees nothing of it.
    const mine = await t.call(karen, "GET", `/tickets/${ticket.id}`);
    expect(mine.body.escalation).toBeNull();
    const timeline = await t.call(karen, "GET", `/tickets/${ticket.id}/timeline`);
    expect(JSON.stringify(timeline.body)).not.toContain("escalation");
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("(b) a webhook answering 500 twice then 200: exactly one alert delivered", async () => {
    const ticket = await openTicket();
    webhook.failNext(about(ticket.number), 500, 500);
    await raise(ticket.id);
    await firstAttempt(ticket.number);
    await untilFirstRepage(); // the retries
    const attempts = webhook.requests.filter((r) => r.body.includes(ticket.number) && (r.json as { event: string }).event === "triggered");
    expect(attempts.map((r) => r.status)).toEqual([500, 500, 200]);
    // Every attempt is the same delivery, so a receiver can drop duplicates.
    expect(new Set(attempts.map((r) => r.headers["x-helpdesk-delivery"])).size).toBe(1);
    // PagerDuty, which answered at once, was not paged again by the retries.
    expect(pagerdutyActions(ticket.id)).toEqual(["trigger"]);
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("(c) the same message delivered twice: one alert", async () => {
    const ticket = await openTicket();
    await raise(ticket.id);
    await webhook.waitFor(1, about(ticket.number));
    await pagerduty.waitFor(1, about(ticket.id));
    await clock.settle(); // the delivery's handler, which records each delivery right after it succeeds, has finished
    const timeline = (await t.call(jane, "GET", `/tickets/${ticket.id}/timeline`)).body.items as {
      type: string;
      data: { messageId: string; channel: string };
    }[];
    const notified = timeline.filter((e) => e.type === "escalation_notified");
    expect(notified.map((e) => e.data.channel).sort()).toEqual(["console", "pagerduty", "webhook"]);
    // Redeliver the very message the queue delivered: same id, same body.
    const seq = notified[0]!.data.messageId.split(".").pop();
    const entry = await (await storeOf(t)).record(ticket.id, `outbox-${seq}`, OutboxEntry);
    const message = messageOf(entry!);
    const notifier = await t.host.composition.notifier();
    await notifier.handle(message);
    await notifier.handle(message);
    await untilFirstRepage(); // anything the two deliveries scheduled has run
    expect(triggers(ticket.number)).toEqual(["triggered"]);
    expect(pagerdutyActions(ticket.id)).toEqual(["trigger"]);
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("(d) a crash between publishing and marking the outbox entry sent: no second alert", async () => {
    await withManualOutbox(async (m, who) => {
      const store = await storeOf(m);
      // The dispatcher of an instance that dies right after publishing: its mark never happens.
      const crashing = new Dispatcher(
        { unsentOutbox: (o) => store.unsentOutbox(o), markOutboxSent: () => Promise.reject(new Error("instance crashed")) },
        {
          escalations: await m.host.composition.publisher(),
          "ticket-timers": await m.host.composition.timerPublisher(),
          "ticket-commands": await m.host.composition.commandPublisher(),
          notifications: await m.host.composition.notificationPublisher(),
        },
      );
      const opened = await m.call(who.karen, "POST", "/tickets", {
        body: { subject: "Mobile banking is down", description: "The entire mobile banking is down." },
      });
      const ticket = opened.body as { id: string; number: string };
      await m.call(who.qa, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "emergency", reason: "business-impacting" } });
      const outbox = (await store.unsentOutbox({ limit: 100 })).filter((e) => e.ticketId === ticket.id);
      // The page, and the SLA clocks' timers (their own queue: not this test's).
      const unsent = outbox.filter((e) => e.queue === "escalations");
      expect(unsent).toHaveLength(1);
      await expect(crashing.dispatch(unsent)).rejects.toThrow("instance crashed");
      await webhook.waitFor(1, about(ticket.number));
      // The next sweep finds the entry still unsent and publishes it again; the queue drops the duplicate.
      expect(await (await m.host.composition.dispatcher()).sweep(0, new Date())).toBe(outbox.length);
      expect(await store.unsentOutbox({ limit: 100 })).toEqual([]);
      // The notifier records each delivery once it is made: the one page, to the console, webhook and PagerDuty.
      await vi.waitFor(async () => {
        const timeline = (await m.call(who.jane, "GET", `/tickets/${ticket.id}/timeline`)).body.items as { type: string }[];
        expect(timeline.filter((e) => e.type === "escalation_notified")).toHaveLength(3);
      });
      expect(triggers(ticket.number)).toEqual(["triggered"]);
      await m.call(who.jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
    });
  });

  it("(e) unacknowledged, ops is paged again at most ESCALATION_MAX_REPAGES times; acknowledging stops the re-pages", async () => {
    const ignored = await openTicket("Ignored page");
    const answered = await openTicket("Answered page");
    await raise(ignored.id);
    await raise(answered.id);
    await webhook.waitFor(1, about(ignored.number));
    await webhook.waitFor(1, about(answered.number));
    const ack = await t.call(jane, "POST", `/tickets/${answered.id}/escalation/acknowledge`);
    expect(ack.status).toBe(200);
    expect(ack.body.escalation).toMatchObject({ state: "acknowledged", acknowledgedBy: { name: "Jane Doe" } });
    expect((await t.call(jane, "POST", `/tickets/${answered.id}/escalation/acknowledge`)).status).toBe(409);
    await webhook.waitFor(1, (d) => about(answered.number)(d) && d.body.includes('"event":"acknowledged"'));
    await clock.advance(ACK_MS * 4); // past every re-page of both
    expect(webhookEvents(ignored.number)).toEqual(["triggered", "repaged", "repaged"]);
    expect(webhookEvents(answered.number)).toEqual(["triggered", "acknowledged"]);
    const ignoredTicket = await t.call(jane, "GET", `/tickets/${ignored.id}`);
    expect(ignoredTicket.body.escalation).toMatchObject({ state: "triggered", pages: 3 });
    expect(pagerdutyActions(answered.id)).toEqual(["trigger", "acknowledge"]);
  });

  it("(f) closing an escalated ticket sends PagerDuty a resolve with the same dedup_key", async () => {
    const ticket = await openTicket();
    await raise(ticket.id);
    await pagerduty.waitFor(1, about(ticket.id));
    const closed = await t.call(jane, "POST", `/tickets/${ticket.id}/status`, {
      body: { status: "closed", resolution: "Franck fixed it" },
    });
    expect(closed.body.escalation.state).toBe("resolved");
    await pagerduty.waitFor(2, about(ticket.id));
    const events = forTicket(pagerduty, ticket.id).map((d) => d.json as { event_action: string; dedup_key: string; routing_key: string });
    // The clock has not moved: no re-page came before the close.
    expect(events.map((e) => [e.event_action, e.dedup_key, e.routing_key])).toEqual([
      ["trigger", ticket.id, "R0UTINGKEY"],
      ["resolve", ticket.id, "R0UTINGKEY"],
    ]);
    await clock.advance(ACK_MS * 4); // past every re-page the trigger scheduled
    // Nothing after the resolve: no re-page of a resolved escalation.
    expect(webhookEvents(ticket.number)).toEqual(["triggered", "resolved"]);
    expect(pagerdutyActions(ticket.id)).toEqual(["trigger", "resolve"]);
  });

  it("(g) a resolve never reaches a channel before its trigger, even when the trigger is slow to get through", async () => {
    const ticket = await openTicket();
    // The webhook refuses the page three times: the close happens while the page is still being retried.
    webhook.failNext((r) => r.body.includes(ticket.number) && r.body.includes('"event":"triggered"'), 500, 500, 500);
    await raise(ticket.id);
    await t.call(jane, "POST", `/tickets/${ticket.id}/status`, { body: { status: "closed", resolution: "false alarm" } });
    // PagerDuty took the page at once, so it has the resolve: the close's message has been handled.
    await pagerduty.waitFor(2, about(ticket.id));
    expect(webhookEvents(ticket.number)).toEqual([]);
    await clock.advance(ACK_MS * 4); // the retries of both, and past every re-page
    expect(webhookEvents(ticket.number)).toEqual(["triggered", "resolved"]);
    const attempts = webhook.requests
      .filter((r) => r.body.includes(ticket.number))
      .map((r) => [(r.json as { event: string }).event, r.status]);
    expect(attempts).toEqual([
      ["triggered", 500],
      ["triggered", 500],
      ["triggered", 500],
      ["triggered", 200],
      ["resolved", 200],
    ]);
  });

  it("(h) nothing of an escalation a newer one replaced is sent late (PagerDuty keys by ticket)", async () => {
    // The test hands the messages to the notifier in the order it wants.
    await withManualOutbox(async (m, who) => {
      const opened = await m.call(who.karen, "POST", "/tickets", {
        body: { subject: "Mobile banking is down", description: "The entire mobile banking is down." },
      });
      const ticket = opened.body as { id: string; number: string };
      const raiseHere = () =>
        m.call(who.qa, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "emergency", reason: "business-impacting" } });
      await raiseHere(); // escalation 1
      await m.call(who.qa, "PATCH", `/tickets/${ticket.id}`, { body: { priority: "high" } }); // resolved
      await raiseHere(); // escalation 2
      const store = await storeOf(m);
      const entries = (await store.unsentOutbox({ limit: 100 }))
        .filter((e) => e.ticketId === ticket.id && e.queue === "escalations")
        .sort((a, b) => seqOf(a) - seqOf(b));
      expect(entries.map((e) => e.subject)).toEqual(["escalation.triggered", "escalation.resolved", "escalation.triggered"]);
      const [first, resolve, second] = entries.map(messageOf);
      const notifier = await m.host.composition.notifier();
      // Late and out of order: escalation 1's page and resolve after escalation 2 began.
      await notifier.handle(second!);
      await notifier.handle(first!);
      await notifier.handle(resolve!);
      const pd = forTicket(pagerduty, ticket.id).map((d) => (d.json as { event_action: string }).event_action);
      expect(pd).toEqual(["trigger"]); // escalation 2's page; its incident stays open
      await store.markOutboxSent(entries);
      await m.call(who.jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
    });
  });

  it("(i) a channel refusing for good (4xx) is not retried, and does not stop the others' retries", async () => {
    const ticket = await openTicket();
    pagerduty.failNext(about(ticket.id), 400);
    webhook.failNext(about(ticket.number), 503);
    await raise(ticket.id);
    await firstAttempt(ticket.number);
    // The webhook's retry, then the local queue's redeliveries of the message that keeps failing on PagerDuty's refusal.
    await untilFirstRepage();
    expect(webhook.requests.filter(about(ticket.number)).map((r) => r.status)).toEqual([503, 200]);
    expect(pagerduty.requests.filter(about(ticket.id)).map((r) => r.status)).toEqual([400]);
    await t.call(jane, "POST", `/tickets/${ticket.id}/escalation/acknowledge`);
  });

  it("(j) a message that claims to retry another one, but is not its retry, is refused", async () => {
    const notifier = await t.host.composition.notifier();
    const ticket = await openTicket();
    const body = {
      version: 1,
      event: "repaged",
      ticketId: ticket.id,
      cycle: 3,
      page: 2,
      retryOf: `${ticket.id}.3`,
      attempt: 1,
      facts: {
        ticketId: ticket.id,
        ticketNumber: ticket.number,
        priority: "emergency",
        severity: null,
        status: "open",
        assignee: null,
        actor: { name: "x", role: "agent" },
        reason: "r",
        occurredAt: new Date().toISOString(),
      },
    };
    await expect(notifier.handle({ messageId: "forged-1", body })).rejects.toThrow(/not its retry/);
  });
});
