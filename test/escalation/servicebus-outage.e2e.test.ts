import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlertReceiver, sleep, type AlertReceiver } from "../support/alert-receiver.js";
import { startAmqpBroker, type AmqpBroker } from "../support/amqp-broker.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * Fault (a): Service Bus is unreachable when the change is written. The write
 * succeeds (its outbox entry is in the same batch), and once Service Bus is back
 * the dispatcher publishes it, through the real SDK over AMQP, the host's own
 * consumer hands it to the notifier, and the alert arrives, once.
 */
let broker: AmqpBroker;
let webhook: AlertReceiver;
let t: TestHost;

beforeAll(async () => {
  broker = await startAmqpBroker();
  webhook = await startAlertReceiver();
  t = await startTestHost({
    SERVICE_BUS_CONNECTION_STRING: broker.connectionString,
    ALERT_WEBHOOK_URL: webhook.url,
    ALERT_WEBHOOK_SECRET: "test-webhook-secret-0123456789",
  });
});
afterAll(async () => {
  await t.close();
  await broker.stop();
  await webhook.close();
});

describe("Service Bus unreachable during the write", () => {
  it("the write succeeds, and the alert arrives once Service Bus is back", async () => {
    const [karen, qa] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.qa)]);
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "Mobile banking is down", description: "all of it" } });
    // The outage begins while the host is consuming. (A drop while the SDK is still negotiating
    // its claim holds the receiver until the SDK's 60 s operation timeout: another case.)
    for (let i = 0; i < 100 && broker.receivers === 0; i++) await sleep(50);
    expect(broker.receivers).toBe(1);
    await broker.stop();
    await sleep(200); // the outage starts before the write, not during the publish

    const triaged = await t.call(qa, "PATCH", `/tickets/${opened.body.id}`, { body: { priority: "emergency" } });
    expect(triaged.status).toBe(200);
    expect(triaged.body.escalation.state).toBe("triggered");
    await sleep(1500); // the dispatcher tries, fails, and keeps the entry
    const store = (await t.host.composition.stores()).tickets;
    const unsent = await store.unsentOutbox({ limit: 10 });
    expect(unsent.map((e) => [e.ticketId, e.subject])).toEqual([[opened.body.id, "escalation.triggered"]]);
    expect(broker.received).toEqual([]);

    // The first completion will not count (its lock is lost), so Service Bus delivers the message again.
    broker.loseNextLocks(1);
    await broker.start();
    for (let i = 0; i < 100 && broker.received.length === 0; i++) await sleep(50);
    expect(broker.received.map((m) => [m.messageId, m.subject])).toEqual([[unsent[0]!.messageId, "escalation.triggered"]]);
    for (let i = 0; i < 40 && (await store.unsentOutbox({ limit: 10 })).length > 0; i++) await sleep(50);
    expect(await store.unsentOutbox({ limit: 10 })).toEqual([]);

    // The host consumes the queue itself: the alert arrives with nobody handing the message over.
    await webhook.waitFor(1, (d) => d.body.includes(opened.body.number), 10_000);
    const message = broker.received[0]!;
    for (let i = 0; i < 100 && !broker.completed.includes(message); i++) await sleep(50);
    // Delivered twice (the first completion was lost), completed once, and still one alert.
    expect(broker.settlements.filter((s) => s.messageId === message.messageId).map((s) => [s.outcome, s.deliveryCount])).toEqual([
      ["lock-lost", 1],
      ["complete", 2],
    ]);
    await sleep(300);
    const alerts = webhook.delivered().filter((d) => d.body.includes(opened.body.number));
    expect(alerts.map((a) => (a.json as { event: string }).event)).toEqual(["triggered"]);
    // The first page scheduled the next one on Service Bus, once: the redelivery's attempt was a duplicate.
    expect(broker.scheduled.map((m) => m.subject)).toEqual(["escalation.repaged"]);
  });
});
