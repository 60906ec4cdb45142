import { afterAll, beforeAll, describe, expect, it, vi, type MockInstance } from "vitest";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { startAmqpBroker, type AmqpBroker } from "../support/amqp-broker.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

/**
 * Fault (a): Service Bus is unreachable when the change is written. The write
 * succeeds (its outbox entry is in the same batch), and once Service Bus is back
 * the dispatcher publishes it, through the real SDK over AMQP, the host's own
 * consumer hands it to the notifier, and the alert arrives, once.
 *
 * The host's outbox pump runs on a clock the test moves, so its next sweep comes when
 * the test says; what the host logs (to stderr) tells when the outage has reached it.
 */
let broker: AmqpBroker;
let webhook: AlertReceiver;
let t: TestHost;
let clock: ManualScheduler;
let stderr: MockInstance<typeof console.error>;

/** Whether the host has logged a line matching `pattern`. */
const logged = (pattern: RegExp) => stderr.mock.calls.some((args) => pattern.test(args.map(String).join(" ")));

beforeAll(async () => {
  stderr = vi.spyOn(console, "error");
  clock = new ManualScheduler();
  broker = await startAmqpBroker();
  webhook = await startAlertReceiver();
  t = await startTestHost(
    {
      SERVICE_BUS_CONNECTION_STRING: broker.connectionString,
      ALERT_WEBHOOK_URL: webhook.url,
      ALERT_WEBHOOK_SECRET: "test-webhook-secret-0123456789",
    },
    { scheduler: clock },
  );
});
afterAll(async () => {
  await t.close();
  await broker.stop();
  await webhook.close();
  stderr.mockRestore();
});

describe("Service Bus unreachable during the write", () => {
  it("the write succeeds, and the alert arrives once Service Bus is back", async () => {
    const [karen, qa] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.qa)]);
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "Mobile banking is down", description: "all of it" } });
    // The outage begins while the host is consuming. (A drop while the SDK is still negotiating
    // its claim holds the receiver until the SDK's 60 s operation timeout: another case.)
    await vi.waitFor(() => expect(broker.receivers).toBe(1), { timeout: 5_000 });
    await broker.stop();
    // The outage starts before the write, not during the publish: the host's consumer has seen it.
    await vi.waitFor(() => expect(logged(/^Service Bus consumer \(.+\) on escalations: /)).toBe(true), { timeout: 5_000 });

    const triaged = await t.call(qa, "PATCH", `/tickets/${opened.body.id}`, { body: { priority: "emergency" } });
    expect(triaged.status).toBe(200);
    expect(triaged.body.escalation.state).toBe("triggered");
    // The dispatcher tries, fails, and keeps the entry for the pump's next sweep.
    await vi.waitFor(() => expect(logged(/^outbox: dispatch failed, retrying in 1000 ms/)).toBe(true), { timeout: 10_000 });
    const store = (await t.host.composition.stores()).tickets;
    // The page, and the SLA clocks' timers (on their own queue, which this test does not watch).
    const unsent = (await store.unsentOutbox({ limit: 10 })).filter((e) => e.queue === "escalations");
    expect(unsent.map((e) => [e.ticketId, e.subject])).toEqual([[opened.body.id, "escalation.triggered"]]);
    expect(broker.received).toEqual([]);

    // The first completion will not count (its lock is lost), so Service Bus delivers the message again.
    broker.loseNextLocks(1);
    await broker.start();
    await clock.advance(1000); // the pump's next sweep, run to the end: published, then marked sent
    expect(broker.received.map((m) => [m.messageId, m.subject])).toEqual([[unsent[0]!.messageId, "escalation.triggered"]]);
    expect(await store.unsentOutbox({ limit: 10 })).toEqual([]);

    // The host consumes the queue itself: the alert arrives with nobody handing the message over.
    await webhook.waitFor(1, (d) => d.body.includes(opened.body.number), 10_000);
    const message = broker.received[0]!;
    await vi.waitFor(() => expect(broker.completed).toContain(message), { timeout: 10_000 });
    // Delivered twice (the first completion was lost), completed once, and still one alert.
    expect(broker.settlements.filter((s) => s.messageId === message.messageId).map((s) => [s.outcome, s.deliveryCount])).toEqual([
      ["lock-lost", 1],
      ["complete", 2],
    ]);
    // Nothing is left to deliver (no message waits, none is locked), so no other alert can come.
    expect(broker.waiting).toBe(0);
    expect(broker.locked).toBe(0);
    const alerts = webhook.delivered().filter((d) => d.body.includes(opened.body.number));
    expect(alerts.map((a) => (a.json as { event: string }).event)).toEqual(["triggered"]);
    // The first page scheduled the next one on Service Bus, once: the redelivery's attempt was a duplicate.
    expect(broker.scheduled.map((m) => m.subject)).toEqual(["escalation.repaged"]);
  });
});
