import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_SLA_POLICY } from "../../shared/sla/domain/policy.js";
import { PEOPLE, startTestHost, type CallResult, type TestHost } from "../support/local-host.js";

/**
 * The queue by SLA over HTTP: `sla=breached|warning|running` and `sort=due`, agents only,
 * with policies an admin PUTs (targets of a few seconds where a test waits for a timer).
 */

let t: TestHost;
let jane: string;
let ada: string;
beforeAll(async () => {
  t = await startTestHost();
  [jane, ada] = await Promise.all([t.token(PEOPLE.jane), t.token(PEOPLE.admin)]);
});
afterAll(() => t?.close());

interface Target {
  status: "running" | "paused" | "achieved" | "breached";
  dueAt: string;
}
interface Ticket {
  id: string;
  priority: string;
  requester: { id: string };
  sla: { firstResponse: Target; resolution: Target } | null;
}

const uniq = () => randomUUID().slice(0, 8);
/** A requester of the test's own: the agent's queue, filtered by them, holds that test's tickets only. */
const requester = () => t.token({ name: `Requester ${uniq()}`, email: `sla-${uniq()}@example.com` });

type Targets = Record<"firstResponse" | "resolution", { minutes: number; warnBeforeMinutes: number }>;
async function putPolicy(targets: Record<"emergency" | "high" | "normal" | "low", Targets>): Promise<void> {
  const { version: _v, calendar } = DEFAULT_SLA_POLICY;
  const always = Object.fromEntries(Object.entries(targets).map(([p, x]) => [p, { clock: "always", ...x }]));
  const res = await t.call(ada, "PUT", "/sla/policy", { body: { calendar, targets: always } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}
const target = (minutes: number, warnBeforeMinutes = 0) => ({ minutes, warnBeforeMinutes });

async function ok(res: Promise<CallResult>, status = 200): Promise<any> {
  const r = await res;
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  return r.body;
}
const open = (token: string, priority: string): Promise<Ticket> =>
  ok(t.call(token, "POST", "/tickets", { body: { subject: `SLA ${uniq()}`, description: "d", priority } }), 201);
const reply = (id: string) => ok(t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "On it.", visibility: "public" } }), 201);
const move = (id: string, body: Record<string, unknown>) => ok(t.call(jane, "POST", `/tickets/${id}/status`, { body }));
const get = (id: string): Promise<Ticket> => ok(t.call(jane, "GET", `/tickets/${id}`));

/** Every page of the agent's list, following nextCursor; fails on a page over `limit`. */
async function pages(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let count = 0;
  do {
    const q: string = `${query}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const body = await ok(t.call(jane, "GET", `/tickets?${q}`));
    expect(body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...body.items.map((x: Ticket) => x.id));
    cursor = body.nextCursor;
    count++;
    expect(count, "pages").toBeLessThan(50);
  } while (cursor);
  return { ids, pages: count };
}
const listed = async (query: string) => (await pages(query, 100)).ids;
const byId = (xs: string[]) => [...xs].sort();

/** The ticket's next due time as the contract defines it: the earliest dueAt of a running target. */
function dueOf(ticket: Ticket): string | null {
  const due = [ticket.sla!.firstResponse, ticket.sla!.resolution].filter((x) => x.status === "running").map((x) => x.dueAt);
  return due.length ? due.sort()[0]! : null;
}
const RANK: Record<string, number> = { emergency: 0, high: 1, normal: 2, low: 3 };

/** Waits for an entry of `type` in the ticket's timeline (SLA timers run on the host's in-process queue). */
async function entry(id: string, type: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const body = await ok(t.call(jane, "GET", `/tickets/${id}/timeline?limit=100`));
    if (body.items.some((e: { type: string }) => e.type === type)) return;
    if (Date.now() > until) throw new Error(`no ${type} entry on ${id} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("sort=due", () => {
  it("lists the next due time first, then priority, then id, nothing due last, across pages without gaps or repeats", async () => {
    // The lower the priority, the sooner its first response is due: an order neither priority nor age gives.
    await putPolicy({
      emergency: { firstResponse: target(50), resolution: target(100) },
      high: { firstResponse: target(30), resolution: target(90) },
      normal: { firstResponse: target(20), resolution: target(80) },
      low: { firstResponse: target(10), resolution: target(70) },
    });
    const karen = await requester();
    const h1 = await open(karen, "high");
    const l1 = await open(karen, "low");
    const n1 = await open(karen, "normal");
    // Answered: its resolution is what is due next.
    const l2 = await open(karen, "low");
    await reply(l2.id);
    // Answered, then on hold: its resolution is paused, nothing is due.
    const n2 = await open(karen, "normal");
    await reply(n2.id);
    await move(n2.id, { status: "on_hold" });
    // Resolved: both achieved, nothing due.
    const h2 = await open(karen, "high");
    await move(h2.id, { status: "resolved", resolution: "Fixed." });
    const l3 = await open(karen, "low");
    await move(l3.id, { status: "resolved", resolution: "Fixed." });
    // Triaged to emergency: re-targeted from intake.
    const e1 = await open(karen, "normal");
    await ok(t.call(jane, "PATCH", `/tickets/${e1.id}`, { body: { priority: "emergency" } }));

    const made = await Promise.all([h1, l1, n1, l2, n2, h2, l3, e1].map((x) => get(x.id)));
    const expected = [...made]
      .sort((a, b) => {
        const [da, db] = [dueOf(a), dueOf(b)];
        if (da !== db) return da === null ? 1 : db === null ? -1 : da < db ? -1 : 1;
        return RANK[a.priority]! - RANK[b.priority]! || (a.id < b.id ? -1 : 1);
      })
      .map((x) => x.id);
    // As the policy has it: first responses due at +10, +20, +30, +50 minutes, a resolution at
    // +70; then nothing due, by priority.
    expect(expected).toEqual([l1.id, n1.id, h1.id, e1.id, l2.id, h2.id, n2.id, l3.id]);

    const by = `requester=${encodeURIComponent(h1.requester.id)}&sort=due`;
    for (const limit of [1, 3, 100]) {
      const { ids, pages: count } = await pages(by, limit);
      expect(ids, `limit ${limit}`).toEqual(expected);
      expect(count).toBe(Math.ceil(expected.length / limit));
    }
    // Each page is one query (its text's plan is kept once asked for: query-plans.ts), a
    // page after a ticket with nothing due too.
    const store = t.host.standIns.embeddedCosmos()!;
    for (const after of [l1.id, h2.id]) {
      const page = await ok(t.call(jane, "GET", `/tickets?${by}&limit=${expected.indexOf(after) + 1}`));
      const next = `/tickets?${by}&limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
      await ok(t.call(jane, "GET", next));
      const before = store.requests();
      const again = await ok(t.call(jane, "GET", next));
      expect(store.requests() - before, `the page after ${after}`).toBe(1);
      expect(again.items.map((x: Ticket) => x.id)).toEqual(expected.slice(expected.indexOf(after) + 1).slice(0, 2));
    }
    // Filters apply: the ones with a clock running or paused, in the same order.
    expect(await listed(`${by}&sla=running`)).toEqual([l1.id, n1.id, h1.id, e1.id, l2.id, n2.id]);
    // The default order is another one: priority, then oldest first.
    expect(await listed(`requester=${encodeURIComponent(h1.requester.id)}`)).toEqual([
      e1.id,
      h1.id,
      h2.id,
      n1.id,
      n2.id,
      l1.id,
      l2.id,
      l3.id,
    ]);
  });

  it("moves a ticket when its due time changes", async () => {
    await putPolicy({
      emergency: { firstResponse: target(5), resolution: target(100) },
      high: { firstResponse: target(30), resolution: target(90) },
      normal: { firstResponse: target(20), resolution: target(80) },
      low: { firstResponse: target(10), resolution: target(70) },
    });
    const karen = await requester();
    const low = await open(karen, "low");
    const normal = await open(karen, "normal");
    const by = `requester=${encodeURIComponent(low.requester.id)}&sort=due`;
    expect(await listed(by)).toEqual([low.id, normal.id]);
    // An emergency's first response is due 5 minutes after intake: before the low one's 10.
    await ok(t.call(jane, "PATCH", `/tickets/${normal.id}`, { body: { priority: "emergency" } }));
    expect(await listed(by)).toEqual([normal.id, low.id]);
    // Resolved: nothing due any more.
    await move(normal.id, { status: "resolved", resolution: "Fixed." });
    expect(await listed(by)).toEqual([low.id, normal.id]);
  });
});

describe("sla=breached|warning|running", () => {
  it("splits the tickets by where their clocks stand, one state each, after the timers' warning and breach", async () => {
    await putPolicy({
      emergency: { firstResponse: target(600), resolution: target(700) },
      // Warned 3 s after intake, due a minute after: warning while this test runs.
      high: { firstResponse: target(1, 0.95), resolution: target(600) },
      // Breached 3 s after intake.
      normal: { firstResponse: target(0.05), resolution: target(600) },
      low: { firstResponse: target(600, 10), resolution: target(700, 10) },
    });
    const karen = await requester();
    const warned = await open(karen, "high");
    const breached = await open(karen, "normal");
    const running = await open(karen, "low");
    // First response achieved, resolution paused on hold: running, with nothing due.
    const paused = await open(karen, "low");
    await reply(paused.id);
    await move(paused.id, { status: "on_hold" });
    // Both achieved: none of the states.
    const done = await open(karen, "low");
    await move(done.id, { status: "resolved", resolution: "Fixed." });

    const by = `requester=${encodeURIComponent(warned.requester.id)}`;
    // Before the timers: nothing warned or breached yet.
    expect(await listed(`${by}&sla=warning,breached`)).toEqual([]);
    await Promise.all([entry(breached.id, "sla_breached"), entry(warned.id, "sla_warning")]);

    expect(await listed(`${by}&sla=breached`)).toEqual([breached.id]);
    expect(await listed(`${by}&sla=warning`)).toEqual([warned.id]);
    expect(byId(await listed(`${by}&sla=running`))).toEqual(byId([running.id, paused.id]));
    expect(byId(await listed(`${by}&sla=breached,warning`))).toEqual(byId([breached.id, warned.id]));
    expect(byId(await listed(`${by}&sla=running,warning,breached`))).toEqual(byId([breached.id, warned.id, running.id, paused.id]));
    expect(byId(await listed(by))).toEqual(byId([breached.id, warned.id, running.id, paused.id, done.id]));
    // What the filter matched is what the agent sees on the ticket.
    const [b] = (await ok(t.call(jane, "GET", `/tickets?${by}&sla=breached`))).items as Ticket[];
    expect(b!.sla!.firstResponse.status).toBe("breached");
    expect(b!.sla!.resolution.status).toBe("running");
    // With sort=due: the breached ticket's resolution is due (its first response no longer is);
    // the paused one has nothing due.
    expect(await listed(`${by}&sla=running,breached&sort=due`)).toEqual([breached.id, running.id, paused.id]);

    // Answered: the warned first response is achieved; the resolution runs on, unwarned.
    await reply(warned.id);
    expect(await listed(`${by}&sla=warning`)).toEqual([]);
    expect(byId(await listed(`${by}&sla=running`))).toEqual(byId([warned.id, running.id, paused.id]));
  });
});

describe("who may, and what is refused", () => {
  /** A problem+json of `status`; for a 400, its errors name `param` alone (an item of a list: `sla.0`). */
  function expectProblem(res: CallResult, status: number, param?: string) {
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(res.headers.get("content-type") ?? "").toMatch(/^application\/problem\+json\b/);
    expect(res.body.status).toBe(status);
    if (param) {
      const paths: string[] = res.body.errors.map((e: { path: string }) => e.path.split(".")[0]);
      expect(paths.length).toBeGreaterThan(0);
      expect(new Set(paths)).toEqual(new Set([param]));
    }
  }

  it("refuses the SLA filter and the due order to requesters (403), as the other agent-only filters", async () => {
    const karen = await requester();
    await open(karen, "normal");
    expect((await t.call(karen, "GET", "/tickets")).status).toBe(200);
    for (const [query, detail] of [
      ["?sla=breached", "Only agents may filter by SLA."],
      ["?sla=running,warning&status=open", "Only agents may filter by SLA."],
      ["?sort=due", "Only agents may sort by due time."],
      ["?sort=due&requester=me", "Only agents may sort by due time."],
    ] as const) {
      const res = await t.call(karen, "GET", `/tickets${query}`);
      expectProblem(res, 403);
      expect(res.body.detail, query).toBe(detail);
    }
  });

  it("answers 400 naming the parameter for a value it does not know", async () => {
    await open(await requester(), "normal");
    for (const [query, path] of [
      ["sla=late", "sla"],
      ["sla=breached,late", "sla"],
      ["sla=", "sla"],
      ["sla=Breached", "sla"],
      ["sort=soon", "sort"],
      ["sla=running&number=12345678", "sla"],
    ] as const) {
      expectProblem(await t.call(jane, "GET", `/tickets?${query}`), 400, path);
    }
    // A cursor belongs to its sort, and holds a position of that sort's shape.
    const priorityPage = await ok(t.call(jane, "GET", "/tickets?limit=1"));
    expect(priorityPage.nextCursor).toBeTruthy();
    expectProblem(await t.call(jane, "GET", `/tickets?sort=due&cursor=${encodeURIComponent(priorityPage.nextCursor)}`), 400, "cursor");
    const duePage = await ok(t.call(jane, "GET", "/tickets?sort=due&limit=1"));
    expect(duePage.nextCursor).toBeTruthy();
    expectProblem(await t.call(jane, "GET", `/tickets?cursor=${encodeURIComponent(duePage.nextCursor)}`), 400, "cursor");
    const forged = (key: unknown[]) => Buffer.from(JSON.stringify(["due", ...key])).toString("base64url");
    for (const key of [
      ["soon", 1, "x"],
      [1, "high", "x"],
      [1, 1],
      [null, 1, 2],
    ])
      expectProblem(await t.call(jane, "GET", `/tickets?sort=due&cursor=${forged(key)}`), 400, "cursor");
    expect((await t.call(jane, "GET", `/tickets?sort=due&cursor=${forged([null, 1, "x"])}`)).status).toBe(200);
  });
});
