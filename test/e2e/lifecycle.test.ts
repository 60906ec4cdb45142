import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestHost, type CallResult, type TestHost } from "../support/local-host.js";

/**
 * The lifecycle table of DESIGN.md section 2 and the queue and timeline of
 * section 3, driven over HTTP by agents and ticket owners.
 */

let t: TestHost;
beforeAll(async () => {
  t = await startTestHost();
});
afterAll(() => t.close());

interface Ticket {
  id: string;
  subject: string;
  status: string;
  priority: string;
  severity: string | null;
  requester: { id: string; name: string; email: string | null };
  assignee: { id: string; name: string } | null;
  resolution: string | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  closedAt: string | null;
}

interface Entry {
  id: string;
  type: string;
  at: string;
  actor: { id: string; name: string; role: string };
  visibility: string;
  data: Record<string, unknown>;
}

const uniq = () => randomUUID().slice(0, 8);
const requester = (label = "req") => t.token({ name: `Requester ${label}`, email: `${label}-${uniq()}@example.com` });
const agent = (label = "agent") => t.token({ name: `Agent ${label} ${uniq()}`, email: `${label}-${uniq()}@example.com`, role: "agent" });
/**
 * Waits until the clock has passed `at` (an ISO time the host stamped): the next ticket is
 * then strictly younger, so "oldest first" has one answer. The host shares this process's
 * clock; HTTP round trips usually take longer than a millisecond already.
 */
async function clockPast(at: string): Promise<void> {
  while (Date.now() <= Date.parse(at)) await new Promise((r) => setImmediate(r));
}

async function open(token: string, extra: Record<string, unknown> = {}): Promise<Ticket> {
  const res = await t.call(token, "POST", "/tickets", {
    body: { subject: `Ticket ${uniq()}`, description: "Something is wrong.", ...extra },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const move = (token: string, id: string, body: Record<string, unknown>) => t.call(token, "POST", `/tickets/${id}/status`, { body });

async function moveOk(token: string, id: string, body: Record<string, unknown>): Promise<Ticket> {
  const res = await move(token, id, body);
  expect(res.status, `${JSON.stringify(body)} -> ${JSON.stringify(res.body)}`).toBe(200);
  expect(res.body.status).toBe(body.status);
  expect(res.headers.get("etag")).toBeTruthy();
  return res.body;
}

async function get(token: string, id: string): Promise<Ticket> {
  const res = await t.call(token, "GET", `/tickets/${id}`);
  expect(res.status).toBe(200);
  return res.body;
}

async function comment(token: string, id: string, body: string, visibility: "public" | "internal" = "public"): Promise<CallResult> {
  const res = await t.call(token, "POST", `/tickets/${id}/comments`, { body: { body, visibility } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res;
}

async function timeline(token: string, id: string): Promise<Entry[]> {
  const res = await t.call(token, "GET", `/tickets/${id}/timeline?limit=100`);
  expect(res.status).toBe(200);
  return res.body.items;
}

async function triage(token: string, id: string, body: Record<string, unknown>): Promise<Ticket> {
  const res = await t.call(token, "PATCH", `/tickets/${id}`, { body });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** A ticket brought to `status` by an agent through allowed moves. */
async function ticketIn(status: string, owner: string, a: string): Promise<Ticket> {
  const ticket = await open(owner);
  const paths: Record<string, Record<string, unknown>[]> = {
    open: [],
    in_progress: [{ status: "in_progress" }],
    on_hold: [{ status: "on_hold" }],
    resolved: [{ status: "resolved", resolution: "Fixed it." }],
    closed: [{ status: "closed", resolution: "Done." }],
  };
  for (const step of paths[status]!) await moveOk(a, ticket.id, step);
  return get(a, ticket.id);
}

function expectProblem(res: CallResult, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json\b/);
  expect(res.body.status).toBe(status);
}

async function agentId(token: string, lister: string): Promise<string> {
  // The agent becomes known by calling the API once.
  expect((await t.call(token, "GET", "/tickets?limit=1")).status).toBe(200);
  const claims = JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString("utf8"));
  const res = await t.call(lister, "GET", "/agents");
  expect(res.status).toBe(200);
  const items: { id: string; name: string }[] = Array.isArray(res.body) ? res.body : res.body.items;
  const found = items.find((x) => x.name === claims.name);
  expect(found, `agent ${claims.name} in GET /agents`).toBeDefined();
  return found!.id;
}

async function listAll(token: string, query: string): Promise<Ticket[]> {
  const res = await t.call(token, "GET", `/tickets?${query}&limit=100`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.items;
}

const ids = (items: { id: string }[]) => items.map((x) => x.id);
const sorted = (xs: string[]) => [...xs].sort();

describe("lifecycle table: agent moves", () => {
  it("open -> in_progress -> on_hold -> in_progress -> resolved -> closed, each visible on GET", async () => {
    const a = await agent();
    const ticket = await open(await requester());
    await moveOk(a, ticket.id, { status: "in_progress" });
    await moveOk(a, ticket.id, { status: "on_hold", reason: "Waiting for a part" });
    await moveOk(a, ticket.id, { status: "in_progress" });
    const resolved = await moveOk(a, ticket.id, { status: "resolved", resolution: "Replaced the toner." });
    expect(resolved.resolution).toBe("Replaced the toner.");
    expect(resolved.resolvedAt).toMatch(/Z$/);
    expect(resolved.closedAt).toBeNull();
    const closed = await moveOk(a, ticket.id, { status: "closed" });
    expect(closed.closedAt).toMatch(/Z$/);
    expect(closed.resolution).toBe("Replaced the toner.");
    expect((await get(a, ticket.id)).status).toBe("closed");

    const moves = (await timeline(a, ticket.id)).filter((e) => e.type === "status_changed").map((e) => [e.data.from, e.data.to]);
    expect(moves).toEqual([
      ["open", "in_progress"],
      ["in_progress", "on_hold"],
      ["on_hold", "in_progress"],
      ["in_progress", "resolved"],
      ["resolved", "closed"],
    ]);
  });

  it("open -> on_hold -> resolved, open -> resolved, and on_hold -> closed with a resolution", async () => {
    const a = await agent();
    const owner = await requester();
    const one = await open(owner);
    await moveOk(a, one.id, { status: "on_hold" });
    await moveOk(a, one.id, { status: "resolved", resolution: "Fixed" });
    const two = await open(owner);
    await moveOk(a, two.id, { status: "resolved", resolution: "Fixed at once" });
    const three = await ticketIn("on_hold", owner, a);
    await moveOk(a, three.id, { status: "closed", resolution: "Abandoned" });
  });

  it("an agent reopens a resolved and a closed ticket", async () => {
    const a = await agent();
    const owner = await requester();
    const resolved = await ticketIn("resolved", owner, a);
    const reopened = await moveOk(a, resolved.id, { status: "open", reason: "Came back" });
    expect(reopened.status).toBe("open");
    const closed = await ticketIn("closed", owner, a);
    expect((await moveOk(a, closed.id, { status: "open" })).closedAt).toBeNull();
  });

  it("moves outside the table are 409 and leave the ticket as it was", async () => {
    const a = await agent();
    const owner = await requester();
    const cells: [string, string][] = [
      ["open", "open"],
      ["in_progress", "open"],
      ["in_progress", "in_progress"],
      ["on_hold", "open"],
      ["on_hold", "on_hold"],
      ["resolved", "in_progress"],
      ["resolved", "on_hold"],
      ["resolved", "resolved"],
      ["closed", "in_progress"],
      ["closed", "on_hold"],
      ["closed", "resolved"],
      ["closed", "closed"],
    ];
    for (const [from, to] of cells) {
      const ticket = await ticketIn(from, owner, a);
      const res = await move(a, ticket.id, { status: to, resolution: "Some text" });
      expect(res.status, `${from} -> ${to}`).toBe(409);
      expectProblem(res, 409);
      const after = await get(a, ticket.id);
      expect(after.status).toBe(from);
      expect(after.updatedAt).toBe(ticket.updatedAt);
    }
  });
});

describe("lifecycle table: owner moves", () => {
  it("the owner closes their open ticket (with a resolution) and reopens it", async () => {
    const owner = await requester();
    const ticket = await open(owner);
    const closed = await moveOk(owner, ticket.id, { status: "closed", resolution: "Found it myself." });
    expect(closed.resolution).toBe("Found it myself.");
    const reopened = await moveOk(owner, ticket.id, { status: "open", reason: "It is back" });
    expect(reopened.closedAt).toBeNull();
  });

  it("the owner closes an in_progress and an on_hold ticket", async () => {
    const a = await agent();
    const owner = await requester();
    const one = await ticketIn("in_progress", owner, a);
    await moveOk(owner, one.id, { status: "closed", resolution: "No longer needed" });
    const two = await ticketIn("on_hold", owner, a);
    await moveOk(owner, two.id, { status: "closed", resolution: "No longer needed" });
  });

  it("the owner reopens a resolved ticket, and closes a resolved one without a resolution", async () => {
    const a = await agent();
    const owner = await requester();
    const one = await ticketIn("resolved", owner, a);
    await moveOk(owner, one.id, { status: "open" });
    const two = await ticketIn("resolved", owner, a);
    const closed = await moveOk(owner, two.id, { status: "closed" });
    expect(closed.resolution).toBe("Fixed it.");
  });

  it("agent-only cells are refused to the owner and leave the ticket as it was", async () => {
    const a = await agent();
    const owner = await requester();
    const cells: [string, string][] = [
      ["open", "in_progress"],
      ["open", "on_hold"],
      ["open", "resolved"],
      ["in_progress", "on_hold"],
      ["in_progress", "resolved"],
      ["on_hold", "in_progress"],
      ["on_hold", "resolved"],
    ];
    for (const [from, to] of cells) {
      const ticket = await ticketIn(from, owner, a);
      const res = await move(owner, ticket.id, { status: to, resolution: "Done" });
      // The move exists, but not for them: 403 (DESIGN.md section 3), not 409.
      expectProblem(res, 403);
      expect((await get(owner, ticket.id)).status).toBe(from);
    }
  });

  it("the owner's moves outside the table are 409 (closed -> resolved, open -> open)", async () => {
    const a = await agent();
    const owner = await requester();
    const closed = await ticketIn("closed", owner, a);
    expectProblem(await move(owner, closed.id, { status: "resolved", resolution: "x" }), 409);
    const opened = await open(owner);
    expectProblem(await move(owner, opened.id, { status: "open" }), 409);
  });
});

describe("resolution required", () => {
  it("entering resolved without a resolution is 400 naming resolution, from every state", async () => {
    const a = await agent();
    const owner = await requester();
    for (const from of ["open", "in_progress", "on_hold"]) {
      const ticket = await ticketIn(from, owner, a);
      const res = await move(a, ticket.id, { status: "resolved" });
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain("resolution");
      expect((await get(a, ticket.id)).status).toBe(from);
    }
  });

  it("closing from open without a resolution is 400, for the agent and for the owner", async () => {
    const a = await agent();
    const owner = await requester();
    const ticket = await open(owner);
    for (const who of [a, owner]) {
      const res = await move(who, ticket.id, { status: "closed" });
      expectProblem(res, 400);
      expect(res.body.errors.map((e: { path: string }) => e.path)).toContain("resolution");
    }
    expect((await get(a, ticket.id)).status).toBe("open");
    const blank = await move(a, ticket.id, { status: "closed", resolution: "" });
    expectProblem(blank, 400);
  });

  it("closing from in_progress without a resolution is 400; closing from resolved needs none", async () => {
    const a = await agent();
    const owner = await requester();
    const busy = await ticketIn("in_progress", owner, a);
    expectProblem(await move(a, busy.id, { status: "closed" }), 400);
    const resolved = await ticketIn("resolved", owner, a);
    await moveOk(a, resolved.id, { status: "closed" });
  });
});

describe("comments move the ticket", () => {
  it("the owner's public reply moves on_hold -> in_progress", async () => {
    const a = await agent();
    const owner = await requester();
    const ticket = await ticketIn("on_hold", owner, a);
    await comment(owner, ticket.id, "Here is the screenshot you asked for.");
    expect((await get(a, ticket.id)).status).toBe("in_progress");
    const last = (await timeline(a, ticket.id)).filter((e) => e.type === "status_changed").at(-1)!;
    expect(last.data).toMatchObject({ from: "on_hold", to: "in_progress" });
  });

  it("the owner's public reply reopens a resolved ticket", async () => {
    const a = await agent();
    const owner = await requester();
    const ticket = await ticketIn("resolved", owner, a);
    await comment(owner, ticket.id, "It is still broken.");
    const after = await get(owner, ticket.id);
    expect(after.status).toBe("open");
    const last = (await timeline(owner, ticket.id)).filter((e) => e.type === "status_changed").at(-1)!;
    expect(last.data).toMatchObject({ from: "resolved", to: "open" });
  });

  it("an agent's public reply or internal note moves neither an on_hold nor a resolved ticket", async () => {
    const a = await agent();
    const owner = await requester();
    const held = await ticketIn("on_hold", owner, a);
    await comment(a, held.id, "Any update?");
    await comment(a, held.id, "Chasing the vendor", "internal");
    expect((await get(a, held.id)).status).toBe("on_hold");
    const resolved = await ticketIn("resolved", owner, a);
    await comment(a, resolved.id, "Glad it works.");
    expect((await get(a, resolved.id)).status).toBe("resolved");
  });

  it("the owner's reply on an open or in_progress ticket leaves the status alone", async () => {
    const a = await agent();
    const owner = await requester();
    const busy = await ticketIn("in_progress", owner, a);
    await comment(owner, busy.id, "Thanks");
    expect((await get(a, busy.id)).status).toBe("in_progress");
  });

  it("a closed ticket takes comments again once the owner reopens it", async () => {
    const a = await agent();
    const owner = await requester();
    const ticket = await ticketIn("closed", owner, a);
    expectProblem(await t.call(owner, "POST", `/tickets/${ticket.id}/comments`, { body: { body: "Hello?", visibility: "public" } }), 409);
    await moveOk(owner, ticket.id, { status: "open" });
    const res = await comment(owner, ticket.id, "Hello?");
    expect(res.body).toMatchObject({ type: "comment", visibility: "public", data: { body: "Hello?" } });
  });
});

describe("assignment", () => {
  it("an agent who called the API is listed by GET /agents and can be assigned, then unassigned", async () => {
    const qa = await agent("qa");
    const jane = await agent("jane");
    const janeId = await agentId(jane, qa);
    const ticket = await open(await requester());

    const assigned = await t.call(qa, "PUT", `/tickets/${ticket.id}/assignee`, { body: { agentId: janeId } });
    expect(assigned.status, JSON.stringify(assigned.body)).toBe(200);
    expect(assigned.body.assignee).toEqual({ id: janeId, name: expect.stringMatching(/^Agent jane /) });
    expect(assigned.headers.get("etag")).toBeTruthy();
    expect((await get(qa, ticket.id)).assignee?.id).toBe(janeId);

    const unassigned = await t.call(qa, "DELETE", `/tickets/${ticket.id}/assignee`);
    expect(unassigned.status).toBe(200);
    expect(unassigned.body.assignee).toBeNull();
    expect((await get(qa, ticket.id)).assignee).toBeNull();

    const types = (await timeline(qa, ticket.id)).map((e) => e.type);
    expect(types).toEqual(["opened", "assigned", "unassigned"]);
  });

  it("assigning to an id no agent has used is refused and the ticket stays unassigned", async () => {
    const qa = await agent("qa");
    const ticket = await open(await requester());
    const res = await t.call(qa, "PUT", `/tickets/${ticket.id}/assignee`, { body: { agentId: `ghost-${uniq()}` } });
    // An agentId that names no agent is an invalid field (DESIGN.md section 3: 400).
    expectProblem(res, 400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual(["agentId"]);
    expect((await get(qa, ticket.id)).assignee).toBeNull();
  });

  it("a requester is not listed by GET /agents", async () => {
    const qa = await agent("qa");
    const karen = await requester("karen-not-agent");
    expect((await t.call(karen, "GET", "/tickets")).status).toBe(200);
    const res = await t.call(qa, "GET", "/agents");
    const items: { name: string }[] = Array.isArray(res.body) ? res.body : res.body.items;
    expect(items.map((x) => x.name)).not.toContain("Requester karen-not-agent");
  });
});

describe("queue", () => {
  it("filters by status, priority, severity, assignee (me, none, id) and requester", async () => {
    const a1 = await agent("a1");
    const a2 = await agent("a2");
    const a2Id = await agentId(a2, a1);
    const a1Id = await agentId(a1, a1);
    const owner = await requester("queue-owner");
    const other = await requester("queue-other");

    const low = await open(owner, { priority: "low" });
    const sevA = await open(owner);
    await triage(a1, sevA.id, { severity: "SEV-A" });
    const high = await open(owner, { priority: "high" });
    await moveOk(a1, high.id, { status: "in_progress" });
    const emergency = await open(owner);
    await triage(a1, emergency.id, { priority: "emergency" });
    expect((await t.call(a1, "PUT", `/tickets/${emergency.id}/assignee`, { body: { agentId: a1Id } })).status).toBe(200);
    const held = await open(owner);
    await moveOk(a1, held.id, { status: "on_hold" });
    expect((await t.call(a1, "PUT", `/tickets/${held.id}/assignee`, { body: { agentId: a2Id } })).status).toBe(200);
    const notMine = await open(other);

    const by = `requester=${encodeURIComponent(low.requester.id)}`;
    expect(sorted(ids(await listAll(a1, by)))).toEqual(sorted([low.id, sevA.id, high.id, emergency.id, held.id]));
    expect(sorted(ids(await listAll(a1, `${by}&status=open`)))).toEqual(sorted([low.id, sevA.id, emergency.id]));
    expect(sorted(ids(await listAll(a1, `${by}&status=in_progress,on_hold`)))).toEqual(sorted([high.id, held.id]));
    expect(ids(await listAll(a1, `${by}&priority=emergency`))).toEqual([emergency.id]);
    expect(sorted(ids(await listAll(a1, `${by}&priority=low,high`)))).toEqual(sorted([low.id, high.id]));
    expect(ids(await listAll(a1, `${by}&severity=SEV-A`))).toEqual([sevA.id]);
    expect(ids(await listAll(a1, `${by}&assignee=me`))).toEqual([emergency.id]);
    expect(ids(await listAll(a2, `${by}&assignee=me`))).toEqual([held.id]);
    expect(ids(await listAll(a1, `${by}&assignee=${encodeURIComponent(a2Id)}`))).toEqual([held.id]);
    expect(sorted(ids(await listAll(a1, `${by}&assignee=none`)))).toEqual(sorted([low.id, sevA.id, high.id]));
    expect(sorted(ids(await listAll(a1, `${by}&assignee=none&status=open`)))).toEqual(sorted([low.id, sevA.id]));

    // The owner: requester=me, and without a filter, is exactly their own tickets.
    expect(sorted(ids(await listAll(owner, "requester=me")))).toEqual(sorted([low.id, sevA.id, high.id, emergency.id, held.id]));
    expect(sorted(ids(await listAll(owner, "status=open,in_progress,on_hold,resolved,closed")))).toEqual(
      sorted([low.id, sevA.id, high.id, emergency.id, held.id]),
    );
    expect(ids(await listAll(other, "requester=me"))).toEqual([notMine.id]);
    // Filters apply to a requester's own queue too.
    expect(ids(await listAll(owner, "requester=me&status=on_hold"))).toEqual([held.id]);

    // An agent's requester=me is the tickets the agent opened.
    const agentsOwn = await open(a2);
    expect(ids(await listAll(a2, "requester=me"))).toEqual([agentsOwn.id]);
  });

  it("orders emergency first, then high, normal, low, then oldest first", async () => {
    const a = await agent();
    const owner = await requester("order");
    const made: Ticket[] = [];
    for (const priority of ["low", "normal", "high", "normal", "low", "high", "normal"]) {
      made.push(await open(owner, { priority }));
      await clockPast(made.at(-1)!.createdAt);
    }
    const created = made.map((m) => Date.parse(m.createdAt));
    expect(new Set(created).size).toBe(made.length);
    // Triage makes the 4th ticket (a normal) and the 7th an emergency.
    await triage(a, made[3]!.id, { priority: "emergency" });
    await triage(a, made[6]!.id, { priority: "emergency" });
    const [l1, n1, h1, e1, l2, h2, e2] = made.map((m) => m.id);
    expect(ids(await listAll(a, `requester=${encodeURIComponent(made[0]!.requester.id)}`))).toEqual([e1, e2, h1, h2, n1, l1, l2]);
    // The owner's list is in the order of the priorities they see: triage is not theirs to see.
    expect(ids(await listAll(owner, "requester=me"))).toEqual([h1, h2, n1, e1, e2, l1, l2]);
  });

  it("pages with limit and nextCursor: no gaps, no repeats, same order as one page", async () => {
    const owner = await requester("pages");
    const priorities = ["low", "high", "normal", "low", "normal", "high", "normal", "low"];
    for (const priority of priorities) {
      await clockPast((await open(owner, { priority })).createdAt);
    }
    const whole = await listAll(owner, "requester=me");
    expect(whole).toHaveLength(8);

    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/tickets?requester=me&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await t.call(owner, "GET", q);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      pages.push(ids(res.body.items));
      cursor = res.body.nextCursor;
      expect(pages.length).toBeLessThan(10);
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    expect(pages.flat()).toEqual(ids(whole));
    expect(new Set(pages.flat()).size).toBe(8);
  });

  it("pages stay gap- and repeat-free when tickets are opened between pages", async () => {
    const a = await agent();
    const owner = await requester("pages-moving");
    for (const priority of ["normal", "low", "high", "normal", "low", "normal"]) {
      await clockPast((await open(owner, { priority })).createdAt);
    }
    const before = ids(await listAll(owner, "requester=me"));
    const first = await t.call(owner, "GET", "/tickets?requester=me&limit=2");
    expect(first.body.items).toHaveLength(2);
    // New tickets land ahead of and behind the cursor.
    const ahead = await open(owner);
    await triage(a, ahead.id, { priority: "emergency" });
    await open(owner, { priority: "high" });
    await open(owner, { priority: "low" });
    const seen = ids(first.body.items);
    let cursor: string | null = first.body.nextCursor;
    while (cursor) {
      const res = await t.call(owner, "GET", `/tickets?requester=me&limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body.items));
      cursor = res.body.nextCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of before) expect(seen).toContain(id);
  });

  it("limit defaults to 25", async () => {
    const owner = await requester("default-limit");
    await Promise.all(Array.from({ length: 27 }, () => open(owner)));
    const res = await t.call(owner, "GET", "/tickets?requester=me");
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(25);
    expect(typeof res.body.nextCursor).toBe("string");
    const rest = await t.call(owner, "GET", `/tickets?requester=me&cursor=${encodeURIComponent(res.body.nextCursor)}`);
    expect(rest.body.items).toHaveLength(2);
    expect(rest.body.nextCursor).toBeNull();
  });
});

describe("timeline", () => {
  it("is oldest first, with {id, type, at, actor, visibility, data}, and pages without gaps or repeats", async () => {
    const a = await agent("tl");
    const owner = await requester("tl-owner");
    const ticket = await open(owner);
    const bodies = ["first", "second", "third", "fourth", "fifth"];
    // Entries are ordered by their sequence on the ticket, not by their times.
    for (const [i, body] of bodies.entries()) await comment(i % 2 ? a : owner, ticket.id, body);
    await moveOk(a, ticket.id, { status: "in_progress" });

    // The agents' timeline has the SLA clock's internal entry too: the first agent reply answered the ticket.
    const whole = await timeline(a, ticket.id);
    expect(whole.map((e) => e.type)).toEqual([
      "opened",
      "comment",
      "comment",
      "sla_achieved",
      "comment",
      "comment",
      "comment",
      "status_changed",
    ]);
    const all = whole.filter((e) => e.visibility === "public");
    expect(all.filter((e) => e.type === "comment").map((e) => e.data.body)).toEqual(bodies);
    for (const e of all) {
      expect(e).toMatchObject({ id: expect.any(String), type: expect.any(String), at: expect.stringMatching(/Z$/), visibility: "public" });
      expect(e.actor).toEqual({
        id: expect.any(String),
        name: expect.any(String),
        role: expect.stringMatching(/^(requester|agent|admin)$/),
      });
    }
    const times = all.map((e) => Date.parse(e.at));
    expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(all[0]!.actor).toMatchObject({ id: ticket.requester.id, role: "requester" });
    expect(all[2]!.actor.role).toBe("agent");
    expect(all.at(-1)!.data).toMatchObject({ from: "open", to: "in_progress" });

    for (const who of [a, owner]) {
      const paged: Entry[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const q: string = `/tickets/${ticket.id}/timeline?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
        const res = await t.call(who, "GET", q);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(2);
        paged.push(...res.body.items);
        cursor = res.body.nextCursor;
        pages++;
        expect(pages).toBeLessThan(10);
      } while (cursor);
      expect(pages).toBe(4);
      // The owner sees the same entries, with the agents by name and role only (no directory id).
      const asSeen =
        who === a
          ? whole
          : all.map((e) => (e.actor.role === "requester" ? e : { ...e, actor: { name: e.actor.name, role: e.actor.role } }));
      expect(paged).toEqual(asSeen);
    }
  });
});
