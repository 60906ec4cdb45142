import { afterEach, describe, expect, it } from "vitest";
import { pagerDutyChannel } from "../../shared/escalation/channels/pagerduty.js";
import { slackChannel } from "../../shared/escalation/channels/slack.js";
import { teamsChannel } from "../../shared/escalation/channels/teams.js";
import { webhookChannel } from "../../shared/escalation/channels/webhook.js";
import { Deliveries } from "../../shared/escalation/deliveries.js";
import type { Channel } from "../../shared/escalation/ports.js";
import { escalationEntries } from "../../shared/escalation/outbox.js";
import { Notifier, type NotifierSettings } from "../../shared/escalation/notifier.js";
import type { Alert } from "../../shared/escalation/domain/alert.js";
import { Failure } from "../../shared/kernel/failure.js";
import type { Principal } from "../../shared/kernel/principal.js";
import type { QueueMessage } from "../../shared/outbox/ports.js";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";
import { openTicket } from "../../shared/tickets/domain/commands.js";
import type { Ticket } from "../../shared/tickets/domain/model.js";
import { slaTimer, withSla } from "../../shared/tickets/domain/sla.js";
import type { StoredTicket } from "../../shared/tickets/ports.js";
import { startCaptureServer, type CaptureServer } from "./support/capture-server.js";

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

function setUp(
  options: { storeFailures?: number; failRecordOnce?: boolean; failWith?: () => Error; channels?: Channel[]; ticket?: Ticket } = {},
) {
  const change = openTicket(
    { subject: "Mobile banking is down", description: "all down", priority: "emergency" },
    qa,
    { id: "t1", number: "10000001", requesterId: (e: string) => e },
    new Date(NOW).toISOString(),
  );
  const [entry] = escalationEntries(change, "r1");
  // Only the ticket matters to the notifier; the rest of what the store keeps is left out.
  const stored = { ticket: options.ticket ?? change.ticket, etag: "e1", keys: {} } as Partial<StoredTicket> as StoredTicket;
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
  const logged: string[] = [];
  const notifier = new Notifier({
    tickets: { get: () => (getFailures-- > 0 ? Promise.reject(failWith()) : Promise.resolve(stored)) },
    deliveries,
    channels: options.channels ?? [
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
    log: (line) => logged.push(line),
  });
  return { notifier, entry: entry!, alerts, published, records, logged };
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

/*
 * The SLA's page and notices, through the real channels to HTTP servers started here (the
 * console is the local host's, in memory): who gets what, and that nothing is sent twice.
 */
const karen: Principal = { id: "karen", name: "Karen Karen", email: "karen@example.com", role: "requester" };
const SECRET = "whsec-0123456789abcdef";
const HTTP_CHANNELS = ["webhook", "teams", "slack", "pagerduty"] as const;
type HttpChannel = (typeof HTTP_CHANNELS)[number];

let servers: Partial<Record<HttpChannel, CaptureServer>> = {};
afterEach(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  servers = {};
});

async function channelsNamed(names: (HttpChannel | "console")[]) {
  const printed: Alert[] = [];
  const channels: Channel[] = [];
  for (const name of names) {
    if (name === "console") {
      channels.push({
        name,
        deliver: (alert) => {
          printed.push(alert);
          return Promise.resolve();
        },
      });
      continue;
    }
    const { url } = (servers[name] = await startCaptureServer());
    channels.push(
      {
        webhook: () => webhookChannel({ url, secret: SECRET }),
        teams: () => teamsChannel({ url }),
        slack: () => slackChannel({ url }),
        pagerduty: () => pagerDutyChannel({ routingKey: "R0UTINGKEY", url }),
      }[name](),
    );
  }
  return { channels, printed };
}

/** What each HTTP channel received: the events (X-Helpdesk-Event for the webhook, event_action for PagerDuty). */
const received = () =>
  Object.fromEntries(
    HTTP_CHANNELS.map((name) => [
      name,
      (servers[name]?.requests ?? []).map((r) =>
        name === "webhook"
          ? r.headers["x-helpdesk-event"]
          : name === "pagerduty"
            ? (r.json as { event_action: string }).event_action
            : "post",
      ),
    ]),
  );

/** A ticket, its clocks started at intake, and the message of one SLA timer arriving on time. */
function slaMessage(
  caller: Principal,
  priority: "normal" | "emergency",
  target: "firstResponse" | "resolution",
  timer: "warning" | "breach",
) {
  const opened = openTicket(
    { subject: "Mobile banking is down", description: "all down", priority },
    caller,
    { id: "t1", number: "10000001", requesterId: (e: string) => e },
    new Date(NOW).toISOString(),
  );
  const ticket = withSla(null, opened, DEFAULT_SLA_POLICY).ticket;
  const at = timer === "warning" ? ticket.sla![target].warnAt! : ticket.sla![target].dueAt;
  const change = slaTimer(ticket, DEFAULT_SLA_POLICY, at);
  const [entry, ...rest] = escalationEntries(change, "r1");
  expect(rest).toEqual([]);
  return { ticket: change.ticket, message: { messageId: entry!.messageId, body: entry!.body } };
}

describe("notifier: the SLA's page", () => {
  it("pages an emergency's breach on every channel, once, with no re-page scheduled; a redelivery sends nothing", async () => {
    const { ticket, message } = slaMessage(qa, "emergency", "firstResponse", "breach");
    const { channels, printed } = await channelsNamed([...HTTP_CHANNELS, "console"]);
    const { notifier, published, records } = setUp({ channels, ticket });

    await expect(notifier.handle(message)).resolves.toBeUndefined();
    expect(received()).toEqual({ webhook: ["sla_breached"], teams: ["post"], slack: ["post"], pagerduty: ["trigger"] });
    expect(printed.map((a) => a.event)).toEqual(["sla_breached"]);
    // Nothing scheduled: no re-page, no retry.
    expect(published).toEqual([]);
    // Each delivery recorded, under the event's name.
    expect([...records.values()].map((r) => (r as { channel: string; event: string }).event)).toEqual(Array(5).fill("sla_breached"));

    await notifier.handle(message);
    await notifier.handle(message);
    expect(received()).toEqual({ webhook: ["sla_breached"], teams: ["post"], slack: ["post"], pagerduty: ["trigger"] });
    expect(printed).toHaveLength(1);
    expect(published).toEqual([]);
  });

  it.each([
    ["resolved, and a newer escalation came and went", { state: "resolved", cycle: 99 }],
    ["none (never raised)", { state: "none", cycle: 0 }],
  ] as const)("pages a breach whatever the escalation is by now: %s, with no trigger delivered", async (_, escalation) => {
    const { ticket, message } = slaMessage(qa, "emergency", "firstResponse", "breach");
    const { channels } = await channelsNamed(["webhook", "pagerduty"]);
    const now = { ...ticket, escalation: { ...ticket.escalation, ...escalation } };
    const { notifier, published } = setUp({ channels, ticket: now });

    await notifier.handle(message);
    expect(received()).toMatchObject({ webhook: ["sla_breached"], pagerduty: ["trigger"] });
    expect(published).toEqual([]);
  });
});

describe("notifier: the SLA's notices", () => {
  it.each([
    ["a warning", "emergency", "firstResponse", "warning", "sla.warning"],
    ["a breach on a ticket not business-impacting", "normal", "firstResponse", "breach", "sla.breached"],
  ] as const)("%s goes to the webhook and the console only", async (_, priority, target, timer, event) => {
    const { ticket, message } = slaMessage(priority === "emergency" ? qa : karen, priority, target, timer);
    const { channels, printed } = await channelsNamed([...HTTP_CHANNELS, "console"]);
    const { notifier, published, records } = setUp({ channels, ticket });

    await expect(notifier.handle(message)).resolves.toBeUndefined();
    expect(received()).toEqual({ webhook: [event], teams: [], slack: [], pagerduty: [] });
    expect(printed.map((a) => a.event)).toEqual([event]);
    // A notice waits for no trigger (a ticket at normal has none): nothing is left for a retry.
    expect(published).toEqual([]);
    expect([...records.values()].map((r) => (r as { channel: string }).channel).sort()).toEqual(["console", "webhook"]);
  });

  it("with no webhook configured, is logged in one line and the message succeeds: no retry, nothing sent", async () => {
    const { ticket, message } = slaMessage(karen, "normal", "firstResponse", "warning");
    const { channels } = await channelsNamed(["teams", "slack", "pagerduty"]);
    const { notifier, published, records, logged } = setUp({ channels, ticket });

    await expect(notifier.handle(message)).resolves.toBeUndefined();
    expect(received()).toEqual({ webhook: [], teams: [], slack: [], pagerduty: [] });
    expect(logged).toEqual(["escalation #10000001: sla.warning notice not sent: no webhook is configured (ALERT_WEBHOOK_URL)"]);
    expect(published).toEqual([]);
    expect(records.size).toBe(0);
  });

  it("a webhook that failed gets the notice from the retry, under the same delivery id; redelivered, nothing more", async () => {
    const { ticket, message } = slaMessage(karen, "normal", "firstResponse", "warning");
    const { channels } = await channelsNamed(["webhook"]);
    servers.webhook!.answer({ status: 503 });
    const { notifier, published } = setUp({ channels, ticket });

    await notifier.handle(message);
    const [retry, ...more] = published;
    expect(more).toEqual([]);
    expect(retry).toMatchObject({ messageId: `${message.messageId}.retry-1`, subject: "sla.warning" });
    await notifier.handle(retry!);
    await notifier.handle(retry!);
    await notifier.handle(message);
    const requests = servers.webhook!.requests;
    expect(requests.map((r) => r.headers["x-helpdesk-event"])).toEqual(["sla.warning", "sla.warning"]);
    expect(new Set(requests.map((r) => r.headers["x-helpdesk-delivery"])).size).toBe(1);
    expect(published).toHaveLength(1);
  });
});
