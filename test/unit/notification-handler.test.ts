import { describe, expect, it } from "vitest";
import { Failure } from "../../shared/kernel/failure.js";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import type { EmailMessage } from "../../shared/notifications/domain/messages.js";
import { handleNotification, type NotificationDeps } from "../../shared/notifications/handler.js";
import type { EmailOutcome, OutgoingEmail } from "../../shared/notifications/ports.js";

/**
 * The notifications handler's own decisions (notifications/handler.ts), with the world in
 * memory: when an email is retried, when it dead-letters, what is recorded. The protocols
 * themselves (Communication Services, the queue, the store) are the e2e and integration tests'.
 */
const email: EmailMessage = {
  version: 1,
  kind: "email",
  ticket: { id: "t1", number: "12345678" },
  seq: 2,
  requesterId: "karen",
  about: "reply",
  to: { name: "Karen Karen", email: "karen@example.com" },
  subject: "[#12345678] Printer",
  text: "On it.",
  attempt: 0,
};

function world(send: (email: OutgoingEmail) => Promise<EmailOutcome>) {
  const published: QueueMessage[] = [];
  const records = new Set<string>();
  const refused: unknown[] = [];
  const lines: string[] = [];
  let failRecords = 0;
  const deps: NotificationDeps = {
    emails: { describe: "memory", send },
    records: {
      done: async (ticketId, id) => records.has(`${ticketId}/${id}`),
      async sent(ticketId, id) {
        if (failRecords-- > 0) throw new Failure("unavailable", "store down");
        records.add(`${ticketId}/${id}`);
      },
      async refused(ticketId, what, id) {
        refused.push(what);
        records.add(`${ticketId}/${id}`);
        return true;
      },
    },
    preferences: { get: async () => null, put: async () => {} },
    webhooks: { list: async () => [], get: async () => null, create: async () => {}, update: async () => {}, delete: async () => false },
    post: async () => {},
    publisher: { publish: async (m) => void published.push(...m), close: async () => {} },
    ticketUrl: (t) => `https://help.example.com/tickets/${t.number}`,
    settings: { retrySeconds: 30, maxRetries: 2 },
    now: () => new Date("2026-12-01T10:00:00.000Z"),
    log: (line) => lines.push(line),
  };
  return { deps, published, records, refused, lines, failRecordsNext: (n: number) => (failRecords = n) };
}

const down = async (): Promise<EmailOutcome> => {
  throw new Error("503 ServiceUnavailable");
};

describe("the notifications handler", () => {
  it("retries an email the service did not take, with backoff, under the first message's id; the last retry throws, to dead-letter", async () => {
    const w = world(down);
    await handleNotification(w.deps, { messageId: "t1.outbox-email-2-aa", body: email });
    await handleNotification(w.deps, { messageId: "t1.outbox-email-2-aa.retry-1", body: { ...email, attempt: 1 } });
    expect(w.published.map((m) => [m.messageId, (m.body as EmailMessage).attempt, m.scheduledAt?.toISOString()])).toEqual([
      ["t1.outbox-email-2-aa.retry-1", 1, "2026-12-01T10:00:30.000Z"],
      ["t1.outbox-email-2-aa.retry-2", 2, "2026-12-01T10:01:00.000Z"],
    ]);
    await expect(handleNotification(w.deps, { messageId: "t1.outbox-email-2-aa.retry-2", body: { ...email, attempt: 2 } })).rejects.toThrow(
      /no retries left/,
    );
    expect(w.published).toHaveLength(2);
    expect(w.records.size).toBe(0);
  });

  it("records a refused address once, and does not retry it", async () => {
    const w = world(async () => ({ kind: "refused", code: "InvalidRecipients", message: "No such mailbox." }));
    await handleNotification(w.deps, { messageId: "m1", body: email });
    await handleNotification(w.deps, { messageId: "m1", body: email });
    expect(w.refused).toEqual([{ to: "karen@example.com", about: 2, code: "InvalidRecipients", message: "No such mailbox." }]);
    expect(w.published).toEqual([]);
  });

  it("writes an accepted email's record again when the store fails, rather than leave it to a redelivery that would send it twice", async () => {
    let sends = 0;
    const w = world(async () => ({ kind: "accepted", id: `op-${++sends}` }));
    w.failRecordsNext(2);
    await handleNotification(w.deps, { messageId: "m1", body: email });
    await handleNotification(w.deps, { messageId: "m1", body: email });
    expect(sends).toBe(1);
    expect(w.records.size).toBe(1);
  });

  it("refuses a message without an id, which every id it makes would share", async () => {
    const w = world(down);
    await expect(handleNotification(w.deps, { messageId: "", body: email })).rejects.toThrow(/without a message id/);
    expect(w.published).toEqual([]);
  });
});
