import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlertReceiver, sleep, type AlertReceiver } from "../support/alert-receiver.js";
import { startAmqpBroker, type AmqpBroker } from "../support/amqp-broker.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * Fault (a): Service Bus is unreachable when the change is written. The write
 * succeeds (its outbox entry is in the same batch), and once Service Bus is back
 * the dispatcher publishes it, through the real SDK over AMQP, and the alert
 * arrives, once.
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
    await broker.stop();
    await sleep(200); // the outage starts before the write, not during the publish

    const triaged = await t.call(qa, "PATCH", `/tickets/${opened.body.id}`, { body: { priority: "emergency" } });
    expect(triaged.status).toBe(200);
    expect(triaged.body.escalation.state).toBe("triggered");
    await sleep(1500); // the dispatcher tries, fails, and keeps the entry
    const store = await t.host.app.store();
    const unsent = await store.unsentOutbox({ limit: 10 });
    expect(unsent.map((e) => [e.ticketId, e.event])).toEqual([[opened.body.id, "triggered"]]);
    expect(broker.received).toEqual([]);

    await broker.start();
    for (let i = 0; i < 100 && broker.received.length === 0; i++) await sleep(50);
    expect(broker.received.map((m) => [m.messageId, m.subject])).toEqual([[unsent[0]!.messageId, "escalation.triggered"]]);
    for (let i = 0; i < 40 && (await store.unsentOutbox({ limit: 10 })).length > 0; i++) await sleep(50);
    expect(await store.unsentOutbox({ limit: 10 })).toEqual([]);

    // The Service Bus trigger hands the message to the notifier; here the test does, twice,
    // as a redelivery would.
    const message = broker.received[0]!;
    const notifier = await t.host.app.notifier();
    await notifier.handle({ messageId: String(message.messageId), body: message.body });
    await notifier.handle({ messageId: String(message.messageId), body: message.body });
    const alerts = webhook.delivered().filter((d) => d.body.includes(opened.body.number));
    expect(alerts.map((a) => (a.json as { event: string }).event)).toEqual(["triggered"]);
    // The first page scheduled the next one on Service Bus.
    expect(broker.scheduled.map((m) => m.subject)).toEqual(["escalation.repaged"]);
  });
});
