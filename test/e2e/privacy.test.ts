import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestHost, type CallOptions, type CallResult, type TestHost } from "../support/local-host.js";

/**
 * DESIGN.md section 3: a requester never learns that another requester's ticket
 * exists (404, never 403), and never sees internal notes, triage or assignment,
 * in any response.
 */

let t: TestHost;
const uniq = () => randomUUID().slice(0, 8);

const SECRET_NOTE = `SECRET-NOTE-${uniq()}`;
const SECRET_NOTE_2 = `SECRET-NOTE-TWO-${uniq()}`;
const SECRET_REASON = `SECRET-TRIAGE-REASON-${uniq()}`;
const SECRET_CATEGORY = `secret-category-${uniq()}`;
/** What triage made of Karen's ticket: she sees it as she opened it. */
const TRIAGED = ["Mobile banking outage", '"emergency"', '"SEV-A"'];
const HIDDEN_TYPES = ["priority_changed", "severity_changed", "category_changed", "subject_changed", "assigned", "unassigned"];
const PUBLIC_TYPES = ["opened", "comment", "status_changed"];

let karen: string; // the owner
let ken: string; // another requester
let qa: string;
let jane: string;
let janeId: string;
let ticket: { id: string; subject: string; number: string; requester: { id: string } };
let kensTicket: { id: string };

/** Everything a requester received in the running test, to search for what they must never see. */
const requesterSaw: { what: string; text: string }[] = [];
async function asRequester(token: string, method: string, path: string, options?: CallOptions): Promise<CallResult> {
  const res = await t.call(token, method, path, options);
  requesterSaw.push({ what: `${method} ${path} -> ${res.status}`, text: JSON.stringify(res.body) + JSON.stringify([...res.headers]) });
  return res;
}
const asKaren = (method: string, path: string, options?: CallOptions) => asRequester(karen, method, path, options);

/** No response holds a note's text, a triage reason, or a hidden entry type. */
function expectNothingHidden(responses: { what: string; text: string }[]): void {
  for (const { what, text } of responses) {
    for (const secret of [SECRET_NOTE, SECRET_NOTE_2, SECRET_REASON, SECRET_CATEGORY, ...TRIAGED]) {
      expect(text.includes(secret), `${what} contains ${secret}`).toBe(false);
    }
    for (const type of [...HIDDEN_TYPES, "internal"]) {
      expect(text.includes(`"${type}"`), `${what} contains "${type}"`).toBe(false);
    }
  }
}

// Whatever a test had Karen (or another requester) do, nothing hidden came back.
afterEach(() => expectNothingHidden(requesterSaw.splice(0)));

async function ok(token: string, method: string, path: string, body?: unknown, status = 200): Promise<CallResult> {
  const res = await t.call(token, method, path, body === undefined ? {} : { body });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(status);
  return res;
}

async function agentTimeline(id: string) {
  return (await ok(qa, "GET", `/tickets/${id}/timeline?limit=100`)).body.items as {
    type: string;
    visibility: string;
    data: Record<string, unknown>;
  }[];
}

beforeAll(async () => {
  t = await startTestHost();
  karen = await t.token({ name: "Karen Karen", email: `karen-${uniq()}@example.com` });
  ken = await t.token({ name: "Ken Ken", email: `ken-${uniq()}@example.com` });
  qa = await t.token({ name: "Quinn QA", email: `qa-${uniq()}@example.com`, role: "agent" });
  jane = await t.token({ name: "Jane Doe", email: `jane-${uniq()}@example.com`, role: "agent" });
  await ok(jane, "GET", "/tickets?limit=1");
  const agents = (await ok(qa, "GET", "/agents")).body;
  janeId = (Array.isArray(agents) ? agents : agents.items).find((x: { name: string }) => x.name === "Jane Doe").id;

  ticket = await ticketWithHiddenHistory(karen);
  kensTicket = (await ok(ken, "POST", "/tickets", { subject: "New computers", description: "For the team." }, 201)).body;
  expectNothingHidden(requesterSaw.splice(0));
});
afterAll(() => t.close());

/**
 * A ticket of `owner`'s with everything an agent does that its owner must never see:
 * triage of every kind with reasons, assignments, internal notes; and, in public, a
 * reply and status moves. It ends on_hold, assigned to Jane.
 */
async function ticketWithHiddenHistory(owner: string): Promise<typeof ticket> {
  const opened = await asRequester(owner, "POST", "/tickets", {
    body: { subject: "The entire mobile banking is down", description: "Nobody can log in." },
  });
  expect(opened.status).toBe(201);
  const id: string = opened.body.id;
  await ok(qa, "PATCH", `/tickets/${id}`, { priority: "emergency", reason: SECRET_REASON });
  await ok(qa, "PATCH", `/tickets/${id}`, { severity: "SEV-A", category: SECRET_CATEGORY, reason: SECRET_REASON });
  await ok(qa, "PUT", `/tickets/${id}/assignee`, { agentId: janeId });
  await ok(jane, "POST", `/tickets/${id}/comments`, { body: SECRET_NOTE, visibility: "internal" }, 201);
  await ok(qa, "DELETE", `/tickets/${id}/assignee`);
  await ok(qa, "PUT", `/tickets/${id}/assignee`, { agentId: janeId });
  await ok(jane, "POST", `/tickets/${id}/status`, { status: "in_progress" });
  await ok(jane, "POST", `/tickets/${id}/comments`, { body: "We are on it.", visibility: "public" }, 201);
  await ok(jane, "POST", `/tickets/${id}/comments`, { body: SECRET_NOTE_2, visibility: "internal" }, 201);
  await ok(qa, "PATCH", `/tickets/${id}`, { category: null, reason: SECRET_REASON });
  await ok(qa, "PATCH", `/tickets/${id}`, { subject: "Mobile banking outage", reason: SECRET_REASON });
  await ok(jane, "POST", `/tickets/${id}/status`, { status: "on_hold", reason: "Waiting for Karen" });
  return opened.body;
}

describe("another requester's ticket is invisible (404, never 403)", () => {
  const absent = "0123456789abcdef01234567";

  /** Ken's request on Karen's ticket answers exactly as on a ticket that does not exist. */
  async function expectSameAsAbsent(method: string, suffix: string, options: CallOptions = {}) {
    const theirs = await t.call(ken, method, `/tickets/${ticket.id}${suffix}`, options);
    const none = await t.call(ken, method, `/tickets/${absent}${suffix}`, options);
    expect(theirs.status, `${method} ${suffix}: ${JSON.stringify(theirs.body)}`).toBe(404);
    expect(theirs.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json\b/);
    expect(theirs.body).toEqual(none.body);
    expect(theirs.headers.get("etag")).toBeNull();
    const text = JSON.stringify(theirs.body);
    for (const leak of [ticket.subject, "Mobile banking", ticket.number, "Karen", "Jane"]) expect(text).not.toContain(leak);
  }

  it("read: GET /tickets/{id}", async () => {
    await expectSameAsAbsent("GET", "");
  });

  it("timeline: GET /tickets/{id}/timeline, with and without a cursor", async () => {
    await expectSameAsAbsent("GET", "/timeline");
    await expectSameAsAbsent("GET", "/timeline?limit=1");
    // Karen's own cursor, and cursors that are none: Ken learns no more than of an absent ticket
    // (visibility is checked before the cursor, also on an instance that has the ticket cached).
    const karens = (await t.call(karen, "GET", `/tickets/${ticket.id}/timeline?limit=1`)).body.nextCursor as string;
    expect(karens).toMatch(/^[0-9a-f]{40}$/);
    for (const cursor of [karens, "0".repeat(40), "not-a-cursor"]) await expectSameAsAbsent("GET", `/timeline?limit=1&cursor=${cursor}`);
  });

  it("comment: public, internal, with an Idempotency-Key, and with If-Match", async () => {
    await expectSameAsAbsent("POST", "/comments", { body: { body: "hi", visibility: "public" } });
    await expectSameAsAbsent("POST", "/comments", { body: { body: "hi", visibility: "internal" } });
    await expectSameAsAbsent("POST", "/comments", {
      body: { body: "hi", visibility: "public" },
      headers: { "idempotency-key": `k-${uniq()}` },
    });
    await expectSameAsAbsent("POST", "/comments", { body: { body: "hi", visibility: "public" }, headers: { "if-match": '"stale"' } });
  });

  it("move: every target status, with and without If-Match", async () => {
    for (const status of ["open", "in_progress", "on_hold", "resolved", "closed"]) {
      await expectSameAsAbsent("POST", "/status", { body: { status, resolution: "x" } });
    }
    await expectSameAsAbsent("POST", "/status", { body: { status: "closed", resolution: "x" }, headers: { "if-match": '"stale"' } });
  });

  it("triage and assignment: PATCH, PUT and DELETE /assignee", async () => {
    await expectSameAsAbsent("PATCH", "", { body: { priority: "low" } });
    await expectSameAsAbsent("PUT", "/assignee", { body: { agentId: janeId } });
    await expectSameAsAbsent("DELETE", "/assignee");
  });

  it("nothing Ken tries changes Karen's ticket", async () => {
    const before = (await ok(qa, "GET", `/tickets/${ticket.id}`)).body;
    const entriesBefore = await agentTimeline(ticket.id);
    const tries: [string, string, unknown][] = [
      ["POST", "/comments", { body: "hi", visibility: "public" }],
      ["POST", "/status", { status: "closed", resolution: "x" }],
      ["PATCH", "", { priority: "low" }],
      ["PUT", "/assignee", { agentId: janeId }],
      ["DELETE", "/assignee", undefined],
    ];
    for (const [method, suffix, body] of tries) {
      const res = await t.call(ken, method, `/tickets/${ticket.id}${suffix}`, body === undefined ? {} : { body });
      expect(res.status, `${method} ${suffix}`).toBe(404);
    }
    expect(await agentTimeline(ticket.id)).toEqual(entriesBefore);
    const now = (await ok(qa, "GET", `/tickets/${ticket.id}`)).body;
    expect(now).toEqual(before);
    expect(now).toMatchObject({ status: "on_hold", priority: "emergency", assignee: { id: janeId } });
  });

  it("list: Ken's queue never holds Karen's ticket, whatever the filter", async () => {
    for (const query of ["", "?requester=me", "?status=on_hold", "?priority=emergency", "?priority=normal", "?limit=100"]) {
      const res = await t.call(ken, "GET", `/tickets${query}`);
      expect(res.status, query).toBe(200);
      expect(res.body.items.map((x: { id: string }) => x.id)).toEqual(
        query.includes("on_hold") || query.includes("emergency") ? [] : [kensTicket.id],
      );
      expect(JSON.stringify(res.body)).not.toContain(ticket.id);
    }
    // Filters on triage or assignment are the agents': refused alike, whoever's tickets they would match.
    for (const query of ["?severity=SEV-A", `?assignee=${encodeURIComponent(janeId)}`, "?assignee=none"]) {
      const res = await t.call(ken, "GET", `/tickets${query}`);
      expect(res.status, query).toBe(403);
      expect(JSON.stringify(res.body)).not.toContain(ticket.id);
    }
  });

  it("list: asking for Karen's tickets by her id tells Ken nothing more than asking for a stranger's", async () => {
    const hers = await t.call(ken, "GET", `/tickets?requester=${encodeURIComponent(ticket.requester.id)}`);
    const stranger = await t.call(ken, "GET", `/tickets?requester=${encodeURIComponent(`user-${uniq()}`)}`);
    expect(hers.status).toBe(stranger.status);
    expect(hers.body).toEqual(stranger.body);
    expect(JSON.stringify(hers.body)).not.toContain(ticket.id);
    if (hers.status === 200) expect(hers.body.items.map((x: { id: string }) => x.id)).not.toContain(ticket.id);
  });

  it("an agent sees Karen's ticket (the 404s above are about Ken, not the id)", async () => {
    expect((await ok(qa, "GET", `/tickets/${ticket.id}`)).body.id).toBe(ticket.id);
    expect((await ok(karen, "GET", `/tickets/${ticket.id}`)).body.id).toBe(ticket.id);
  });
});

describe("internal notes, triage and assignment never reach the requester", () => {
  it("control: the agent's timeline holds the notes, every triage kind and both assignment kinds", async () => {
    const entries = await agentTimeline(ticket.id);
    const types = new Set(entries.map((e) => e.type));
    for (const type of HIDDEN_TYPES) expect(types, type).toContain(type);
    const notes = entries.filter((e) => e.type === "comment" && e.visibility === "internal").map((e) => e.data.body);
    expect(notes).toEqual([SECRET_NOTE, SECRET_NOTE_2]);
    expect(JSON.stringify(entries)).toContain(SECRET_REASON);
    for (const e of entries.filter((x) => HIDDEN_TYPES.includes(x.type))) expect(e.visibility).toBe("internal");
  });

  it("Karen's timeline holds only public entries: opened, public comments, status changes", async () => {
    const res = await asKaren("GET", `/tickets/${ticket.id}/timeline?limit=100`);
    expect(res.status).toBe(200);
    const entries: { type: string; visibility: string; data: Record<string, unknown> }[] = res.body.items;
    expect(entries.map((e) => e.type)).toEqual(["opened", "status_changed", "comment", "status_changed"]);
    for (const e of entries) {
      expect(e.visibility).toBe("public");
      expect(PUBLIC_TYPES).toContain(e.type);
    }
    expect(entries.find((e) => e.type === "comment")!.data.body).toBe("We are on it.");
  });

  it("Karen's timeline, paged one entry at a time, holds the same public entries", async () => {
    const all = (await asKaren("GET", `/tickets/${ticket.id}/timeline?limit=100`)).body.items;
    const paged: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = `/tickets/${ticket.id}/timeline?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await asKaren("GET", q);
      expect(res.status).toBe(200);
      paged.push(...res.body.items);
      cursor = res.body.nextCursor;
      expect(++pages).toBeLessThan(20);
    } while (cursor);
    expect(paged).toEqual(all);
    expect(all).toHaveLength(4);
  });

  it("Karen's reads and queue carry no note, no triage reason", async () => {
    expect((await asKaren("GET", `/tickets/${ticket.id}`)).status).toBe(200);
    for (const query of ["", "?requester=me", "?status=on_hold", "?priority=normal", "?limit=1"]) {
      const res = await asKaren("GET", `/tickets${query}`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((x: { id: string }) => x.id)).toEqual([ticket.id]);
    }
    // She sees it at the priority she opened it with: a filter on the triaged one finds nothing.
    expect((await asKaren("GET", "/tickets?priority=emergency")).body.items).toEqual([]);
  });

  it("Karen's writes answer without hidden entries: her reply (which moves the ticket), its replay, her moves", async () => {
    // A ticket of its own (of another Karen's, so the other tests' queues stay as they are), since this one changes it.
    const owner = await t.token({ name: "Karen Karen", email: `karen-${uniq()}@example.com` });
    const asOwner = (method: string, path: string, options?: CallOptions) => asRequester(owner, method, path, options);
    const mine = await ticketWithHiddenHistory(owner);
    const key = `reply-${uniq()}`;
    const reply = await asOwner("POST", `/tickets/${mine.id}/comments`, {
      body: { body: "Still down for me.", visibility: "public" },
      headers: { "idempotency-key": key },
    });
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ type: "comment", visibility: "public", data: { body: "Still down for me." } });
    const replay = await asOwner("POST", `/tickets/${mine.id}/comments`, {
      body: { body: "Still down for me.", visibility: "public" },
      headers: { "idempotency-key": key },
    });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await ok(qa, "GET", `/tickets/${mine.id}`)).body.status).toBe("in_progress");

    // An agent adds another note after Karen's reply; then Karen closes and reopens.
    await ok(jane, "POST", `/tickets/${mine.id}/comments`, { body: `${SECRET_NOTE}-after`, visibility: "internal" }, 201);
    expect((await asOwner("POST", `/tickets/${mine.id}/status`, { body: { status: "closed", resolution: "Works again." } })).status).toBe(
      200,
    );
    expect((await asOwner("POST", `/tickets/${mine.id}/status`, { body: { status: "open" } })).status).toBe(200);
    // Her refused attempts answer without hidden entries too.
    expect((await asOwner("POST", `/tickets/${mine.id}/comments`, { body: { body: "x", visibility: "internal" } })).status).toBe(403);
    expect((await asOwner("PATCH", `/tickets/${mine.id}`, { body: { priority: "low" } })).status).toBe(403);
    expect((await asOwner("GET", "/agents")).status).toBe(403);

    const timeline = (await asOwner("GET", `/tickets/${mine.id}/timeline?limit=100`)).body.items as {
      type: string;
      visibility: string;
    }[];
    expect(timeline.map((e) => e.type)).toEqual([
      "opened",
      "status_changed",
      "comment",
      "status_changed",
      "comment",
      "status_changed",
      "status_changed",
      "status_changed",
    ]);
    expect(timeline.every((e) => e.visibility === "public")).toBe(true);
  });

  it("no response Karen receives contains a note's text, a triage reason, or a hidden entry type", async () => {
    // Every kind of request she can make about her ticket, answered or refused; each test's are checked after it too.
    const id = ticket.id;
    const calls: [string, string, CallOptions?][] = [
      ["GET", `/tickets/${id}`],
      ["GET", `/tickets/${id}/timeline`],
      ["GET", `/tickets/${id}/timeline?limit=1`],
      ["GET", "/tickets"],
      ["GET", "/tickets?requester=me&status=on_hold,in_progress,open"],
      ["GET", "/tickets?priority=emergency"],
      ["GET", "/tickets?priority=normal"],
      ["GET", "/tickets?severity=SEV-A"],
      ["GET", `/tickets?assignee=${encodeURIComponent(janeId)}`],
      ["GET", "/agents"],
      ["PATCH", `/tickets/${id}`, { body: { priority: "low" } }],
      ["PUT", `/tickets/${id}/assignee`, { body: { agentId: janeId } }],
      ["DELETE", `/tickets/${id}/assignee`],
      ["POST", `/tickets/${id}/comments`, { body: { body: "x", visibility: "internal" } }],
      ["POST", `/tickets/${id}/comments`, { body: { body: "x", visibility: "public" }, headers: { "if-match": '"stale"' } }],
      ["POST", `/tickets/${id}/status`, { body: { status: "resolved", resolution: "x" } }],
      ["POST", `/tickets/${id}/status`, { body: { status: "on_hold" } }],
    ];
    for (const [method, path, options] of calls) await asKaren(method, path, options);
    const received = [...requesterSaw];
    expect(received.length).toBeGreaterThan(15);
    // The reads answered, so there was something to leak.
    expect(received.filter((r) => r.what.startsWith("GET /tickets") && r.what.endsWith("-> 200")).length).toBeGreaterThanOrEqual(7);
    expectNothingHidden(received);
  });

  it("an internal note on Ken's own ticket is hidden from Ken too", async () => {
    const note = await ok(jane, "POST", `/tickets/${kensTicket.id}/comments`, { body: SECRET_NOTE, visibility: "internal" }, 201);
    expect(note.body).toMatchObject({ visibility: "internal", data: { body: SECRET_NOTE } });
    const kensView = await t.call(ken, "GET", `/tickets/${kensTicket.id}/timeline`);
    expect(kensView.status).toBe(200);
    expect(JSON.stringify(kensView.body)).not.toContain(SECRET_NOTE);
    expect(kensView.body.items.map((e: { type: string }) => e.type)).toEqual(["opened"]);
  });
});
