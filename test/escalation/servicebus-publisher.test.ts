import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import type * as AzureLogging from "@azure/logger";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import { ServiceBusPublisher, serviceBusPublisher } from "../../shared/adapters/servicebus/publisher.js";
import { startAmqpBroker, type AmqpBroker } from "../support/amqp-broker.js";

// The real @azure/service-bus SDK against an AMQP 1.0 stand-in (test/support/amqp-broker.ts).

let broker: AmqpBroker;
let publisher: ServiceBusPublisher;

beforeAll(async () => {
  broker = await startAmqpBroker();
  publisher = new ServiceBusPublisher({ queueName: "escalations", connectionString: broker.connectionString });
});

afterAll(async () => {
  await publisher?.close();
  await broker?.stop();
});

function message(overrides: Partial<QueueMessage> = {}): QueueMessage {
  return {
    messageId: randomUUID(),
    subject: "escalation.triggered",
    body: { version: 1, ticketId: "t-1", number: 42, reasons: ["priority:urgent"], nested: { ok: true } },
    ...overrides,
  };
}

// The SDK is CommonJS, so it logs through the CommonJS build of @azure/logger: another
// instance than an `import` of the package would give.
const { AzureLogger, setLogLevel } = createRequire(import.meta.url)("@azure/logger") as typeof AzureLogging;

/**
 * Runs `cause` and waits until the SDK has seen its connection drop and made a new one,
 * as its own (verbose) log says: the observable start of an outage for a client.
 */
async function sdkSeesTheDrop(cause: () => Promise<void>): Promise<void> {
  const lines: string[] = [];
  const log = AzureLogger.log;
  AzureLogger.log = (...args: unknown[]) => void lines.push(args.map(String).join(" "));
  setLogLevel("verbose");
  try {
    await cause();
    await vi.waitFor(() => expect(lines.some((l) => /The connection ".+" has been updated to ".+"/.test(l))).toBe(true), {
      timeout: 5_000,
      interval: 10,
    });
  } finally {
    setLogLevel();
    AzureLogger.log = log;
  }
}

const receivedById = (id: string) => broker.received.filter((m) => m.messageId === id);

describe("ServiceBusPublisher", () => {
  it("sends id, subject, JSON body, content type and correlation id as given, in one batch", async () => {
    const first = message({ correlationId: "req-123" });
    const second = message({ subject: "escalation.acknowledged", body: { version: 1, ticketId: "t-2" } });
    const deliveriesBefore = broker.deliveries;

    await publisher.publish([first, second]);

    const [got1] = receivedById(first.messageId);
    expect(got1).toMatchObject({
      messageId: first.messageId,
      subject: "escalation.triggered",
      body: first.body,
      contentType: "application/json",
      correlationId: "req-123",
    });
    const [got2] = receivedById(second.messageId);
    expect(got2).toMatchObject({
      subject: "escalation.acknowledged",
      body: { version: 1, ticketId: "t-2" },
      contentType: "application/json",
    });
    expect(got2).not.toHaveProperty("correlationId");
    expect(broker.deliveries - deliveriesBefore).toBe(1);
    // Authenticated through the claims node before the first send.
    expect(broker.claims.some((c) => c.audience.endsWith("/escalations"))).toBe(true);
  });

  it("schedules a message with scheduledAt instead of sending it now", async () => {
    const at = new Date(Math.floor(Date.now() / 1000) * 1000 + 15 * 60_000);
    const repage = message({ subject: "escalation.repage", scheduledAt: at, correlationId: "req-9" });
    const now = message();

    await publisher.publish([repage, now]);

    const scheduled = broker.scheduled.filter((m) => m.messageId === repage.messageId);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.scheduledEnqueueTime.toISOString()).toBe(at.toISOString());
    expect(scheduled[0]).toMatchObject({
      subject: "escalation.repage",
      body: repage.body,
      contentType: "application/json",
      correlationId: "req-9",
    });
    expect(receivedById(repage.messageId)).toHaveLength(0);
    expect(receivedById(now.messageId)).toHaveLength(1);
  });

  it("publishing the same messageId again stores it once (duplicate detection keys on it)", async () => {
    const entry = message();
    const droppedBefore = broker.duplicatesDropped;

    await publisher.publish([entry]);
    await publisher.publish([{ ...entry, body: { version: 1, retried: true } }]);

    expect(receivedById(entry.messageId)).toHaveLength(1);
    expect(receivedById(entry.messageId)[0]!.body).toEqual(entry.body);
    expect(broker.duplicatesDropped - droppedBefore).toBe(1);
  });

  it("rejects within seconds while Service Bus is unreachable, and recovers when it is back", async () => {
    await publisher.publish([message()]); // connected before the outage
    // The outage began a moment before this publish, as it would in real life.
    await sdkSeesTheDrop(() => broker.stop());

    const lost = message();
    const started = Date.now();
    await expect(publisher.publish([lost])).rejects.toThrow(/escalations failed: .*ECONNREFUSED/);
    expect(Date.now() - started).toBeLessThan(5_000);

    await broker.start();
    const later = message();
    await publisher.publish([later]);
    expect(receivedById(later.messageId)).toHaveLength(1);
    expect(receivedById(lost.messageId)).toHaveLength(0);
  });

  it("gives up at the deadline when Service Bus hangs mid-send, and recovers when it answers again", async () => {
    const hasty = new ServiceBusPublisher({ queueName: "escalations", connectionString: broker.connectionString, deadlineMs: 1_000 });
    try {
      await hasty.publish([message()]);
      broker.unresponsive = true;
      const stuck = message();
      const started = Date.now();
      await expect(hasty.publish([stuck])).rejects.toThrow(/no answer within 1000 ms/);
      expect(Date.now() - started).toBeLessThan(3_000);

      broker.unresponsive = false;
      const later = message();
      await hasty.publish([later]);
      expect(receivedById(later.messageId)).toHaveLength(1);
      expect(receivedById(stuck.messageId)).toHaveLength(0);
    } finally {
      broker.unresponsive = false;
      await hasty.close();
    }
  });
});

describe("serviceBusPublisher", () => {
  it("uses the connection string when no namespace is set", async () => {
    const fromSettings = await serviceBusPublisher({ namespace: undefined, connectionString: broker.connectionString }, "escalations");
    const entry = message();
    try {
      await fromSettings.publish([entry]);
    } finally {
      await fromSettings.close();
    }
    expect(receivedById(entry.messageId)).toHaveLength(1);
  });

  it("refuses settings with neither a namespace nor a connection string", async () => {
    await expect(serviceBusPublisher({ namespace: undefined, connectionString: undefined }, "escalations")).rejects.toThrow(
      /SERVICE_BUS_NAMESPACE/,
    );
  });
});
