import { createHmac, randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import { ServiceBusConsumer, type ConsumedMessage } from "../../shared/adapters/servicebus/consumer.js";
import { ServiceBusPublisher } from "../../shared/adapters/servicebus/publisher.js";
import { banner } from "../../shared/local/banner.js";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { startAmqpBroker, type AmqpBroker, type AmqpBrokerOptions } from "../support/amqp-broker.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";
import { ManualScheduler } from "../support/manual-scheduler.js";

// The consumer through the real @azure/service-bus SDK against the AMQP stand-in
// (test/support/amqp-broker.ts), then on a local host configured for Service Bus.

const QUEUE = "escalations";
/** The lock duration of the lock-renewal test's broker; the SDK renews a lock halfway through. */
const LOCK_MS = 1_200;

// Generous: on a loaded two-core machine the SDK can take several seconds to attach again.
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  await vi.waitFor(() => expect(condition(), `waiting for ${what}`).toBe(true), { timeout: timeoutMs, interval: 10 });
}

/**
 * Nothing the broker holds can reach a receiver again: no message waits, none is out
 * under a lock (an abandon or an expired lock is what brings one back). Scheduled
 * messages are the tests' to account for.
 */
function expectBrokerIdle(broker: AmqpBroker): void {
  expect(broker.waiting).toBe(0);
  expect(broker.locked).toBe(0);
}

function message(overrides: Partial<QueueMessage> = {}): QueueMessage {
  return {
    messageId: randomUUID(),
    subject: "escalation.triggered",
    body: { version: 1, ticketId: "t-1", nested: { ok: true } },
    ...overrides,
  };
}

describe("ServiceBusConsumer", () => {
  let broker: AmqpBroker;
  let publisher: ServiceBusPublisher;
  let consumer: ServiceBusConsumer | undefined;
  let handled: ConsumedMessage[];
  let logs: string[];

  /**
   * A broker per test: each starts from an empty queue. Its locks last as long as
   * infra/'s (60 s) unless the test says otherwise: a short lock would run out, unrenewed,
   * while the receive link is gone (the SDK stops renewing the locks of a detached link).
   */
  async function startBroker(options: AmqpBrokerOptions = {}): Promise<void> {
    broker = await startAmqpBroker({ maxDeliveryCount: 3, ...options });
    publisher = new ServiceBusPublisher({ queueName: QUEUE, connectionString: broker.connectionString });
  }
  /** For a test that needs a broker of another kind than beforeEach's. */
  async function replaceBroker(options: AmqpBrokerOptions): Promise<void> {
    await publisher.close();
    await broker.stop();
    await startBroker(options);
  }
  beforeEach(async () => {
    await startBroker();
    handled = [];
    logs = [];
  });
  afterEach(async () => {
    await consumer?.close();
    consumer = undefined;
    await publisher.close();
    await broker.stop();
  });

  async function consume(handler: (m: ConsumedMessage) => Promise<void> = async () => {}): Promise<ServiceBusConsumer> {
    consumer = new ServiceBusConsumer({
      queueName: QUEUE,
      connectionString: broker.connectionString,
      retryDelayMs: 20,
      log: (line) => logs.push(line),
      handler: async (m) => {
        handled.push(m);
        await handler(m);
      },
    });
    await consumer.start();
    return consumer;
  }

  it("hands a published message to the handler once, with its id and body, then completes it", async () => {
    await consume();
    const sent = message({ correlationId: "req-1" });
    await publisher.publish([sent]);

    await until(() => broker.completed.length === 1, "the completion");
    expectBrokerIdle(broker); // so no second delivery can come
    expect(handled).toEqual([{ messageId: sent.messageId, body: sent.body }]);
    expect(broker.settlements).toEqual([{ messageId: sent.messageId, outcome: "complete", via: "link", deliveryCount: 1 }]);
    expect(broker.waiting).toBe(0);
    expect(logs).toEqual([]);
  });

  it("abandons a message whose handler throws, so it comes back, and completes it once the handler succeeds", async () => {
    let failures = 2;
    await consume(async () => {
      if (failures-- > 0) throw new Error("webhook answered 500");
    });
    const sent = message();
    await publisher.publish([sent]);

    await until(() => broker.completed.length === 1, "the completion");
    expectBrokerIdle(broker);
    expect(handled.map((m) => m.messageId)).toEqual([sent.messageId, sent.messageId, sent.messageId]);
    expect(broker.settlements.map((s) => [s.outcome, s.deliveryCount])).toEqual([
      ["abandon", 1],
      ["abandon", 2],
      ["complete", 3],
    ]);
    expect(broker.completed[0]!.deliveryCount).toBe(3);
    expect(broker.deadLettered).toEqual([]);
    // The delivery count reaches the consumer through the SDK, and each failure is said once, without the body.
    expect(logs).toEqual([
      expect.stringMatching(new RegExp(`message ${sent.messageId} failed on delivery 1; abandoning .*webhook answered 500`)),
      expect.stringMatching(new RegExp(`message ${sent.messageId} failed on delivery 2; abandoning`)),
    ]);
    expect(logs.join("\n")).not.toContain("nested");
  });

  it("a message that always fails is dead-lettered after maxDeliveryCount deliveries", async () => {
    await consume(async () => {
      throw new Error("not an escalation message v1");
    });
    const sent = message();
    await publisher.publish([sent]);

    await until(() => broker.deadLettered.length === 1, "the dead letter");
    expectBrokerIdle(broker);
    expect(handled).toHaveLength(3);
    expect(broker.deadLettered[0]).toMatchObject({
      messageId: sent.messageId,
      deliveryCount: 3,
      deadLetterReason: "MaxDeliveryCountExceeded",
    });
    expect(broker.completed).toEqual([]);
    expect(broker.waiting).toBe(0);
  });

  it("keeps the lock of a message whose handler outlives it: the SDK renews it, and the completion counts", async () => {
    await replaceBroker({ lockDurationMs: LOCK_MS }); // a lock the handler outlives within the test
    let outlived = false;
    await consume(async () => {
      // The handler runs until its message's first lock would have run out, and the SDK has renewed it.
      const lockEnds = Date.now() + LOCK_MS;
      await until(() => broker.lockRenewals >= 1 && Date.now() > lockEnds, "the lock's renewal and its first end", 5_000);
      outlived = true;
    });
    const sent = message();
    await publisher.publish([sent]);

    await until(() => broker.completed.length === 1, "the completion");
    expect(outlived).toBe(true);
    expect(broker.lockRenewals).toBeGreaterThanOrEqual(1);
    expect(handled).toHaveLength(1);
    expect(broker.settlements.map((s) => s.outcome)).toEqual(["complete"]);
  });

  it("settles by lock token over $management when the receive link is gone, and receives again once it is back", async () => {
    let finish!: () => void;
    const running = new Promise<void>((resolve) => (finish = resolve));
    await consume(() => running);
    const sent = message();
    await publisher.publish([sent]);
    await until(() => handled.length === 1, "the delivery");

    broker.refuseReceivers = true; // the link goes, the connection stays
    // The SDK has seen the detach: it reports it (and keeps trying to attach again).
    await until(() => logs.some((l) => l.includes("The test broker detached the receiver")), "the SDK to see the detach");
    finish();
    await until(() => broker.completed.length === 1, "the completion");
    expect(broker.settlements).toEqual([{ messageId: sent.messageId, outcome: "complete", via: "management", deliveryCount: 1 }]);

    broker.refuseReceivers = false;
    const next = message();
    await publisher.publish([next]);
    await until(() => broker.completed.length === 2, "the next completion");
    expect(handled.map((m) => m.messageId)).toEqual([sent.messageId, next.messageId]);
  });

  it("a scheduled message is handled at its time, not before", async () => {
    const clock = new ManualScheduler();
    await replaceBroker({ scheduler: clock }); // the queue's time is the test's
    await consume();
    const at = new Date(clock.now().getTime() + 700);
    const repage = message({ subject: "escalation.repaged", scheduledAt: at });
    await publisher.publish([repage]);
    // Held for its time: nothing a receiver could be handed.
    expect(broker.scheduled.map((m) => [m.messageId, m.scheduledEnqueueTime.toISOString()])).toEqual([
      [repage.messageId, at.toISOString()],
    ]);
    expect(broker.received).toEqual([]);

    await clock.advance(699);
    expect(broker.waiting + broker.locked).toBe(0);
    expect(broker.scheduled[0]!.deliveryCount).toBe(0); // never handed out before its time
    expect(handled).toEqual([]);

    await clock.advance(1);
    await until(() => broker.completed.length === 1, "the scheduled message");
    expect(handled.map((m) => m.messageId)).toEqual([repage.messageId]);
  });

  it("after close() takes no more messages: they wait on the queue", async () => {
    const c = await consume();
    const first = message();
    await publisher.publish([first]);
    await until(() => broker.completed.length === 1, "the first completion");

    await c.close();
    // Closed, the consumer has no receive link left, so the broker cannot hand it anything.
    await until(() => broker.receivers === 0, "the receive link to close");
    await publisher.publish([message()]);
    expect(broker.waiting).toBe(1);
    expect(broker.locked).toBe(0);
    expect(handled.map((m) => m.messageId)).toEqual([first.messageId]);
  });
});

describe("a local host configured for Service Bus", () => {
  const SECRET = "test-webhook-secret-0123456789";
  const ACK_TIMEOUT = 0.8; // seconds between pages
  let broker: AmqpBroker;
  let webhook: AlertReceiver;
  let t: TestHost;
  // The host and the broker share a clock the tests move: re-pages come when a test says.
  let clock: ManualScheduler;

  beforeAll(async () => {
    clock = new ManualScheduler();
    broker = await startAmqpBroker({ scheduler: clock });
    webhook = await startAlertReceiver();
    t = await startTestHost(
      {
        SERVICE_BUS_CONNECTION_STRING: broker.connectionString,
        ALERT_WEBHOOK_URL: webhook.url,
        ALERT_WEBHOOK_SECRET: SECRET,
        ESCALATION_ACK_TIMEOUT_SECONDS: String(ACK_TIMEOUT),
        ESCALATION_MAX_REPAGES: "1",
      },
      { scheduler: clock },
    );
  });
  afterAll(async () => {
    await t.close();
    await broker.stop();
    await webhook.close();
  });

  async function raiseNewTicket(subject: string) {
    const [karen, qa] = await Promise.all([t.token(PEOPLE.karen), t.token(PEOPLE.qa)]);
    const opened = await t.call(karen, "POST", "/tickets", { body: { subject, description: "all of it" } });
    expect(opened.status).toBe(201);
    const raised = await t.call(qa, "PATCH", `/tickets/${opened.body.id}`, {
      body: { priority: "emergency", reason: "business-impacting" },
    });
    expect(raised.status).toBe(200);
    return opened.body as { id: string; number: string };
  }

  const alertsAbout = (number: string) => webhook.delivered().filter((d) => d.body.includes(number));
  const events = (number: string) => alertsAbout(number).map((d) => (d.json as { event: string }).event);
  const about = (ticket: { id: string }) => (m: { body: unknown }) => (m.body as { ticketId?: string }).ticketId === ticket.id;

  /** The page's message, once the host's consumer has completed it: its handler has run to the end. */
  async function completedTrigger(ticket: { id: string; number: string }) {
    await webhook.waitFor(1, (d) => d.body.includes(ticket.number));
    const trigger = broker.received.find((m) => m.subject === "escalation.triggered" && about(ticket)(m));
    expect(trigger).toBeDefined();
    await until(() => broker.completed.includes(trigger!), "the completion");
    return trigger!;
  }

  it("says it consumes the queue", () => {
    expect(banner(t.host, t.host.composition.config).find((l) => l.startsWith("  queue:"))).toMatch(
      /^ {2}queue: {4}Service Bus queue escalations .*; this host consumes it$/,
    );
  });

  it("a triage to emergency makes exactly one signed alert reach the webhook, through Service Bus", async () => {
    const ticket = await raiseNewTicket("Mobile banking is down");

    const trigger = await completedTrigger(ticket);
    // No second alert can come: the queue holds nothing to deliver, and all the ticket has
    // scheduled is its re-page (on its own schedule: the next test), no retry of the page.
    expectBrokerIdle(broker);
    expect(broker.scheduled.filter(about(ticket)).map((m) => m.subject)).toEqual(["escalation.repaged"]);
    expect(events(ticket.number)).toEqual(["triggered"]);
    expect(trigger.deliveryCount).toBe(1);
    expect(broker.settlements.filter((s) => s.messageId === trigger.messageId)).toEqual([
      { messageId: trigger.messageId, outcome: "complete", via: "link", deliveryCount: 1 },
    ]);
    const alert = alertsAbout(ticket.number)[0]!;
    const timestamp = String(alert.headers["x-helpdesk-timestamp"]);
    const expected = `sha256=${createHmac("sha256", SECRET).update(`${timestamp}.${alert.body}`).digest("hex")}`;
    expect(alert.headers["x-helpdesk-signature"]).toBe(expected);
  });

  it("an unacknowledged escalation is paged again by the message it scheduled on Service Bus", async () => {
    const ticket = await raiseNewTicket("Branch VPN is down");

    await completedTrigger(ticket);
    const repage = broker.scheduled.find(about(ticket));
    expect(repage).toMatchObject({ subject: "escalation.repaged" });
    expect(events(ticket.number)).toEqual(["triggered"]); // not before its time
    await clock.advance(ACK_TIMEOUT * 1000); // its time: the broker enqueues it

    await webhook.waitFor(2, (d) => d.body.includes(ticket.number));
    expect(events(ticket.number)).toEqual(["triggered", "repaged"]);
    await until(() => broker.completed.includes(repage!), "the re-page's completion");
    // ESCALATION_MAX_REPAGES is 1: the re-page, handled to the end, scheduled nothing more.
    expect(broker.scheduled.filter(about(ticket))).toHaveLength(1);
    expectBrokerIdle(broker);
    expect(events(ticket.number)).toEqual(["triggered", "repaged"]);
  });
});
