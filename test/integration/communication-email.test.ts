import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  communicationEmailSender,
  operationIdOf,
  type CommunicationEmailOptions,
} from "../../shared/adapters/email/communication-email.js";
import { startEmailService, type EmailService } from "../support/email-service.js";
import { outgoingEmail } from "../support/notification-fixtures.js";

/** The adapter and the real SDK against the stand-in, over HTTP, signed with the access key. */
let service: EmailService;
beforeEach(async () => {
  service = await startEmailService();
});
afterEach(() => service.close());

const email = outgoingEmail;

const senderFor = (s: EmailService, over: Partial<CommunicationEmailOptions> = {}) =>
  communicationEmailSender({
    endpoint: s.url,
    sender: s.sender,
    connectionString: s.connectionString,
    pollIntervalMs: 10,
    maxRetries: 0,
    ...over,
  });

/** What the send threw: it must throw, not answer. */
async function thrown(sending: Promise<unknown>): Promise<Error> {
  const outcome = await sending.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a throw, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(Error);
  return outcome.error as Error;
}

describe("the Communication Services email sender", () => {
  it("sends the email as written, from the sender, under the operation id its key gives", async () => {
    const outcome = await senderFor(service).send(email());

    const id = operationIdOf("t-42:e-7:karen");
    expect(outcome).toEqual({ kind: "accepted", id });
    expect(service.accepted).toHaveLength(1);
    expect(service.accepted[0]).toMatchObject({
      operationId: id,
      from: service.sender,
      to: [{ address: "karen@example.com", displayName: "Karen Requester" }],
      subject: "[#42] Printer on fire: resolved",
      plainText: "Jane Agent wrote:\n\nReplaced the fuser.\n\nhttp://localhost:7071/tickets/42",
    });
    expect(service.sends.map((s) => s.operationId)).toEqual([id]);
    expect(service.polls).toEqual([id]);
  });

  it("polls until the operation is done", async () => {
    const slow = await startEmailService({ runningPolls: 2 });
    try {
      expect(await senderFor(slow).send(email())).toMatchObject({ kind: "accepted" });
      expect(slow.polls).toHaveLength(3);
    } finally {
      await slow.close();
    }
  });

  it("derives the operation id from the key alone: a name-based UUID (version 5)", async () => {
    const sender = senderFor(service);
    await sender.send(email());
    await sender.send(email({ subject: "redelivered" }));
    await sender.send(email({ key: "t-42:e-8:karen" }));

    const [first, again, other] = service.sends.map((s) => s.operationId);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same as the uuid package's v5(key, namespace), checked once by hand: a change of the derivation
    // would give redeliveries of emails already queued new operation ids.
    expect(operationIdOf("ticket-1:entry-2:karen")).toBe("7a7147cd-12a8-52d7-bf30-8d6ac56d54b9");
  });

  it("says refused, with the service's code, for an address the service will not take", async () => {
    service.refuse("nobody@example.com");

    const outcome = await senderFor(service).send(email({ to: { name: "Nobody", email: "nobody@example.com" } }));

    expect(outcome).toMatchObject({ kind: "refused", code: "InvalidRecipients" });
    expect(service.sends.map((s) => s.status)).toEqual([400]);
    expect(service.accepted).toEqual([]);
  });

  it("throws, and does not say refused, when the service refuses this deployment's sender: no email is marked refused for its fault", async () => {
    const error = await thrown(senderFor(service, { sender: "DoNotReply@not-linked.example.com" }).send(email()));

    expect(service.sends.map((s) => s.status)).toEqual([400]);
    expect(error.message).toMatch(/400 BadRequest/);
  });

  it("says refused when the operation ends Failed", async () => {
    service.failLater("bounced@example.com", "EmailDroppedAllRecipientsSuppressed");

    const outcome = await senderFor(service).send(email({ to: { name: "Bounced", email: "bounced@example.com" } }));

    expect(outcome).toEqual({
      kind: "refused",
      code: "EmailDroppedAllRecipientsSuppressed",
      message: "The email could not be delivered to its recipients.",
    });
  });

  it("throws on a 503, retried as told, and its words hold neither the key nor the connection string", async () => {
    service.failNext(5, 503);

    const error = await thrown(senderFor(service, { maxRetries: 1, retryDelayMs: 10 }).send(email()));

    expect(error.message).toMatch(/503 ServiceUnavailable/);
    expect(error.message).not.toContain(service.accessKey);
    expect(error.message).not.toContain("accesskey");
    expect(error.cause).toBeUndefined();
    expect(service.sends).toHaveLength(2);
    expect(service.accepted).toEqual([]);
  });

  it("throws when throttled (429), after the Retry-After the service gives", async () => {
    service.failNext(2, 429, 0);

    await expect(senderFor(service, { maxRetries: 1 }).send(email())).rejects.toThrow(/429 TooManyRequests/);
    expect(service.sends).toHaveLength(2);
  });

  it("throws, and does not say refused, when the service does not know the access key", async () => {
    const other = await startEmailService();
    try {
      // The right endpoint, another resource's key: the signature does not verify.
      const wrongKey = `endpoint=${service.url}/;accesskey=${other.accessKey}`;
      const error = await thrown(senderFor(service, { connectionString: wrongKey }).send(email()));

      expect(service.sends.map((s) => s.status)).toEqual([401]);
      expect(error.message).toMatch(/401 Denied/);
      expect(error.message).not.toContain(other.accessKey);
    } finally {
      await other.close();
    }
  });

  it("gives up at its deadline on a service that never answers", async () => {
    service.hangNext(1);
    const started = Date.now();

    await expect(senderFor(service, { deadlineMs: 300 }).send(email())).rejects.toThrow(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("never repeats a malformed connection string, which holds the key", async () => {
    const malformed = `endpoint=${service.url}/,accesskey=${service.accessKey}`;

    const error = await thrown(senderFor(service, { connectionString: malformed }).send(email()));

    expect(error.message).not.toContain(service.accessKey);
    expect(service.sends).toEqual([]);
  });

  it("says where the emails go", () => {
    expect(senderFor(service).describe).toBe(`communication services (${new URL(service.url).host})`);
  });
});
