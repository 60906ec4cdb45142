import { createHmac } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeliveryError } from "../../shared/escalation/channels/errors.js";
import { factList, summaryLine } from "../../shared/escalation/channels/format.js";
import { channelsFromConfig } from "../../shared/escalation/channels/from-config.js";
import { ticketLink } from "../../shared/escalation/channels/link.js";
import { pagerDutyChannel, pagerDutySeverity } from "../../shared/escalation/channels/pagerduty.js";
import { slackChannel } from "../../shared/escalation/channels/slack.js";
import { teamsChannel } from "../../shared/escalation/channels/teams.js";
import { webhookChannel } from "../../shared/escalation/channels/webhook.js";
import { verifyWebhookSignature } from "../../shared/kernel/webhook-signature.js";
import type { Alert } from "../../shared/escalation/domain/alert.js";
import type { Channel } from "../../shared/escalation/ports.js";
import { startCaptureServer, type CaptureServer, type CapturedRequest } from "./support/capture-server.js";

// Request bodies are read as `any` and checked field by field against literal shapes.

const SECRET = "whsec-0123456789abcdef-do-not-leak";
const ROUTING_KEY = "R0UT1NGKEY0123456789abcdefghijkl";
const NOW = new Date("2026-03-01T10:00:07.900Z");
const NOW_SECONDS = "1772359207";

function alert(over: Partial<Alert> = {}): Alert {
  return {
    event: "triggered",
    ticketId: "6f1c2b0e-tkt",
    ticketNumber: "12345678",
    priority: "emergency",
    severity: "SEV-A",
    status: "open",
    assignee: { name: "Bruno Lima" },
    actor: { name: "Carla Dias", role: "agent" },
    reason: "priority raised: customers cannot log in",
    link: "https://helpdesk.example.com/tickets/6f1c2b0e-tkt",
    page: 1,
    occurredAt: "2026-03-01T10:00:00.000Z",
    ...over,
  };
}

let server: CaptureServer;
beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await server.close();
});

const body = (req: CapturedRequest) => req.json as any;

/** What a person reads in each channel's message, with Slack's entities decoded. */
const visibleText: Record<string, (json: any) => string> = {
  webhook: (b) => [b.summary, ...b.facts.map((f: any) => `${f.label}: ${f.value}`)].join("\n"),
  teams: (m) => {
    const card = m.attachments[0].content;
    return [card.body[0].text, ...card.body[1].facts.map((f: any) => `${f.title}: ${f.value}`), card.actions[0].url].join("\n");
  },
  slack: (m) =>
    [m.text, m.blocks[0].text.text, ...m.blocks.flatMap((b: any) => [...(b.fields ?? []), ...(b.elements ?? [])].map((t: any) => t.text))]
      .join("\n")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&"),
  pagerduty: (e) =>
    [
      e.payload.summary,
      ...Object.entries(e.payload.custom_details).map(([k, v]) => `${k}: ${String(v)}`),
      ...e.links.map((l: any) => `${l.text} ${l.href}`),
    ].join("\n"),
};

/** The credentials each channel holds: the ones it must never put in an error message. */
const credentials = (name: string, url: string): string[] =>
  ({ webhook: [SECRET, new URL(url).pathname], teams: [new URL(url).pathname], slack: [new URL(url).pathname], pagerduty: [ROUTING_KEY] })[
    name
  ]!;

const makers: Record<string, (url: string) => Channel> = {
  webhook: (url) => webhookChannel({ url, secret: SECRET, now: () => NOW }),
  teams: (url) => teamsChannel({ url }),
  slack: (url) => slackChannel({ url }),
  pagerduty: (url) => pagerDutyChannel({ routingKey: ROUTING_KEY, url }),
};

describe("every channel", () => {
  describe.each(Object.keys(makers))("%s", (name) => {
    const make = makers[name]!;
    // PagerDuty's acknowledge and resolve carry no text (see the PagerDuty tests); its triggers do.
    const events: Alert["event"][] = name === "pagerduty" ? ["triggered", "repaged"] : ["triggered", "repaged", "acknowledged", "resolved"];

    it.each(events)("names the ticket, urgency, assignee, actor, reason and link on %s", async (event) => {
      const a = alert({ event, page: event === "repaged" ? 3 : 1 });
      await make(server.url).deliver(a, "d-1");
      const text = visibleText[name]!(body(server.only()));
      for (const expected of ["#12345678", "emergency", "SEV-A", "Bruno Lima", "Carla Dias", a.reason, a.link]) {
        expect(text.toLowerCase(), `${name} ${event}: ${expected}`).toContain(expected.toLowerCase());
      }
      if (event === "repaged") expect(text).toContain("page 3");
    });

    it("says 'unassigned' when nobody is assigned", async () => {
      await make(server.url).deliver(alert({ assignee: null, severity: null }), "d-1");
      expect(visibleText[name]!(body(server.only()))).toContain("unassigned");
    });

    it("POSTs JSON to the configured URL and resolves on 2xx", async () => {
      server.answer({ status: 202, body: '{"status":"success"}' });
      await make(server.url).deliver(alert(), "d-1");
      const req = server.only();
      expect(req.method).toBe("POST");
      expect(new URL(server.url).pathname).toBe(req.path);
      expect(req.headers["content-type"]).toBe("application/json");
      expect(req.json).toBeTypeOf("object");
    });

    it.each([500, 503, 429])("throws a retryable DeliveryError on HTTP %i", async (status) => {
      server.answer({ status, body: "try later" });
      const error = await make(server.url)
        .deliver(alert(), "d-1")
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ status, permanent: false, channel: name });
      expect((error as Error).message).toContain("try later");
    });

    it.each([400, 404, 410])("throws a permanent DeliveryError on HTTP %i", async (status) => {
      server.answer({ status, body: "no such hook" });
      const error = await make(server.url)
        .deliver(alert(), "d-1")
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(DeliveryError);
      expect(error).toMatchObject({ status, permanent: true });
    });

    it("keeps secrets and the webhook URL out of the error, and at most 200 characters of the answer", async () => {
      // A receiver that echoes everything back, e.g. PagerDuty quoting the invalid event.
      server.answer({ status: 400, body: `bad request ${SECRET} ${ROUTING_KEY} ${server.url} ${"x".repeat(1000)}` });
      const error = (await make(server.url)
        .deliver(alert(), "d-1")
        .then(
          () => null,
          (e: unknown) => e,
        )) as Error;
      expect(error.message).toContain("HTTP 400: bad request");
      for (const secret of credentials(name, server.url)) expect(error.message).not.toContain(secret);
      expect(error.message).not.toMatch(/x{201}/);
      expect(error.message.length).toBeLessThan(260);
    });

    it("does not follow a redirect, and fails instead", async () => {
      // To the same server, so a followed redirect would show as a second request.
      server.answer({ status: 307, headers: { location: `${new URL(server.url).origin}/elsewhere` } });
      const error = await make(server.url)
        .deliver(alert(), "d-1")
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toMatchObject({ status: 307, permanent: true });
      expect(server.requests).toHaveLength(1);
    });
  });

  it("fails with no status when the receiver is unreachable, without naming the URL", async () => {
    const url = server.url;
    await server.close();
    server = await startCaptureServer(); // for afterEach
    const error = (await slackChannel({ url })
      .deliver(alert(), "d-1")
      .then(
        () => null,
        (e: unknown) => e,
      )) as DeliveryError;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.status).toBeUndefined();
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain("secret-path-xyz");
  });

  it("gives up on a receiver that does not answer in time", async () => {
    server.answer({ status: 200, delayMs: 3000 });
    const started = Date.now();
    const error = await teamsChannel({ url: server.url, timeoutMs: 200 })
      .deliver(alert(), "d-1")
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toMatch(/no answer within 200 ms/);
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it("keeps a bad URL out of fetch's own error message", async () => {
    const url = "not a url/secret-path-xyz";
    const error = (await slackChannel({ url })
      .deliver(alert(), "d-1")
      .then(
        () => null,
        (e: unknown) => e,
      )) as Error;
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error.message).not.toContain("secret-path-xyz");
  });
});

describe("generic webhook", () => {
  const channel = () => webhookChannel({ url: server.url, secret: SECRET, now: () => NOW });

  it("sends the alert as a versioned JSON document with the delivery id inside", async () => {
    const a = alert();
    await channel().deliver(a, "msg-1:webhook");
    expect(body(server.only())).toEqual({
      version: 1,
      delivery: "msg-1:webhook",
      event: "triggered",
      summary: "[EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in",
      facts: factList(a),
      alert: a,
    });
  });

  it("sends the timestamp, the delivery id and an HMAC-SHA256 signature of '<timestamp>.<body>'", async () => {
    await channel().deliver(alert(), "msg-1:webhook");
    const req = server.only();
    expect(req.headers["x-helpdesk-delivery"]).toBe("msg-1:webhook");
    expect(req.headers["x-helpdesk-event"]).toBe("triggered");
    expect(req.headers["x-helpdesk-timestamp"]).toBe(NOW_SECONDS);
    // Recomputed here from the raw bytes received, independently of the code under test.
    const expected =
      "sha256=" +
      createHmac("sha256", SECRET)
        .update(Buffer.concat([Buffer.from(`${NOW_SECONDS}.`), req.raw]))
        .digest("hex");
    expect(req.headers["x-helpdesk-signature"]).toBe(expected);
    expect(JSON.stringify(req.headers)).not.toContain(SECRET);
  });

  it("signs every attempt afresh but keeps the delivery id, so a receiver can drop the duplicate", async () => {
    let clock = NOW.getTime();
    const ch = webhookChannel({ url: server.url, secret: SECRET, now: () => new Date(clock) });
    await ch.deliver(alert(), "msg-1:webhook");
    clock += 600_000;
    await ch.deliver(alert(), "msg-1:webhook");
    const [first, second] = server.requests;
    expect(first!.headers["x-helpdesk-delivery"]).toBe(second!.headers["x-helpdesk-delivery"]);
    expect(Number(second!.headers["x-helpdesk-timestamp"]) - Number(first!.headers["x-helpdesk-timestamp"])).toBe(600);
    expect(
      verifyWebhookSignature({
        body: second!.raw,
        timestamp: String(second!.headers["x-helpdesk-timestamp"]),
        signature: String(second!.headers["x-helpdesk-signature"]),
        secret: SECRET,
        now: new Date(clock),
      }),
    ).toBe(true);
  });

  it("refuses to run without a secret", () => {
    expect(() => webhookChannel({ url: server.url, secret: "" })).toThrow(/ALERT_WEBHOOK_SECRET/);
  });

  describe("verifyWebhookSignature, as a receiver runs it", () => {
    let req: CapturedRequest;
    let ts: string;
    let sig: string;
    beforeEach(async () => {
      await channel().deliver(alert(), "msg-1:webhook");
      req = server.only();
      ts = String(req.headers["x-helpdesk-timestamp"]);
      sig = String(req.headers["x-helpdesk-signature"]);
    });
    const verify = (over: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
      verifyWebhookSignature({ body: req.raw, timestamp: ts, signature: sig, secret: SECRET, now: NOW, ...over });

    it("accepts the request as received, as bytes or as text", () => {
      expect(verify()).toBe(true);
      expect(verify({ body: req.text })).toBe(true);
      expect(verify({ now: new Date(NOW.getTime() + 299_000) })).toBe(true);
    });

    it("rejects a tampered body", () => {
      expect(verify({ body: req.text.replace("customers cannot log in", "customers can log in") })).toBe(false);
      // Re-serialised JSON is not the bytes that were signed.
      expect(verify({ body: JSON.stringify(JSON.parse(req.text), null, 1) })).toBe(false);
    });

    it("rejects a stale or far-future timestamp, and a timestamp swapped for a fresh one", () => {
      expect(verify({ now: new Date(NOW.getTime() + 301_000) })).toBe(false);
      expect(verify({ now: new Date(NOW.getTime() - 301_000) })).toBe(false);
      expect(verify({ now: new Date(NOW.getTime() + 3_600_000), toleranceSeconds: 7200 })).toBe(true);
      expect(verify({ timestamp: String(Number(ts) + 1) })).toBe(false);
    });

    it("rejects a wrong secret, a missing or malformed header", () => {
      expect(verify({ secret: "another-secret-of-some-length" })).toBe(false);
      expect(verify({ signature: undefined })).toBe(false);
      expect(verify({ timestamp: null })).toBe(false);
      expect(verify({ signature: sig.replace("sha256=", "sha1=") })).toBe(false);
      expect(verify({ signature: sig.slice(0, -2) })).toBe(false);
      expect(verify({ timestamp: `${ts}.5` })).toBe(false);
      expect(verify({ signature: sig.toUpperCase().replace("SHA256=", "sha256=") })).toBe(true);
    });
  });
});

describe("Microsoft Teams", () => {
  it("posts a Workflows message carrying an Adaptive Card with the summary, the facts and an 'Open ticket' button", async () => {
    const a = alert();
    await teamsChannel({ url: server.url }).deliver(a, "d-1");
    expect(body(server.only())).toEqual({
      type: "message",
      attachments: [
        {
          contentType: "application/vnd.microsoft.card.adaptive",
          contentUrl: null,
          content: {
            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
            type: "AdaptiveCard",
            version: "1.4",
            body: [
              {
                type: "TextBlock",
                text: "[EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in",
                weight: "Bolder",
                size: "Medium",
                color: "Attention",
                wrap: true,
              },
              {
                type: "FactSet",
                facts: [
                  { title: "Ticket", value: "#12345678" },
                  { title: "Event", value: "Escalated (page 1)" },
                  { title: "Priority", value: "emergency" },
                  { title: "Severity", value: "SEV-A" },
                  { title: "Status", value: "open" },
                  { title: "Assignee", value: "Bruno Lima" },
                  { title: "Escalated by", value: "Carla Dias (agent)" },
                  { title: "Reason", value: "priority raised: customers cannot log in" },
                  { title: "Occurred at", value: "2026-03-01T10:00:00.000Z" },
                  { title: "Link", value: a.link },
                ],
              },
            ],
            actions: [{ type: "Action.OpenUrl", title: "Open ticket", url: a.link }],
            msteams: { width: "Full" },
          },
        },
      ],
    });
  });

  it("titles an acknowledgement as such, in amber, naming who acknowledged", async () => {
    await teamsChannel({ url: server.url }).deliver(alert({ event: "acknowledged", actor: { name: "Dev Ops", role: "agent" } }), "d-1");
    const card = body(server.only()).attachments[0].content;
    expect(card.body[0]).toMatchObject({
      text: "Acknowledged: [EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in",
      color: "Warning",
    });
    expect(card.body[1].facts).toContainEqual({ title: "Acknowledged by", value: "Dev Ops (agent)" });
  });
});

describe("Slack", () => {
  it("posts a fallback text and blocks: header, fields, and a context with the link", async () => {
    const a = alert();
    await slackChannel({ url: server.url }).deliver(a, "d-1");
    const m = body(server.only());
    expect(m.text).toBe(`[EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in <${a.link}|Open ticket #12345678>`);
    expect(m.blocks.map((b: any) => b.type)).toEqual(["header", "section", "context"]);
    expect(m.blocks[0]).toEqual({
      type: "header",
      text: { type: "plain_text", text: "[EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in", emoji: true },
    });
    const fields = m.blocks[1].fields;
    expect(fields[0]).toEqual({ type: "mrkdwn", text: "*Ticket*\n#12345678" });
    expect(fields.map((f: any) => f.text.split("\n")[0])).toEqual([
      "*Ticket*",
      "*Event*",
      "*Priority*",
      "*Severity*",
      "*Status*",
      "*Assignee*",
      "*Escalated by*",
      "*Reason*",
      "*Occurred at*",
    ]);
    expect(m.blocks[2]).toEqual({ type: "context", elements: [{ type: "mrkdwn", text: `<${a.link}|Open ticket #12345678> · ${a.link}` }] });
  });

  it("escapes &, < and > in what people typed, so a reason cannot ping the channel or disguise a link", async () => {
    const reason = "<!channel> R&D <https://evil.example|Open ticket>";
    await slackChannel({ url: server.url }).deliver(alert({ reason, assignee: { name: "<@U123> a > b" } }), "d-1");
    const m = body(server.only());
    const mrkdwn = [m.text, ...m.blocks.flatMap((b: any) => [...(b.fields ?? []), ...(b.elements ?? [])].map((t: any) => t.text))].join(
      "\n",
    );
    expect(mrkdwn).not.toContain("<!channel>");
    expect(mrkdwn).not.toContain("<https://evil");
    expect(mrkdwn).not.toContain("<@U123>");
    expect(mrkdwn).toContain("*Reason*\n&lt;!channel&gt; R&amp;D &lt;https://evil.example|Open ticket&gt;");
    expect(mrkdwn).toContain("*Assignee*\n&lt;@U123&gt; a &gt; b");
    // plain_text is not parsed by Slack: escaping it would show "&lt;" to the reader.
    expect(m.blocks[0].text.text).toBe(`[EMERGENCY, SEV-A] #12345678: ${reason}`);
  });

  it("cuts a long reason to Slack's 150-character header limit", async () => {
    await slackChannel({ url: server.url }).deliver(alert({ reason: "S".repeat(400) }), "d-1");
    const header = body(server.only()).blocks[0].text.text as string;
    expect(header.length).toBe(150);
    expect(header.endsWith("…")).toBe(true);
  });
});

describe("PagerDuty", () => {
  const channel = () => pagerDutyChannel({ routingKey: ROUTING_KEY, url: server.url });

  it("triggers an alert keyed by the ticket id, with summary, severity, details and link", async () => {
    server.answer({ status: 202, body: '{"status":"success","message":"Event processed","dedup_key":"6f1c2b0e-tkt"}' });
    const a = alert();
    await channel().deliver(a, "d-1");
    expect(body(server.only())).toEqual({
      routing_key: ROUTING_KEY,
      event_action: "trigger",
      dedup_key: "6f1c2b0e-tkt",
      payload: {
        summary: "[EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in",
        source: "helpdesk",
        severity: "critical",
        timestamp: "2026-03-01T10:00:00.000Z",
        class: "ticket escalation",
        custom_details: {
          Ticket: "#12345678",
          Event: "Escalated (page 1)",
          Priority: "emergency",
          Severity: "SEV-A",
          Status: "open",
          Assignee: "Bruno Lima",
          "Escalated by": "Carla Dias (agent)",
          Reason: "priority raised: customers cannot log in",
          "Occurred at": "2026-03-01T10:00:00.000Z",
          Link: a.link,
        },
      },
      links: [{ href: a.link, text: "Ticket #12345678" }],
    });
  });

  it.each([
    ["triggered", "trigger"],
    ["repaged", "trigger"],
    ["acknowledged", "acknowledge"],
    ["resolved", "resolve"],
  ] as const)("maps %s to event_action %s on the ticket's dedup_key", async (event, action) => {
    await channel().deliver(alert({ event, page: event === "repaged" ? 2 : 1 }), "d-1");
    const e = body(server.only());
    expect(e.event_action).toBe(action);
    expect(e.dedup_key).toBe("6f1c2b0e-tkt");
    expect(e.routing_key).toBe(ROUTING_KEY);
  });

  it.each(["acknowledged", "resolved"] as const)("sends only routing_key, event_action and dedup_key on %s", async (event) => {
    await channel().deliver(alert({ event }), "d-1");
    expect(Object.keys(body(server.only())).sort()).toEqual(["dedup_key", "event_action", "routing_key"]);
  });

  it("says which page a re-page is", async () => {
    await channel().deliver(alert({ event: "repaged", page: 2 }), "d-1");
    const e = body(server.only());
    expect(e.payload.summary).toBe("Re-page 2: [EMERGENCY, SEV-A] #12345678: priority raised: customers cannot log in");
    expect(e.payload.custom_details.Event).toBe("Re-paged, not acknowledged (page 2)");
  });

  it.each([
    ["emergency", null, "critical"],
    ["emergency", "SEV-D", "critical"],
    ["normal", "SEV-A", "critical"],
    ["high", "SEV-A", "critical"],
    ["high", null, "error"],
    ["low", "SEV-B", "error"],
    ["high", "SEV-C", "error"],
    ["normal", "SEV-C", "warning"],
    ["low", "SEV-C", "warning"],
    ["normal", "SEV-D", "info"],
    ["low", null, "info"],
    ["normal", null, "info"],
  ] as const)("derives severity from priority %s and severity %s: %s", async (priority, severity, expected) => {
    expect(pagerDutySeverity(priority, severity)).toBe(expected);
    await channel().deliver(alert({ priority, severity }), "d-1");
    expect(body(server.only()).payload.severity).toBe(expected);
  });

  it("keeps the summary within PagerDuty's 1024 characters", async () => {
    await channel().deliver(alert({ reason: "word ".repeat(400) }), "d-1");
    const summary = body(server.only()).payload.summary as string;
    expect(summary.length).toBe(1024);
    expect(summary.startsWith("[EMERGENCY, SEV-A] #12345678: word word")).toBe(true);
  });

  it("sends to the Events API v2 endpoint unless told otherwise", async () => {
    const urls: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      urls.push(input instanceof Request ? input.url : input.toString());
      return new Response('{"status":"success"}', { status: 202 });
    };
    await pagerDutyChannel({ routingKey: ROUTING_KEY, fetch: fakeFetch }).deliver(alert(), "d-1");
    expect(urls).toEqual(["https://events.pagerduty.com/v2/enqueue"]);
  });

  it("refuses to run without a routing key", () => {
    expect(() => pagerDutyChannel({ routingKey: "" })).toThrow(/PAGERDUTY_ROUTING_KEY/);
  });
});

describe("channelsFromConfig", () => {
  it("configures no channel when nothing is set", () => {
    expect(channelsFromConfig({})).toEqual({ channels: [], skipped: [] });
    // A secret alone does not make a webhook.
    expect(channelsFromConfig({ ALERT_WEBHOOK_SECRET: SECRET })).toEqual({ channels: [], skipped: [] });
  });

  it("leaves off a channel whose settings are invalid, naming the setting and never its value", () => {
    const { channels, skipped } = channelsFromConfig({
      ALERT_WEBHOOK_URL: server.url,
      TEAMS_WEBHOOK_URL: "not a url",
      SLACK_WEBHOOK_URL: server.url,
      PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
      PAGERDUTY_EVENTS_URL: "ftp://events.example",
    });
    expect(channels.map((c) => c.name)).toEqual(["slack"]);
    expect(skipped).toEqual([
      "ALERT_WEBHOOK_SECRET is not set",
      "TEAMS_WEBHOOK_URL must be an http(s) URL",
      "PAGERDUTY_EVENTS_URL must be an http(s) URL",
    ]);
    expect(channelsFromConfig({ ALERT_WEBHOOK_URL: server.url, ALERT_WEBHOOK_SECRET: "short" }).skipped).toEqual([
      "ALERT_WEBHOOK_SECRET must be 16 characters or more (webhook alerts are signed)",
    ]);
  });

  it("leaves off a channel whose setting is a Key Vault reference Azure did not resolve", () => {
    const reference = "@Microsoft.KeyVault(SecretUri=https://x.vault.azure.net/secrets/y)";
    const { channels, skipped } = channelsFromConfig({
      ALERT_WEBHOOK_URL: server.url,
      ALERT_WEBHOOK_SECRET: reference, // long enough to pass as a secret: it must not become the signing key
      TEAMS_WEBHOOK_URL: reference,
      PAGERDUTY_ROUTING_KEY: reference,
    });
    expect(channels).toEqual([]);
    expect(skipped).toEqual([
      "ALERT_WEBHOOK_SECRET is a Key Vault reference that was not resolved",
      "TEAMS_WEBHOOK_URL is a Key Vault reference that was not resolved",
      "PAGERDUTY_ROUTING_KEY is a Key Vault reference that was not resolved",
    ]);
    expect(skipped.join(" ")).not.toContain("vault.azure.net");
  });

  it("builds each configured channel, pointed at its own setting", async () => {
    const others = await Promise.all([startCaptureServer(), startCaptureServer(), startCaptureServer()]);
    const [teams, slack, pd] = others;
    try {
      const { channels } = channelsFromConfig({
        ALERT_WEBHOOK_URL: server.url,
        ALERT_WEBHOOK_SECRET: SECRET,
        TEAMS_WEBHOOK_URL: teams.url,
        SLACK_WEBHOOK_URL: slack.url,
        PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
        PAGERDUTY_EVENTS_URL: pd.url,
      });
      expect(channels.map((c) => c.name)).toEqual(["webhook", "teams", "slack", "pagerduty"]);
      for (const c of channels) await c.deliver(alert(), `m-1:${c.name}`);
      expect(server.only().headers["x-helpdesk-delivery"]).toBe("m-1:webhook");
      expect(
        verifyWebhookSignature({
          body: server.only().raw,
          timestamp: String(server.only().headers["x-helpdesk-timestamp"]),
          signature: String(server.only().headers["x-helpdesk-signature"]),
          secret: SECRET,
        }),
      ).toBe(true);
      expect(body(teams.only()).type).toBe("message");
      expect(body(slack.only()).blocks).toBeInstanceOf(Array);
      expect(body(pd.only()).routing_key).toBe(ROUTING_KEY);
    } finally {
      await Promise.all(others.map((s) => s.close()));
    }
  });

  it("uses the fetch it is given", async () => {
    const seen: string[] = [];
    const fakeFetch: typeof fetch = async (input) => {
      seen.push(input instanceof Request ? input.url : input.toString());
      return new Response(null, { status: 200 });
    };
    const [slack] = channelsFromConfig({ SLACK_WEBHOOK_URL: "https://hooks.slack.invalid/services/T/B/x" }, fakeFetch).channels;
    await slack!.deliver(alert(), "d-1");
    expect(seen).toEqual(["https://hooks.slack.invalid/services/T/B/x"]);
  });
});

describe("ticketLink", () => {
  it("fills {id} and {number}, every occurrence, URL-encoded", () => {
    expect(ticketLink("https://desk.example/t/{id}?n={number}&again={id}", { id: "a/b?c d", number: "12345678" })).toBe(
      "https://desk.example/t/a%2Fb%3Fc%20d?n=12345678&again=a%2Fb%3Fc%20d",
    );
    expect(ticketLink("https://desk.example/static", { id: "x", number: "1" })).toBe("https://desk.example/static");
  });
});

describe("format", () => {
  it("writes the one-line summary with the priority, the severity when there is one, and the event", () => {
    const reason = "priority raised: customers cannot log in";
    expect(summaryLine(alert({ severity: null }))).toBe(`[EMERGENCY] #12345678: ${reason}`);
    expect(summaryLine(alert({ event: "repaged", page: 4, priority: "high", severity: "SEV-B" }))).toBe(
      `Re-page 4: [HIGH, SEV-B] #12345678: ${reason}`,
    );
    expect(summaryLine(alert({ event: "resolved" }))).toBe(`Resolved: [EMERGENCY, SEV-A] #12345678: ${reason}`);
    expect(summaryLine(alert({ reason: "two\nlines\t here " }))).toBe("[EMERGENCY, SEV-A] #12345678: two lines here");
  });

  it("names who did what, and nothing of the requester", () => {
    const byLabel = (a: Alert) => Object.fromEntries(factList(a).map((f) => [f.label, f.value]));
    expect(byLabel(alert({ event: "resolved" }))["Resolved by"]).toBe("Carla Dias (agent)");
    expect(byLabel(alert({ event: "repaged" }))["Escalated by"]).toBe("Carla Dias (agent)");
    expect(Object.keys(byLabel(alert()))).not.toContain("Requester");
    expect(Object.keys(byLabel(alert()))).not.toContain("Subject");
    expect(byLabel(alert({ reason: "  " })).Reason).toBe("—");
  });
});

describe("the SLA's page and notices", () => {
  const DUE = "2026-03-01T10:15:00.000Z";
  const sla = (event: "sla_breached" | "sla.warning" | "sla.breached", target: "firstResponse" | "resolution" = "firstResponse"): Alert =>
    alert({
      event,
      actor: { name: "SLA clock", role: "system" },
      reason: `SLA ${target === "firstResponse" ? "first response" : "resolution"} ${event === "sla.warning" ? "warning" : "breached"} (due ${DUE})`,
      sla: { target, dueAt: DUE },
      occurredAt: DUE,
    });

  describe.each(Object.keys(makers))("%s", (name) => {
    it("pages an SLA breach in words a responder reads: what was due when, and that the SLA clock saw it", async () => {
      await makers[name]!(server.url).deliver(sla("sla_breached"), "d-1");
      const text = visibleText[name]!(body(server.only()));
      expect(text).toContain(`SLA breached: [EMERGENCY, SEV-A] #12345678: first response was due ${DUE}`);
      for (const expected of [
        "Bruno Lima",
        "SLA clock (system)",
        `SLA first response breached (due ${DUE})`,
        "https://helpdesk.example.com/",
      ]) {
        expect(text, `${name}: ${expected}`).toContain(expected);
      }
      // No page number to count: a breach is paged once, never re-paged.
      expect(text).not.toMatch(/re-page/i);
    });
  });

  it("names the resolution target too", () => {
    expect(summaryLine(sla("sla_breached", "resolution"))).toBe(`SLA breached: [EMERGENCY, SEV-A] #12345678: resolution was due ${DUE}`);
    expect(summaryLine(sla("sla.warning", "resolution"))).toBe(`SLA warning: [EMERGENCY, SEV-A] #12345678: resolution is due ${DUE}`);
    expect(summaryLine(sla("sla.breached"))).toBe(`SLA breached: [EMERGENCY, SEV-A] #12345678: first response was due ${DUE}`);
  });

  it("labels the event, and the SLA clock as what detected it", () => {
    const byLabel = (a: Alert) => Object.fromEntries(factList(a).map((f) => [f.label, f.value]));
    expect(byLabel(sla("sla_breached"))).toMatchObject({ Event: "SLA breached (page)", "Detected by": "SLA clock (system)" });
    expect(byLabel(sla("sla.warning"))).toMatchObject({ Event: "SLA warning (notice)", "Detected by": "SLA clock (system)" });
    expect(byLabel(sla("sla.breached"))).toMatchObject({ Event: "SLA breached (notice)" });
  });

  it.each(["sla_breached", "sla.warning", "sla.breached"] as const)(
    "the webhook names the event %s in its body and X-Helpdesk-Event, with the target and due time, signed",
    async (event) => {
      const a = sla(event);
      await webhookChannel({ url: server.url, secret: SECRET, now: () => NOW }).deliver(a, "msg-9:webhook");
      const req = server.only();
      expect(req.headers["x-helpdesk-event"]).toBe(event);
      expect(body(req)).toMatchObject({
        version: 1,
        delivery: "msg-9:webhook",
        event,
        alert: { event, sla: { target: "firstResponse", dueAt: DUE } },
      });
      expect(body(req).summary).toBe(summaryLine(a));
      const signed = {
        body: req.raw,
        timestamp: String(req.headers["x-helpdesk-timestamp"]),
        signature: String(req.headers["x-helpdesk-signature"]),
      };
      expect(verifyWebhookSignature({ ...signed, secret: SECRET, now: NOW })).toBe(true);
    },
  );

  it("Teams shows a breach in red and a warning in amber", async () => {
    await teamsChannel({ url: server.url }).deliver(sla("sla_breached"), "d-1");
    await teamsChannel({ url: server.url }).deliver(sla("sla.warning"), "d-2");
    const colours = server.requests.map((r) => body(r).attachments[0].content.body[0].color);
    expect(colours).toEqual(["Attention", "Warning"]);
  });

  it("PagerDuty gets a breach as a trigger on the ticket's dedup_key, at the ticket's severity", async () => {
    await pagerDutyChannel({ routingKey: ROUTING_KEY, url: server.url }).deliver(sla("sla_breached"), "d-1");
    const e = body(server.only());
    expect(e).toMatchObject({ routing_key: ROUTING_KEY, event_action: "trigger", dedup_key: "6f1c2b0e-tkt" });
    expect(e.payload).toMatchObject({
      summary: `SLA breached: [EMERGENCY, SEV-A] #12345678: first response was due ${DUE}`,
      severity: "critical",
      class: "sla breach",
      timestamp: DUE,
    });
  });

  it.each(["sla.warning", "sla.breached"] as const)("PagerDuty refuses the notice %s for good, sending nothing", async (event) => {
    const error = await pagerDutyChannel({ routingKey: ROUTING_KEY, url: server.url })
      .deliver(sla(event), "d-1")
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(DeliveryError);
    expect(error).toMatchObject({ permanent: true, channel: "pagerduty" });
    expect(server.requests).toHaveLength(0);
  });
});
