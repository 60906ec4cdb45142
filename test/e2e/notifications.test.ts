import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyWebhookSignature } from "../../shared/kernel/webhook-signature.js";
import { startAlertReceiver, type AlertReceiver } from "../support/alert-receiver.js";
import { startEmailService, type EmailService } from "../support/email-service.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * Telling the requester, over HTTP end to end: the local host sends its emails with
 * @azure/communication-email to a server that answers as Communication Services Email does
 * (support/email-service.ts), through the outbox and the in-process `notifications` queue; the
 * apps' webhooks get signed events from the same queue, at a receiver the test starts.
 */
let t: TestHost;
let mail: EmailService;
let hooks: AlertReceiver;
let failing: AlertReceiver;
let qa: string;
let admin: string;
let karen: string;
const SECRET = "an-app-backend-secret-0123456789";

beforeAll(async () => {
  [mail, hooks, failing] = await Promise.all([startEmailService(), startAlertReceiver(), startAlertReceiver(500)]);
  t = await startTestHost({
    EMAIL_ENDPOINT: mail.url,
    EMAIL_SENDER: mail.sender,
    EMAIL_CONNECTION_STRING: mail.connectionString,
    NOTIFICATION_RETRY_SECONDS: "0.05",
    NOTIFICATION_MAX_RETRIES: "2",
    TICKET_URL_TEMPLATE: "https://help.example.com/tickets/{number}",
  });
  [qa, admin, karen] = await Promise.all([t.token(PEOPLE.qa), t.token(PEOPLE.admin), t.token(PEOPLE.karen)]);
  // Every message the queue hands over, kept to deliver one again as a queue may.
  const handle = t.host.composition.handleNotification;
  (t.host.composition as { handleNotification: typeof handle }).handleNotification = (message) => {
    handled.push(message);
    return handle(message);
  };
  redeliver = handle;
});
const handled: { messageId: string; body: unknown }[] = [];
let redeliver: (message: { messageId: string; body: unknown }) => Promise<void>;
afterAll(async () => {
  await t?.close();
  await Promise.all([mail?.close(), hooks?.close(), failing?.close()]);
});

async function until<T>(what: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lets the outbox and the queue finish whatever they would send (nothing more arrives in that time). */
const settle = () => new Promise((r) => setTimeout(r, 400));

const emailsTo = (address: string) => mail.accepted.filter((e) => e.to.some((to) => to.address === address));

async function open(token: string, body: Record<string, unknown> = {}): Promise<{ id: string; number: string }> {
  const opened = await t.call(token, "POST", "/tickets", {
    body: { subject: "Mobile banking is down", description: "The app shows an error since 9:00.", ...body },
  });
  expect(opened.status).toBe(201);
  return { id: opened.body.id as string, number: opened.body.number as string };
}
const comment = (token: string, id: string, body: string, visibility = "public") =>
  t.call(token, "POST", `/tickets/${id}/comments`, { body: { body, visibility } });
/** Quinn QA's agent id, as the directory knows her. */
async function qaId(): Promise<string> {
  const agents = (await t.call(qa, "GET", "/agents")).body.items as { id: string; name: string }[];
  return agents.find((a) => a.name === PEOPLE.qa.name)!.id;
}
const move = (token: string, id: string, body: Record<string, unknown>) => t.call(token, "POST", `/tickets/${id}/status`, { body });

describe("the requester's emails", () => {
  it("one per agent's public reply, resolution, close and reopen, and none for any internal change or the requester's own", async () => {
    const person = { name: "Walker Walk", email: "walker.walk@example.com" };
    const walker = await t.token(person);
    const { id, number } = await open(walker);
    const step = async (what: Promise<{ status: number }>) => expect((await what).status).toBeLessThan(300);
    // Every command, in the order a ticket lives them: the internal ones interleaved with the public ones.
    await step(t.call(qa, "PATCH", `/tickets/${id}`, { body: { priority: "high", severity: "SEV-B", subject: "MB login errors" } }));
    await step(t.call(qa, "PUT", `/tickets/${id}/assignee`, { body: { agentId: await qaId() } }));
    await step(comment(qa, id, "Internal: looks like the auth service.", "internal"));
    await step(comment(qa, id, "We are looking into it."));
    await step(comment(walker, id, "Still down for me."));
    await step(move(qa, id, { status: "in_progress" }));
    await step(move(qa, id, { status: "on_hold", reason: "waiting for the vendor" }));
    await step(move(qa, id, { status: "in_progress" }));
    await step(t.call(qa, "POST", `/tickets/${id}/escalation`, { body: { reason: "customers cannot pay" } }));
    await step(t.call(qa, "POST", `/tickets/${id}/escalation/acknowledge`));
    await step(move(qa, id, { status: "resolved", resolution: "The auth service was restarted." }));
    await step(move(walker, id, { status: "open" }));
    await step(move(qa, id, { status: "resolved", resolution: "Restarted again, and patched." }));
    await step(move(qa, id, { status: "closed" }));
    await step(move(qa, id, { status: "open" }));
    await until(
      () => emailsTo(person.email).length,
      (n) => n >= 5,
    );
    await settle();
    const got = emailsTo(person.email);
    // In any order: each change's email is a message of its own, and two sent close together
    // (the close and the reopen) may be accepted in either order, as by the real queue.
    expect(got.map((e) => (e.plainText ?? "").split("\n")[0]).sort()).toEqual(
      [
        "We are looking into it.",
        "The auth service was restarted.",
        "Restarted again, and patched.",
        "Restarted again, and patched.",
        "Your ticket is open again.",
      ].sort(),
    );
    for (const e of got) {
      // The subject she opened it with, never the agents' rename; a link to her ticket.
      expect(e.subject).toBe(`[#${number}] Mobile banking is down`);
      expect(e.plainText).toContain(`https://help.example.com/tickets/${number}`);
      expect(e.plainText).not.toMatch(/Internal|auth service\.|SEV-B|vendor|customers cannot pay/);
      expect(e.from).toBe(mail.sender);
    }
  });

  it("goes to the person an agent opened a ticket for", async () => {
    const { number } = await open(qa, { requester: { name: "Ken Ken", email: "ken.opened-for@example.com" } });
    const [email] = await until(
      () => emailsTo("ken.opened-for@example.com"),
      (v) => v.length > 0,
    );
    expect(email).toMatchObject({ subject: `[#${number}] Mobile banking is down` });
  });

  it("is retried with backoff through an outage of the service, and sent once whatever the redeliveries", async () => {
    const { id } = await open(karen);
    const before = mail.sends.length;
    // The SDK tries 3 times in one attempt (its own retries); the 4th failure is the queue's retry's first try.
    mail.failNext(4, 503);
    expect((await comment(qa, id, "Four failures, then through.")).status).toBe(201);
    const [email] = await until(
      () => emailsTo(PEOPLE.karen.email).filter((e) => (e.plainText ?? "").startsWith("Four failures")),
      (v) => v.length > 0,
    );
    expect(email).toBeDefined();
    // The service has the email before the handler writes its record: let the handler finish.
    await settle();
    expect(mail.sends.length - before).toBe(5);
    const ofThis = handled.filter((m) => (m.body as { kind: string; ticket?: { id: string } }).ticket?.id === id);
    expect(ofThis.filter((m) => (m.body as { kind: string }).kind === "email").map((m) => m.messageId.replace(/^.*\./, "."))).toEqual([
      expect.stringMatching(/^\.outbox-email-\d+-[0-9a-f]{16}$/),
      ".retry-1",
    ]);
    // The first message delivered again, as a queue may (not its retries): nothing is sent.
    const first = handled.find(
      (m) => (m.body as { kind: string; ticket?: { id: string } }).ticket?.id === id && !m.messageId.includes(".retry-"),
    );
    expect(first).toBeDefined();
    await redeliver(first!);
    await redeliver({ ...first!, messageId: `${first!.messageId}.retry-2` });
    await settle();
    expect(mail.sends.length - before).toBe(5);
  });

  it("to an address the service refuses is not retried: an internal entry says so, which the requester never sees", async () => {
    const person = { name: "Nobody Here", email: "nobody@refused.example.com" };
    mail.refuse(person.email);
    const nobody = await t.token(person);
    const { id } = await open(nobody);
    const before = mail.sends.length;
    expect((await comment(qa, id, "Can you hear us?")).status).toBe(201);
    const agents = await until(
      async () => (await t.call(qa, "GET", `/tickets/${id}/timeline`)).body.items as { type: string; visibility: string; data: any }[],
      (items) => items.some((e) => e.type === "email_refused"),
    );
    const refused = agents.find((e) => e.type === "email_refused")!;
    expect(refused).toMatchObject({ visibility: "internal", data: { to: person.email } });
    expect(refused.data.code).toBeTruthy();
    await settle();
    expect(mail.sends.length - before).toBe(1);
    const theirs = (await t.call(nobody, "GET", `/tickets/${id}/timeline`)).body.items as { type: string }[];
    expect(theirs.map((e) => e.type)).not.toContain("email_refused");
  });

  it("is not sent to a requester who turned emails off, and is again once they turn them on", async () => {
    const person = { name: "Quiet Person", email: "quiet@example.com" };
    const quiet = await t.token(person);
    expect((await t.call(quiet, "PUT", "/me/notifications", { body: { email: false } })).status).toBe(200);
    const { id } = await open(quiet);
    expect((await comment(qa, id, "Muted reply.")).status).toBe(201);
    await settle();
    expect(emailsTo(person.email)).toEqual([]);
    expect((await t.call(quiet, "PUT", "/me/notifications", { body: { email: true } })).status).toBe(200);
    expect((await comment(qa, id, "Heard reply.")).status).toBe(201);
    const got = await until(
      () => emailsTo(person.email),
      (v) => v.length > 0,
    );
    expect(got.map((e) => (e.plainText ?? "").split("\n")[0])).toEqual(["Heard reply."]);
  });
});

describe("the apps' webhooks", () => {
  it("are admins' to register, list and delete; the secret is never shown again", async () => {
    const body = { url: hooks.url, events: ["ticket.opened"], secret: SECRET };
    expect((await t.call(qa, "POST", "/webhooks", { body })).status).toBe(403);
    expect((await t.call(karen, "GET", "/webhooks")).status).toBe(403);
    expect((await t.call(admin, "POST", "/webhooks", { body: { ...body, secret: "short" } })).status).toBe(400);
    expect((await t.call(admin, "POST", "/webhooks", { body: { ...body, events: ["ticket.internal_note"] } })).status).toBe(400);
    expect((await t.call(admin, "POST", "/webhooks", { body: { ...body, url: "ftp://example.com/x" } })).status).toBe(400);
    expect((await t.call(admin, "POST", "/webhooks", { body: { ...body, url: "https://user:pw@push.example.com/x" } })).status).toBe(400);
    const created = await t.call(admin, "POST", "/webhooks", { body });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(SECRET);
    const listed = await t.call(admin, "GET", "/webhooks");
    expect(listed.body.items.map((w: { id: string }) => w.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(SECRET);
    const deleted = await t.call(admin, "DELETE", `/webhooks/${created.body.id}`);
    expect(deleted).toMatchObject({ status: 200, body: { id: created.body.id, status: "active" } });
    expect(JSON.stringify(deleted.body)).not.toContain(SECRET);
    expect((await t.call(admin, "DELETE", `/webhooks/${created.body.id}`)).status).toBe(404);
  });

  it("receive signed, thin events of public facts only, never an internal one", async () => {
    const created = await t.call(admin, "POST", "/webhooks", {
      body: { url: hooks.url, events: ["ticket.opened", "ticket.status_changed", "ticket.public_reply"], secret: SECRET },
    });
    expect(created.status).toBe(201);
    const { id, number } = await open(karen, { subject: "Card declined" });
    await t.call(qa, "PATCH", `/tickets/${id}`, { body: { priority: "high", severity: "SEV-B" } });
    await comment(qa, id, "Internal: fraud rule 12 fired.", "internal");
    await t.call(qa, "PUT", `/tickets/${id}/assignee`, { body: { agentId: await qaId() } });
    await comment(qa, id, "We are checking your card.");
    await move(qa, id, { status: "resolved", resolution: "Rule relaxed." });
    const mine = (r: { json: unknown }) => (r.json as { ticket?: { id: string } }).ticket?.id === id;
    await hooks.waitFor(3, mine, 10_000);
    await settle();
    const got = hooks.delivered().filter(mine);
    expect(got.map((r) => (r.json as { event: string }).event).sort()).toEqual([
      "ticket.opened",
      "ticket.public_reply",
      "ticket.status_changed",
    ]);
    for (const r of got) {
      const json = r.json as Record<string, unknown>;
      expect(Object.keys(json).sort()).toEqual(["at", "delivery", "event", "id", "ticket", "version"]);
      expect(json.ticket).toEqual({ id, number });
      expect(r.body).not.toMatch(/fraud|Card declined|checking your card|Rule relaxed|SEV-B/);
      const header = (name: string) => r.headers[name] as string | undefined;
      expect(header("x-helpdesk-event")).toBe(json.event);
      expect(header("x-helpdesk-delivery")).toBe(json.delivery);
      expect(
        verifyWebhookSignature({
          body: r.body,
          timestamp: header("x-helpdesk-timestamp"),
          signature: header("x-helpdesk-signature"),
          secret: SECRET,
        }),
      ).toBe(true);
      expect(
        verifyWebhookSignature({
          body: r.body,
          timestamp: header("x-helpdesk-timestamp"),
          signature: header("x-helpdesk-signature"),
          secret: "another-secret-of-16+",
        }),
      ).toBe(false);
    }
    await t.call(admin, "DELETE", `/webhooks/${created.body.id}`);
  });

  it("that keeps failing is retried with backoff, then paused, and says so when listed", async () => {
    const created = await t.call(admin, "POST", "/webhooks", { body: { url: failing.url, events: ["ticket.opened"], secret: SECRET } });
    expect(created.status).toBe(201);
    for (let i = 0; i < 5; i++) await open(karen, { subject: `Failing ${i}` });
    const listed = await until(
      async () =>
        ((await t.call(admin, "GET", "/webhooks")).body.items as { id: string; status: string; failures: number }[]).find(
          (w) => w.id === created.body.id,
        )!,
      (w) => w.status === "paused",
    );
    expect(listed).toMatchObject({ status: "paused", failures: 5, lastError: "HTTP 500" });
    // Each event: its first attempt and its 2 retries, then no more.
    expect(failing.requests.length).toBe(15);
    const retried = failing.requests.map((r) => r.headers["x-helpdesk-delivery"]);
    expect(new Set(retried).size).toBe(5);
    await open(karen, { subject: "After the pause" });
    await settle();
    expect(failing.requests.length).toBe(15);
  });
});
