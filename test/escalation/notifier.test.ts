import { describe, expect, it } from "vitest";
import { Deliveries } from "../../shared/escalation/deliveries.js";
import { escalationEntries } from "../../shared/escalation/outbox.js";
import { Notifier, type NotifierSettings } from "../../shared/escalation/notifier.js";
import type { Alert } from "../../shared/escalation/domain/alert.js";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import { openTicket } from "../../shared/tickets/domain/commands.js";
import type { StoredTicket } from "../../shared/tickets/ports.js";

/**
 * The notifier with its dependencies in memory, so a test decides when the store
 * fails: a store that does not answer must make the message wait (a scheduled copy,
 * with backoff), not throw, which would spend the queue's deliveries in seconds.
 */
const qa: Principal = { id: "qa", name: "Quinn QA", email: "qa@example.com", role: "agent" };
const NOW = Date.UTC(2026, 0, 1, 9, 0, 0);
const SETTINGS: NotifierSettings = {
  ackTimeoutSeconds: 900,
  maxRepages: 2,
  ticketUrlTemplate: "https://helpdesk.example/tickets/{number}",
  retrySeconds: 30,
  maxRetries: 3,
};

const unavailable = () => new Failure("unavailable", "The ticket store is not answering; retry later.");

function setUp(options: { storeFailures?: number; failRecordOnce?: boolean; failWith?: () => Error } = {}) {
  const change = openTicket(
    { subject: "Mobile banking is down", description: "all down", priority: "emergency" },
    qa,
    { id: "t1", number: "10000001", requesterId: (e: string) => e },
    new Date(NOW).toISOString(),
  );
  const [entry] = escalationEntries(change, "r1");
  // Only the ticket matters to the notifier; the rest of what the store keeps is left out.
  const stored = { ticket: change.ticket, etag: "e1", keys: {} } as Partial<StoredTicket> as StoredTicket;
  const records = new Map<string, unknown>();
  let getFailures = options.storeFailures ?? 0;
  let recordFailures = options.failRecordOnce ? 1 : 0;
  const failWith = options.failWith ?? unavailable;
  const hash = (text: string) => Buffer.from(text).toString("hex").padEnd(32, "0");
  const deliveries = new Deliveries({
    store: {
      record: <T>(_ticketId: string, id: string) => Promise.resolve((records.get(id) as T | undefined) ?? null),
    },
    timeline: {
      recordDelivery: (_ticketId, _delivery, record) => {
        if (recordFailures-- > 0) return Promise.reject(failWith());
        records.set(record.id, record);
        return Promise.resolve();
      },
    },
    hash,
  });
  const alerts: { alert: Alert; deliveryId: string }[] = [];
  const published: QueueMessage[] = [];
  const notifier = new Notifier({
    tickets: { get: () => (getFailures-- > 0 ? Promise.reject(failWith()) : Promise.resolve(stored)) },
    deliveries,
    channels: [
      {
        name: "webhook",
        deliver: (alert, deliveryId) => {
          alerts.push({ alert, deliveryId });
          return Promise.resolve();
        },
      },
    ],
    publisher: {
      publish: (messages) => {
        published.push(...messages);
        return Promise.resolve();
      },
      close: () => Promise.resolve(),
    },
    settings: SETTINGS,
    now: () => new Date(NOW),
    log: () => {},
  });
  return { notifier, entry: entry!, alerts, published };
}

const retries = (published: QueueMessage[]) => published.filter((m) => m.messageId.includes(".retry-"));
const repages = (published: QueueMessage[]) => published.filter((m) => m.messageId.includes(".page-"));

describe("notifier: a store that does not answer", () => {
  it("reschedules the message with backoff instead of throwing, and the retry delivers exactly one alert", async () => {
    const { notifier, entry, alerts, published } = setUp({ storeFailures: 1 });

    await expect(notifier.handle({ messageId: entry.messageId, body: entry.body })).resolves.toBeUndefined();
    expect(alerts).toHaveLength(0);
    const [retry] = retries(published);
    expect(retry).toMatchObject({ messageId: `${entry.messageId}.retry-1`, scheduledAt: new Date(NOW + 30_000) });

    await notifier.handle({ messageId: retry!.messageId, body: retry!.body });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.alert).toMatchObject({ event: "triggered", page: 1 });
    // The first attempt never reached the point where the next page is scheduled: the retry does it.
    expect(repages(published).map((m) => m.messageId)).toEqual([`t1.${entry.body.cycle as number}.page-2`]);

    // The retry seen again, or the first message redelivered: nothing more is sent.
    await notifier.handle({ messageId: retry!.messageId, body: retry!.body });
    await notifier.handle({ messageId: entry.messageId, body: entry.body });
    expect(alerts).toHaveLength(1);
  });

  it("treats any store error as one to wait for (a data role still propagating answers 403)", async () => {
    const { notifier, entry, alerts, published } = setUp({ storeFailures: 1, failWith: () => new Error("Forbidden (403)") });

    await expect(notifier.handle({ messageId: entry.messageId, body: entry.body })).resolves.toBeUndefined();
    const [retry] = retries(published);
    await notifier.handle({ messageId: retry!.messageId, body: retry!.body });
    expect(alerts).toHaveLength(1);
  });

  it("backs off, doubling the delay, and throws (so the message dead-letters) once maxRetries are spent", async () => {
    const { notifier, entry, alerts, published } = setUp({ storeFailures: Infinity });

    let message: { messageId: string; body: unknown } = { messageId: entry.messageId, body: entry.body };
    for (let attempt = 1; attempt <= SETTINGS.maxRetries; attempt++) {
      await expect(notifier.handle(message)).resolves.toBeUndefined();
      const retry = retries(published).at(-1)!;
      expect(retry.messageId).toBe(`${entry.messageId}.retry-${attempt}`);
      expect(retry.scheduledAt).toEqual(new Date(NOW + 30_000 * 2 ** (attempt - 1)));
      message = retry;
    }
    await expect(notifier.handle(message)).rejects.toThrow(/waits for the ticket store/);
    expect(retries(published)).toHaveLength(SETTINGS.maxRetries);
    expect(alerts).toHaveLength(0);
  });

  it("a delivery the store failed to record is sent again by the retry under the same delivery id, and only once more", async () => {
    const { notifier, entry, alerts, published } = setUp({ failRecordOnce: true });

    await expect(notifier.handle({ messageId: entry.messageId, body: entry.body })).resolves.toBeUndefined();
    const [retry] = retries(published);
    await notifier.handle({ messageId: retry!.messageId, body: retry!.body });
    await notifier.handle({ messageId: retry!.messageId, body: retry!.body });

    expect(alerts).toHaveLength(2);
    expect(new Set(alerts.map((a) => a.deliveryId)).size).toBe(1);
    // The page was scheduled by the first attempt, before the store failed: not a second time.
    expect(repages(published)).toHaveLength(1);
  });

  it("still throws at once for a message it cannot read", async () => {
    const { notifier, published } = setUp();

    await expect(notifier.handle({ messageId: "m1", body: { version: 2 } })).rejects.toThrow(/not an escalation message v1/);
    expect(published).toHaveLength(0);
  });
});
