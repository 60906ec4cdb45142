import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAlertReceiver, type AlertReceiver, type ReceivedRequest } from "../support/alert-receiver.js";
import { WEBHOOK_SECRET } from "../support/escalation-host.js";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * Major incidents over HTTP: many reports of one outage linked to one incident, which alone
 * pages ops; the links told to the incident through the in-process `ticket-commands` queue.
 */
let t: TestHost;
let webhook: AlertReceiver;
let qa: string;
let karen: string;
let ken: string;

beforeAll(async () => {
  webhook = await startAlertReceiver();
  t = await startTestHost({ ALERT_WEBHOOK_URL: webhook.url, ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET });
  [qa, karen, ken] = await Promise.all([t.token(PEOPLE.qa), t.token(PEOPLE.karen), t.token(PEOPLE.ken)]);
});
afterAll(async () => {
  await t?.close();
  await webhook?.close();
});

const customer = (i: number) => t.token({ name: `Customer ${i}`, email: `customer.${i}@example.com` });

async function open(token: string, subject = "Mobile banking is down"): Promise<{ id: string; number: string }> {
  const opened = await t.call(token, "POST", "/tickets", { body: { subject, description: "The app shows an error since 9:00." } });
  expect(opened.status).toBe(201);
  return { id: opened.body.id as string, number: opened.body.number as string };
}
const link = (token: string, id: string, parentId: string) =>
  t.call(token, "PUT", `/tickets/${id}/parent`, { body: { ticketId: parentId } });
const triage = (id: string, body: Record<string, unknown>) => t.call(qa, "PATCH", `/tickets/${id}`, { body });
const ticket = async (token: string, id: string) => (await t.call(token, "GET", `/tickets/${id}`)).body;

/** The alert deliveries about one ticket, by event. */
const alertsOf = (id: string): string[] =>
  webhook
    .delivered()
    .map((r: ReceivedRequest) => r.json as { event: string; alert: { ticketId: string } })
    .filter((a) => a.alert.ticketId === id)
    .map((a) => a.event);

async function until<T>(what: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("an incident with 50 reports", () => {
  it("pages ops once and resolves once, counting its reports; the reports, raised to emergency, page nothing", async () => {
    const incident = await open(karen);
    expect((await triage(incident.id, { priority: "emergency", reason: "the whole mobile banking is down" })).status).toBe(200);
    await webhook.waitFor(1, (r) => (r.json as { alert: { ticketId: string } }).alert.ticketId === incident.id);
    const reports = await Promise.all(Array.from({ length: 50 }, async (_, i) => open(await customer(i))));
    for (const r of reports) expect((await link(qa, r.id, incident.id)).status).toBe(200);
    for (const r of reports) expect((await triage(r.id, { priority: "emergency", reason: "same outage" })).status).toBe(200);
    // The incident hears of each link through the queue.
    const counted = await until(
      () => ticket(qa, incident.id),
      (v) => v.children?.count === 50,
    );
    expect(counted.children).toEqual({ count: 50 });
    const resolved = await t.call(qa, "POST", `/tickets/${incident.id}/status`, {
      body: { status: "resolved", resolution: "Failover done." },
    });
    expect(resolved.status).toBe(200);
    const [, resolve] = await webhook.waitFor(2, (r) => (r.json as { alert: { ticketId: string } }).alert.ticketId === incident.id);
    expect(alertsOf(incident.id)).toEqual(["triggered", "resolved"]);
    expect((resolve!.json as { facts: { label: string; value: string }[] }).facts).toContainEqual({ label: "Linked reports", value: "50" });
    // Not one report paged (give the outbox a moment to have sent anything it would have).
    await new Promise((r) => setTimeout(r, 300));
    for (const r of reports) expect(alertsOf(r.id)).toEqual([]);
    // Agents page through the incident's reports; the queue can hide them.
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await t.call(qa, "GET", `/tickets/${incident.id}/children?limit=20${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.items.map((i: { id: string; parent: { id: string } }) => (expect(i.parent.id).toBe(incident.id), i.id)));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.sort()).toEqual(reports.map((r) => r.id).sort());
    const standalone = await t.call(qa, "GET", "/tickets?parent=none&limit=100");
    expect(standalone.body.items.map((i: { id: string }) => i.id)).not.toContain(reports[0]!.id);
    const ofIncident = await t.call(qa, "GET", `/tickets?parent=${incident.id}&limit=100`);
    expect(ofIncident.body.items).toHaveLength(50);
  }, 120_000);
});

describe("a report", () => {
  it("linked while its own escalation is open resolves it; unlinked, pages on its own again", async () => {
    const incident = await open(karen, "Payments fail");
    const report = await open(ken, "Card payment refused");
    expect((await triage(report.id, { priority: "emergency" })).status).toBe(200);
    await until(
      async () => alertsOf(report.id),
      (a) => a.length === 1,
    );
    // Its page would be resolved, and ops hold none: refused until the incident is escalated.
    expect((await link(qa, report.id, incident.id)).status).toBe(409);
    expect((await triage(incident.id, { priority: "emergency" })).status).toBe(200);
    const linked = await link(qa, report.id, incident.id);
    expect(linked.body.escalation.state).toBe("resolved");
    expect(linked.body.parent).toEqual({ id: incident.id, number: incident.number });
    const resolvedAlert = await until(
      async () => alertsOf(report.id),
      (a) => a.length === 2,
    );
    expect(resolvedAlert).toEqual(["triggered", "resolved"]);
    const timeline = (await t.call(qa, "GET", `/tickets/${report.id}/timeline?limit=100`)).body.items as {
      type: string;
      data: { cause?: string };
    }[];
    expect(timeline.find((e) => e.type === "escalation_resolved")?.data.cause).toBe(`linked to #${incident.number}`);
    // A report pages through its incident only, by hand too.
    expect((await t.call(qa, "POST", `/tickets/${report.id}/escalation`, { body: { reason: "still down" } })).status).toBe(409);
    const unlinked = await t.call(qa, "DELETE", `/tickets/${report.id}/parent`);
    expect(unlinked.status).toBe(200);
    expect(unlinked.body.parent).toBeNull();
    expect(unlinked.body.escalation.state).toBe("triggered");
    expect(
      await until(
        async () => alertsOf(report.id),
        (a) => a.length === 3,
      ),
    ).toEqual(["triggered", "resolved", "triggered"]);
    // The incident heard of both: linked, then unlinked.
    expect(
      (
        await until(
          () => ticket(qa, incident.id),
          (v) => v.children?.count === 0,
        )
      ).children,
    ).toEqual({ count: 0 });
  });

  it("shows its requester nothing of the incident: only that it is part of one being worked on", async () => {
    const incident = await open(karen, "Login fails");
    const report = await open(ken, "Cannot log in");
    expect((await link(qa, report.id, incident.id)).status).toBe(200);
    const view = await ticket(ken, report.id);
    expect(view.parent).toBeNull();
    expect(view.children).toBeNull();
    const timeline = (await t.call(ken, "GET", `/tickets/${report.id}/timeline?limit=100`)).body.items as { type: string; data: unknown }[];
    expect(timeline.map((e) => e.type)).toEqual(["opened", "incident_linked"]);
    const everything = JSON.stringify([view, timeline]);
    expect(everything).not.toContain(incident.id);
    expect(everything).not.toContain(incident.number);
    // Nor of the incident's other reports, nor its own: both lists are agents'.
    expect((await t.call(ken, "GET", `/tickets/${report.id}/children`)).status).toBe(403);
    expect((await t.call(karen, "GET", `/tickets/${incident.id}/children`)).status).toBe(403);
    expect((await t.call(ken, "GET", `/tickets?parent=none`)).status).toBe(403);
    const karens = await until(
      () => ticket(karen, incident.id),
      () => true,
    );
    expect(karens.children).toBeNull();
    // And a requester links nothing.
    expect((await link(ken, report.id, incident.id)).status).toBe(403);
  });
});

describe("a link is refused", () => {
  it("to the ticket itself, to a report, from an incident, to a closed incident (409), and to no ticket (400)", async () => {
    const incident = await open(karen, "Outage");
    const report = await open(ken, "Down here too");
    const other = await open(ken, "Another");
    expect((await link(qa, incident.id, incident.id)).status).toBe(409);
    expect((await link(qa, report.id, incident.id)).status).toBe(200);
    // The report is no incident: nothing links under it.
    expect((await link(qa, other.id, report.id)).status).toBe(409);
    // The incident, once it has heard of its report, is no report.
    await until(
      () => ticket(qa, incident.id),
      (v) => v.children?.count === 1,
    );
    expect((await link(qa, incident.id, other.id)).status).toBe(409);
    const closed = await open(karen, "Old outage");
    expect((await t.call(qa, "POST", `/tickets/${closed.id}/status`, { body: { status: "closed", resolution: "Done." } })).status).toBe(
      200,
    );
    expect((await link(qa, other.id, closed.id)).status).toBe(409);
    const none = await link(qa, other.id, "0123456789abcdef01234567");
    expect(none.status).toBe(400);
    expect(none.body.errors.map((e: { path: string }) => e.path)).toEqual(["ticketId"]);
    // Linking again to the same incident changes nothing.
    const again = await link(qa, report.id, incident.id);
    expect(again.status).toBe(200);
    expect(
      (await t.call(qa, "GET", `/tickets/${report.id}/timeline?limit=100`)).body.items.filter(
        (e: { type: string }) => e.type === "parent_linked",
      ),
    ).toHaveLength(1);
  });
});

/** Runs `check` on every item, 25 at a time. */
async function inBatches<T>(items: T[], check: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += 25) await Promise.all(items.slice(i, i + 25).map(check));
}

/** An incident with `n` reports linked, once it has heard of them all. */
async function incidentWith(n: number, subject: string): Promise<{ incident: { id: string; number: string }; reports: { id: string }[] }> {
  const incident = await open(karen, subject);
  const reports: { id: string }[] = [];
  for (let i = 0; i < n; i += 25)
    reports.push(
      ...(await Promise.all(Array.from({ length: Math.min(25, n - i) }, async (_, j) => open(await customer(1000 + i + j), subject)))),
    );
  for (let i = 0; i < n; i += 25)
    await Promise.all(reports.slice(i, i + 25).map(async (r) => expect((await link(qa, r.id, incident.id)).status).toBe(200)));
  await until(
    () => ticket(qa, incident.id),
    (v) => v.children?.count === n,
    90_000,
  );
  return { incident, reports };
}

/** A ticket's whole timeline, page after page (an incident's holds an entry per report linked). */
async function timelineOf(id: string): Promise<{ type: string; visibility: string; data: Record<string, unknown> }[]> {
  const entries = [];
  let cursor: string | null = null;
  do {
    const page = await t.call(qa, "GET", `/tickets/${id}/timeline?limit=100${cursor ? `&cursor=${cursor}` : ""}`);
    entries.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return entries;
}

describe("an incident's broadcast", () => {
  it("posts the reply on the incident and once on each of its 200 reports, and says when it is done", async () => {
    const { incident, reports } = await incidentWith(200, "Statement outage");
    const body = "Statements are back: a failed deploy was rolled back at 10:40.";
    const started = await t.call(qa, "POST", `/tickets/${incident.id}/broadcast`, { body: { body } });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ state: "running", done: 0, skipped: [] });
    const location = started.headers.get("location")!;
    const status = await until(
      async () => (await t.call(qa, "GET", location.replace(/^\/api/, ""))).body,
      (s) => s.state === "done",
      90_000,
    );
    expect(status).toEqual({ id: started.body.id, state: "done", total: 200, done: 200, skipped: [] });
    await inBatches([incident.id, ...reports.map((r) => r.id)], async (id) => {
      const replies = (await timelineOf(id)).filter((e) => e.type === "comment");
      expect(replies, id).toEqual([expect.objectContaining({ visibility: "public", data: { body } })]);
    });
    // A requester follows nothing of it but the reply on their own ticket.
    const asRequester = await t.call(await customer(1000), "GET", location.replace(/^\/api/, ""));
    expect(asRequester.status).toBe(403);
  }, 120_000);

  it("stopped halfway and resumed, leaves exactly one copy on each report and none out", async () => {
    const { incident, reports } = await incidentWith(200, "Card outage");
    const tickets = await t.host.composition.tickets();
    // The fan-out's messages, kept here instead of sent (the queue of a host that stops halfway).
    const sent: { messageId: string; body: Record<string, unknown> }[] = [];
    const publisher = {
      publish: async (m: { messageId: string; body: Record<string, unknown> }[]) => void sent.push(...m),
      close: async () => {},
    };
    const { handleTicketCommand } = await import("../../shared/incidents/handler.js");
    const deps = { tickets, publisher, log: () => {} };
    const qaActor = { id: "agent-qa", name: "Quinn QA", role: "agent" as const };
    const first = {
      version: 1,
      kind: "fan_out",
      parentId: incident.id,
      broadcastId: "0123456789abcdef0badcafe",
      action: { kind: "reply", body: "Cards work again." },
      actor: qaActor,
      after: null,
      page: 1,
      sent: 0,
    };
    const deliver = (m: { messageId: string; body: unknown }) => handleTicketCommand(deps, m);
    await deliver({ messageId: "page-1", body: first });
    // Page 1: 100 commands and page 2. Half of them delivered, then the host "stops".
    const page1 = [...sent];
    expect(page1).toHaveLength(101);
    for (const m of page1.slice(0, 50)) await deliver(m);
    // Resumed: page 1 is delivered again (never settled), then everything it and page 2 send,
    // the first half's commands again among them.
    sent.length = 0;
    await deliver({ messageId: "page-1", body: first });
    const page2 = sent.find((m) => (m.body as { kind: string }).kind === "fan_out")!;
    await deliver(page2);
    for (const m of [...sent]) if ((m.body as { kind: string }).kind === "child_command") await deliver(m);
    await inBatches(reports, async (r) => {
      const replies = (await timelineOf(r.id)).filter((e) => e.type === "comment");
      expect(replies, r.id).toHaveLength(1);
    });
  }, 120_000);
});

describe("a keyed broadcast", () => {
  it("retried, replays and posts nothing again; the same key with another body is 422", async () => {
    const { incident, reports } = await incidentWith(3, "Keyed outage");
    const send = (body: string) =>
      t.call(qa, "POST", `/tickets/${incident.id}/broadcast`, { body: { body }, headers: { "idempotency-key": `bcast-${incident.id}` } });
    const first = await send("Back up.");
    const again = await send("Back up.");
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    expect((await send("Something else.")).status).toBe(422);
    await until(
      async () => (await t.call(qa, "GET", `/tickets/${incident.id}/broadcasts/${first.body.id}`)).body,
      (v) => v.state === "done",
    );
    for (const id of [incident.id, ...reports.map((r) => r.id)])
      expect(
        (await timelineOf(id)).filter((e) => e.type === "comment"),
        id,
      ).toHaveLength(1);
  });
});

describe("a cascading move", () => {
  it("resolves all 200 reports with the incident's resolution, skipping one whose status does not allow it, and says why", async () => {
    const { incident, reports } = await incidentWith(200, "Transfer outage");
    const closedOne = reports[7]!;
    expect(
      (await t.call(qa, "POST", `/tickets/${closedOne.id}/status`, { body: { status: "closed", resolution: "Duplicate." } })).status,
    ).toBe(200);
    const moved = await t.call(qa, "POST", `/tickets/${incident.id}/status`, {
      body: { status: "resolved", resolution: "Transfers restored at 11:02.", cascade: true },
    });
    expect(moved.status).toBe(200);
    expect(moved.body.status).toBe("resolved");
    const location = moved.headers.get("location")!;
    const status = await until(
      async () => (await t.call(qa, "GET", location.replace(/^\/api/, ""))).body,
      (s) => s.state === "done",
      90_000,
    );
    expect(status).toMatchObject({
      state: "done",
      total: 200,
      done: 199,
      skipped: [{ ticketId: closedOne.id, why: expect.stringMatching(/closed/) }],
    });
    await inBatches(reports, async (r) => {
      const view = await ticket(qa, r.id);
      if (r.id === closedOne.id) expect(view.status).toBe("closed");
      else expect(view, r.id).toMatchObject({ status: "resolved", resolution: "Transfers restored at 11:02." });
    });
    // Only an agent cascades, and only from an incident.
    expect(
      (await t.call(qa, "POST", `/tickets/${reports[0]!.id}/status`, { body: { status: "closed", resolution: "x", cascade: true } }))
        .status,
    ).toBe(409);
  }, 120_000);
});

describe("links made at once", () => {
  it("never nest: an incident that became a report as a link to it was made drops that link, and says why", async () => {
    const top = await open(karen, "Region down");
    const middle = await open(karen, "City down");
    const leaf = await open(ken, "Street down");
    // Both at once: each incident has no report yet, and is no report yet, as its link is checked.
    const [a, b] = await Promise.all([link(qa, leaf.id, middle.id), link(qa, middle.id, top.id)]);
    expect(a.status).toBe(200);
    // Had the first link's word reached its incident before the second was checked, that one is 409 and nothing nests.
    if (b.status === 409) return;
    expect(b.status).toBe(200);
    const dropped = await until(
      () => ticket(qa, leaf.id),
      (v) => v.parent === null,
    );
    expect(dropped.parent).toBeNull();
    const why = (await timelineOf(leaf.id)).find((e) => e.type === "parent_unlinked");
    expect(why?.data.reason).toMatch(new RegExp(`#${middle.number} is itself a report of #${top.number}`));
    expect(
      (
        await until(
          () => ticket(qa, middle.id),
          (v) => v.parent?.id === top.id,
        )
      ).children ?? { count: 0 },
    ).toEqual({ count: 0 });
    expect(
      (
        await until(
          () => ticket(qa, top.id),
          (v) => v.children?.count === 1,
        )
      ).children,
    ).toEqual({ count: 1 });
  });
});

describe("an incident's count", () => {
  it("is exact when a report's words arrive out of order, or together", async () => {
    const incident = await open(karen, "Word order");
    const deliver = (linked: boolean, seq: number, childId: string) =>
      t.host.composition.handleTicketCommand({
        messageId: `word-${incident.id}-${childId}-${seq}`,
        body: { version: 1, kind: "tell_parent", parentId: incident.id, child: { id: childId, number: "12345678" }, linked, seq },
      });
    // The unlink (entry 6) before the link it undoes (entry 5): nothing counted.
    await deliver(false, 6, "r-late");
    await deliver(true, 5, "r-late");
    expect((await ticket(qa, incident.id)).children).toEqual({ count: 0 });
    // Both at once, of another report, twice over.
    await Promise.all([deliver(true, 5, "r-both"), deliver(false, 6, "r-both"), deliver(true, 5, "r-both"), deliver(false, 6, "r-both")]);
    expect((await ticket(qa, incident.id)).children).toEqual({ count: 0 });
    // And a link alone, repeated: one.
    await Promise.all([deliver(true, 3, "r-one"), deliver(true, 3, "r-one")]);
    expect((await ticket(qa, incident.id)).children).toEqual({ count: 1 });
  });
});

describe("a cascading close", () => {
  it("keeps a report's own resolution, and counts one closed already as done", async () => {
    const { incident, reports } = await incidentWith(3, "Chat outage");
    const [own, already] = reports;
    expect(
      (await t.call(qa, "POST", `/tickets/${own!.id}/status`, { body: { status: "resolved", resolution: "Your card was unblocked." } }))
        .status,
    ).toBe(200);
    expect(
      (await t.call(qa, "POST", `/tickets/${already!.id}/status`, { body: { status: "closed", resolution: "Duplicate." } })).status,
    ).toBe(200);
    const moved = await t.call(qa, "POST", `/tickets/${incident.id}/status`, {
      body: { status: "closed", resolution: "Chat is back.", cascade: true },
    });
    const location = moved.headers.get("location")!.replace(/^\/api/, "");
    const status = await until(
      async () => (await t.call(qa, "GET", location)).body,
      (v) => v.state === "done",
    );
    expect(status).toMatchObject({ total: 3, done: 3, skipped: [] });
    expect(await ticket(qa, own!.id)).toMatchObject({ status: "closed", resolution: "Your card was unblocked." });
    expect(await ticket(qa, already!.id)).toMatchObject({ status: "closed", resolution: "Duplicate." });
    expect(await ticket(qa, reports[2]!.id)).toMatchObject({ status: "closed", resolution: "Chat is back." });
  });
});
