import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PEOPLE, startTestHost, type TestHost } from "../support/local-host.js";

/**
 * A requester's view reveals nothing internal: their ETag and the updatedAt they see move
 * only with what they can see (a public reply, a status change), never with internal
 * notes, triage or assignment, whose fields they see as the ticket was opened; If-Match
 * compares against their own ETag; they see agents by name only, never by directory id.
 */
let t: TestHost;
let karen: string;
let jane: string;
beforeAll(async () => {
  t = await startTestHost();
  [karen, jane] = await Promise.all([t.token({ name: "Karen Viewer", email: "karen.viewer@example.com" }), t.token(PEOPLE.jane)]);
});
afterAll(() => t.close());

/** Jane's directory id: she is known to the directory from her first call. */
async function knownJane(): Promise<string> {
  await t.call(jane, "GET", "/agents");
  return (await t.call(jane, "GET", "/agents")).body.items.find((a: { name: string }) => a.name === PEOPLE.jane.name).id as string;
}

async function openOne() {
  const opened = await t.call(karen, "POST", "/tickets", { body: { subject: "Printer", description: "jams" } });
  expect(opened.status).toBe(201);
  return opened.body as { id: string };
}

describe("what a requester sees", () => {
  it("internal notes change neither their ETag nor their updatedAt; a public reply changes both", async () => {
    const { id } = await openOne();
    const before = await t.call(karen, "GET", `/tickets/${id}`);
    const agentBefore = await t.call(jane, "GET", `/tickets/${id}`);
    for (const body of ["note one", "note two"]) {
      expect((await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body, visibility: "internal" } })).status).toBe(201);
    }
    const after = await t.call(karen, "GET", `/tickets/${id}`);
    expect(after.headers.get("etag")).toBe(before.headers.get("etag"));
    expect(after.body.updatedAt).toBe(before.body.updatedAt);
    // Agents see the notes as changes.
    expect((await t.call(jane, "GET", `/tickets/${id}`)).headers.get("etag")).not.toBe(agentBefore.headers.get("etag"));

    expect((await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "On it.", visibility: "public" } })).status).toBe(201);
    const replied = await t.call(karen, "GET", `/tickets/${id}`);
    expect(replied.headers.get("etag")).not.toBe(before.headers.get("etag"));
    expect(Date.parse(replied.body.updatedAt)).toBeGreaterThan(Date.parse(before.body.updatedAt));
  });

  it("If-Match compares against the requester's own ETag: internal notes do not make it stale", async () => {
    const { id } = await openOne();
    const etag = (await t.call(karen, "GET", `/tickets/${id}`)).headers.get("etag")!;
    await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "psst", visibility: "internal" } });
    const reply = await t.call(karen, "POST", `/tickets/${id}/comments`, { body: { body: "any news?" }, headers: { "if-match": etag } });
    expect(reply.status).toBe(201);
    // Her reply is a change she sees: the old ETag is stale now.
    const late = await t.call(karen, "POST", `/tickets/${id}/status`, {
      body: { status: "closed", resolution: "ok" },
      headers: { "if-match": etag },
    });
    expect(late.status).toBe(412);
  });

  it("triage and assignment change neither their ETag, nor their updatedAt, nor anything else they get", async () => {
    const { id } = await openOne();
    const janeId = await knownJane();
    const before = await t.call(karen, "GET", `/tickets/${id}`);
    const list = async () => (await t.call(karen, "GET", "/tickets?limit=100")).body.items.find((x: { id: string }) => x.id === id);
    const listedBefore = await list();
    const changes: [string, string, unknown][] = [
      ["PATCH", "", { priority: "high", reason: "VIP" }],
      ["PATCH", "", { severity: "SEV-B", category: "printers", subject: "Printer 3F jams" }],
      ["PUT", "/assignee", { agentId: janeId }],
      ["DELETE", "/assignee", undefined],
      ["PUT", "/assignee", { agentId: janeId }],
    ];
    for (const [method, suffix, body] of changes) {
      const res = await t.call(jane, method, `/tickets/${id}${suffix}`, body === undefined ? {} : { body });
      expect(res.status, `${method} ${suffix}`).toBe(200);
    }
    const after = await t.call(karen, "GET", `/tickets/${id}`);
    expect(after.headers.get("etag")).toBe(before.headers.get("etag"));
    expect(after.body).toEqual(before.body);
    expect(after.body).toMatchObject({ subject: "Printer", priority: "normal", severity: null, category: null, assignee: null });
    expect(await list()).toEqual(listedBefore);
    // Her If-Match still holds.
    const reply = await t.call(karen, "POST", `/tickets/${id}/comments`, {
      body: { body: "any news?" },
      headers: { "if-match": before.headers.get("etag")! },
    });
    expect(reply.status).toBe(201);
    // The agents see it all.
    expect((await t.call(jane, "GET", `/tickets/${id}`)).body).toMatchObject({
      subject: "Printer 3F jams",
      priority: "high",
      severity: "SEV-B",
      category: "printers",
      assignee: { id: janeId },
    });
  });

  it("lists by the priority they see, and may not filter by what triage or assignment set", async () => {
    const low = await openOne();
    await openOne();
    expect((await t.call(jane, "PATCH", `/tickets/${low.id}`, { body: { priority: "emergency" } })).status).toBe(200);
    const mine = async (q: string) => (await t.call(karen, "GET", `/tickets?limit=100${q}`)).body.items.map((x: { id: string }) => x.id);
    expect(await mine("&priority=emergency")).not.toContain(low.id);
    expect(await mine("&priority=normal")).toContain(low.id);
    // Paged one at a time, her cursors hold the priority she sees, never the triaged one.
    const page = await t.call(karen, "GET", `/tickets?number=${(await t.call(karen, "GET", `/tickets/${low.id}`)).body.number}`);
    expect(page.body.items[0].priority).toBe("normal");
    let cursor: string | null = null;
    const ranks = new Map<string, number>();
    do {
      const res = await t.call(karen, "GET", `/tickets?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
      cursor = res.body.nextCursor as string | null;
      const [sort, rank, , id] = cursor
        ? (JSON.parse(Buffer.from(cursor, "base64url").toString()) as [string, number, string, string])
        : [];
      if (sort) ranks.set(id!, rank!);
    } while (cursor);
    expect(ranks.get(low.id)).toBe(2); // normal's rank; emergency's is 0
    for (const q of ["?severity=SEV-A", "?assignee=none", "?assignee=me"]) {
      const res = await t.call(karen, "GET", `/tickets${q}`);
      expect(res.status, q).toBe(403);
      expect(res.body.detail).toBe("Only agents may filter by severity or assignee.");
    }
  });

  it("sees the agents of the timeline by name only, never by directory id, and no assignee", async () => {
    const { id } = await openOne();
    const janeId = await knownJane();
    expect((await t.call(jane, "PUT", `/tickets/${id}/assignee`, { body: { agentId: janeId } })).status).toBe(200);
    await t.call(jane, "POST", `/tickets/${id}/comments`, { body: { body: "Looking into it.", visibility: "public" } });
    const mine = await t.call(karen, "GET", `/tickets/${id}`);
    expect(mine.body.assignee).toBeNull();
    const timeline = await t.call(karen, "GET", `/tickets/${id}/timeline`);
    const byJane = (timeline.body.items as { actor: { id?: string; name: string; role: string } }[]).filter(
      (e) => e.actor.role !== "requester",
    );
    expect(byJane.map((e) => e.actor)).toEqual([{ name: PEOPLE.jane.name, role: "agent" }]);
    for (const body of [mine.body, timeline.body]) expect(JSON.stringify(body)).not.toContain(janeId);
    // Agents still see the id.
    expect((await t.call(jane, "GET", `/tickets/${id}`)).body.assignee).toEqual({ id: janeId, name: PEOPLE.jane.name });
  });
});
